"""The single sign-on routes, with the SAML and OpenID Connect libraries imported only when used.

pysaml2 (with its XML schemas) and mozilla-django-oidc take seconds to import, and most
installations configure at most one of them. These routes keep the URL names and paths of
djangosaml2's and mozilla-django-oidc's own URL configurations, answer 404 while their sign-on
is off, exactly as the real views do, and import the real view at its first use when it is on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt

View = Callable[..., HttpResponse]


def lazy_view(
    dotted: str | Callable[[], str],
    *,
    enabled: str | None,
    public: bool = True,
    exempt_csrf: bool = False,
) -> View:
    """A view that imports the class-based view ``dotted`` at its first call, and answers 404
    while the setting ``enabled`` (``PEJLING_SAML`` or ``PEJLING_OIDC``; ``None``: always on)
    is not enabled.

    The markers the middleware reads before a view runs (no log-in required, no CSRF check)
    are set here, matching the real view's."""
    loaded: dict[str, View] = {}

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if enabled is not None and not (getattr(settings, enabled, None) or {}).get("enabled"):
            raise Http404
        if "view" not in loaded:
            name = dotted() if callable(dotted) else dotted
            loaded["view"] = import_string(name).as_view()
        return loaded["view"](request, *args, **kwargs)

    if public:
        view = login_not_required(view)
    if exempt_csrf:
        view = csrf_exempt(view)
    return view


def _oidc_class(setting: str, default: str) -> Callable[[], str]:
    return lambda: getattr(settings, setting, default)


saml_urlpatterns = [
    path(
        "login/",
        lazy_view("pejling.sso.saml.LoginView", enabled="PEJLING_SAML"),
        name="saml2_login",
    ),
    path(
        "acs/",
        lazy_view(
            "pejling.sso.saml.AssertionConsumerServiceView",
            enabled="PEJLING_SAML",
            exempt_csrf=True,
        ),
        name="saml2_acs",
    ),
    path(
        "metadata/",
        lazy_view("pejling.sso.saml.MetadataView", enabled="PEJLING_SAML"),
        name="saml2_metadata",
    ),
]

oidc_urlpatterns = [
    path(
        "callback/",
        lazy_view(
            _oidc_class(
                "OIDC_CALLBACK_CLASS", "mozilla_django_oidc.views.OIDCAuthenticationCallbackView"
            ),
            enabled="PEJLING_OIDC",
        ),
        name="oidc_authentication_callback",
    ),
    path(
        "authenticate/",
        lazy_view(
            _oidc_class(
                "OIDC_AUTHENTICATE_CLASS", "mozilla_django_oidc.views.OIDCAuthenticationRequestView"
            ),
            enabled="PEJLING_OIDC",
        ),
        name="oidc_authentication_init",
    ),
    path(
        "logout/",
        # Signs out locally whether OIDC is on or not, as mozilla-django-oidc's own route does.
        lazy_view("mozilla_django_oidc.views.OIDCLogoutView", enabled=None, public=False),
        name="oidc_logout",
    ),
]
