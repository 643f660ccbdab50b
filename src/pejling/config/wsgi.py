"""The WSGI application. Importing it also warms the process up (``warm_up``), so a server
that loads the application before forking its workers (``pejling serve`` runs gunicorn with
``--preload``) pays for the URL configuration, the API's schemas, the translation catalogues and
the compiled templates once, in the master: the first request of a worker costs about as much
as any other, and the workers share those pages of memory."""

import os
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pejling.config.settings")
application = get_wsgi_application()


def warm_up() -> None:
    """Load what every first request would otherwise load (nothing that opens a connection
    or starts a thread: the workers are forked after this)."""
    from contextlib import suppress
    from importlib import import_module
    from pathlib import Path

    from django.apps import apps
    from django.conf import settings
    from django.core import signing
    from django.template import TemplateDoesNotExist, TemplateSyntaxError
    from django.template.loader import get_template
    from django.urls import get_resolver
    from django.utils import translation
    from django.utils.module_loading import import_string
    from django.utils.translation.trans_real import parse_accept_lang_header

    # Imported, or looked up on disk, at the first request that needs them.
    import_string(settings.CACHES["default"]["BACKEND"])
    import_string(settings.MESSAGE_STORAGE)
    import_module(settings.SESSION_ENGINE)
    signing.get_cookie_signer()
    # A model's first instance looks up (and keeps) the receivers of its signals.
    for model in apps.get_models():
        with suppress(Exception):
            model()

    resolver = get_resolver()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Indicators")  # loads the catalogue
            _compile_patterns(resolver.url_patterns)  # imports every view module and the API
            resolver.reverse_dict  # noqa: B018 - filled per language
            parse_accept_lang_header(code)
            translation.check_for_language(code)  # the locale directories, on disk
            translation.get_supported_language_variant(code)
    templates = Path(__file__).resolve().parent.parent / "templates"
    for file in templates.rglob("*.html"):
        try:
            get_template(str(file.relative_to(templates)))
        except (TemplateDoesNotExist, TemplateSyntaxError):  # pragma: no cover - reported on use
            continue


def _compile_patterns(patterns: list[Any]) -> None:
    """Compile every URL pattern's regular expression, which Django does at its first match
    in each language."""
    for entry in patterns:
        entry.pattern.regex  # noqa: B018
        if hasattr(entry, "url_patterns"):
            _compile_patterns(entry.url_patterns)


if os.environ.get("PEJLING_WARM_UP", "1") != "0":
    warm_up()


def warm_database() -> None:
    """Run once the queries nearly every request makes (the data generation, a token's lookup
    with its owner, a session's), on this process's own connection: the ORM compiles them
    (and the regular expressions it compiles lazily) and the database server loads what it
    knows of their tables, before the first request rather than in it. Called by each server
    worker after it connects (``config/gunicorn.py: post_worker_init``)."""
    from contextlib import suppress

    from django.contrib.sessions.backends.db import SessionStore

    from pejling.api.tokens import PREFIX, TokenProblem, token_check
    from pejling.core import generation

    generation.current()
    with suppress(TokenProblem):
        token_check(PREFIX + "warm-up")
    SessionStore(session_key="warm-up" + "0" * 25).load()
    # And the worker checks it is alive once, through the whole application (every
    # middleware), as the load balancer's first check would: counted as one, never logged.
    _get("/health/live")


def _get(path: str) -> None:
    """One GET of ``path`` through the application, its answer thrown away."""
    import sys
    from io import BytesIO

    from django.conf import settings

    host = next(
        ("localhost" if h == "*" else h.lstrip(".") for h in settings.ALLOWED_HOSTS),
        "localhost",
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }

    def start_response(*_args: Any) -> Any:
        return None

    response = application(environ, start_response)
    try:
        for _chunk in response:
            pass
    finally:
        response.close()
