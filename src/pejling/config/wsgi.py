"""The WSGI application. Importing it also warms the process up (``warm_up``), so a server
that loads the application before forking its workers (``pejling serve`` runs gunicorn with
``--preload``) pays for the URL configuration, the API's schemas, the translation catalogues and
the compiled templates once, in the master: the first request of a worker costs about as much
as any other, and the workers share those pages of memory."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pejling.config.settings")
application = get_wsgi_application()


def warm_up() -> None:
    """Load what every first request would otherwise load (nothing that opens a connection
    or starts a thread: the workers are forked after this)."""
    from pathlib import Path

    from django.conf import settings
    from django.template import TemplateDoesNotExist, TemplateSyntaxError
    from django.template.loader import get_template
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 - imports every view module and the API
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Indicators")  # loads the catalogue
    templates = Path(__file__).resolve().parent.parent / "templates"
    for file in templates.rglob("*.html"):
        try:
            get_template(str(file.relative_to(templates)))
        except (TemplateDoesNotExist, TemplateSyntaxError):  # pragma: no cover - reported on use
            continue


if os.environ.get("PEJLING_WARM_UP", "1") != "0":
    warm_up()
