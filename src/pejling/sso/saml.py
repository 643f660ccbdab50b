"""Single sign-on with SAML 2.0: Pejling as a service provider (djangosaml2 on pysaml2).

The flow: the log-in page links to ``saml2_login``, which sends a signed AuthnRequest to the
identity provider with the HTTP-Redirect binding and remembers its ID in the SAML session. The
provider answers with an HTTP-POST to ``saml2_acs``; pysaml2 checks the signature of the
assertion against the provider's metadata, its times and audience, and that it answers a request
we sent (InResponseTo). Only then does ``SamlBackend`` read the attributes and hand the person to
``pejling.sso.services.sign_in_identity``, which finds or creates them and applies the roles
their groups give. Anything that goes wrong ends on the log-in page with a translated message
(details in the log), never with a server error.

The settings (``SAML_CONFIG``, ``PEJLING_SAML``) are built from environment variables in
``pejling.config.settings``; see docs/security.md, "Single sign-on: SAML 2.0".
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from djangosaml2 import views as saml_views
from djangosaml2.backends import Saml2Backend
from djangosaml2.views import _set_subject_id
from saml2.config import SPConfig
from saml2.response import StatusError, UnsolicitedResponse
from saml2.sigver import MissingKey, SignatureError
from saml2.validate import ResponseLifetimeExceed, ToEarly

from pejling.sso.services import IdentityRefused, sign_in_identity

logger = logging.getLogger(__name__)

BACKEND = "pejling.sso.saml.SamlBackend"  # in AUTHENTICATION_BACKENDS when SAML is on

# Where the backend leaves the reason it refused someone, for the ACS view to show.
_REFUSAL = "_pejling_saml_refusal"

# Attributes read for the person's names and e-mail, first found wins: the LDAP/eduPerson
# friendly names pysaml2 gives known URIs, Danish OIOSAML 3 names, and AD FS / Entra ID claims.
FIRST_NAME_ATTRIBUTES = (
    "givenName",
    "https://data.gov.dk/model/core/eid/firstName",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
)
LAST_NAME_ATTRIBUTES = (
    "sn",
    "surname",
    "https://data.gov.dk/model/core/eid/lastName",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
)
EMAIL_ATTRIBUTES = (
    "mail",
    "email",
    "emailAddress",
    "https://data.gov.dk/model/core/eid/email",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
)
NAME_ID = "NameID"  # PEJLING_SAML_USERNAME_ATTRIBUTE=NameID: the subject's NameID is the name


def saml_settings() -> dict[str, Any]:
    return getattr(settings, "PEJLING_SAML", None) or {}


def saml_enabled() -> bool:
    return bool(saml_settings().get("enabled"))


# The SP configuration --------------------------------------------------------------------

_config_lock = threading.Lock()
_config_cache: dict[str, Any] = {}


def config_loader(request: HttpRequest | None = None) -> SPConfig:
    """djangosaml2's SAML_CONFIG_LOADER: the SP configuration, 404 while SAML is off.

    Loading it reads the provider's metadata (over HTTP for a URL), so a loaded configuration is
    kept for ``metadata_cache_seconds``; a failed sign-in forgets it, so a provider's new key is
    picked up at the next attempt.
    """
    if not saml_enabled():
        raise Http404
    raw = getattr(settings, "SAML_CONFIG", None)
    if not raw:
        raise ImproperlyConfigured("PEJLING_SAML is enabled but SAML_CONFIG is not set.")
    key = json.dumps(raw, sort_keys=True, default=str)
    max_age = int(saml_settings().get("metadata_cache_seconds", 3600))
    with _config_lock:
        if _config_cache.get("key") == key and time.monotonic() - _config_cache["at"] < max_age:
            return _config_cache["config"]
    config = SPConfig()
    config.load(copy.deepcopy(raw))
    with _config_lock:
        _config_cache.update(key=key, config=config, at=time.monotonic())
    return config


def forget_config(*, older_than: float = 0) -> None:
    """Read the metadata again at the next sign-in (if what is kept is older than
    ``older_than`` seconds: forged answers must not make every request fetch metadata)."""
    with _config_lock:
        if time.monotonic() - _config_cache.get("at", 0.0) >= older_than:
            _config_cache.clear()


# Attributes → the person ------------------------------------------------------------------


def attribute_values(attributes: Mapping[str, Any], name: str) -> list[str] | None:
    """The values of attribute ``name`` (exact name first, else ignoring case), None if absent."""
    values = attributes.get(name)
    if values is None:
        lowered = name.lower()
        values = next((v for k, v in attributes.items() if k.lower() == lowered), None)
    if values is None:
        return None
    if isinstance(values, str | bytes) or not isinstance(values, list | tuple):
        values = [values]
    return [str(value).strip() for value in values if value is not None and str(value).strip()]


def _first(attributes: Mapping[str, Any], names: tuple[str, ...]) -> str:
    for name in names:
        values = attribute_values(attributes, name)
        if values:
            return values[0]
    return ""


def _refuse(request: HttpRequest | None, message: str) -> None:
    logger.warning("SAML sign-in refused: %s", message)
    if request is not None:
        setattr(request, _REFUSAL, message)


class SamlBackend(Saml2Backend):
    """Signs in the person a verified SAML assertion names, through ``sign_in_identity``.

    Called by djangosaml2's ACS view only after pysaml2 has verified the response; a password
    log-in never reaches it (no ``session_info``).
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        session_info: dict[str, Any] | None = None,
        attribute_mapping: Any = None,
        create_unknown_user: Any = True,
        assertion_info: Any = None,
        **kwargs: Any,
    ) -> Any:
        if not session_info or "ava" not in session_info or not saml_enabled():
            return None
        config = saml_settings()
        attributes: Mapping[str, Any] = session_info["ava"] or {}
        username_attribute = config.get("username_attribute") or "uid"
        if username_attribute == NAME_ID:
            name_id = session_info.get("name_id")
            usernames = [name_id.text.strip()] if name_id is not None and name_id.text else []
        else:
            usernames = attribute_values(attributes, username_attribute) or []
        if not usernames:
            _refuse(
                request,
                _(
                    "The identity provider did not send the attribute “%(attribute)s”, which "
                    "Pejling uses as your user name. Ask your IT support to have the identity "
                    "provider send it."
                )
                % {"attribute": username_attribute},
            )
            return None
        groups: list[str] | None = None
        groups_attribute = config.get("groups_attribute") or ""
        if groups_attribute:
            # An IdP leaves out an attribute without values: absent means in no group.
            groups = attribute_values(attributes, groups_attribute) or []
        try:
            user = sign_in_identity(
                protocol="saml",
                username=usernames[0],
                first_name=_first(attributes, FIRST_NAME_ATTRIBUTES),
                last_name=_first(attributes, LAST_NAME_ATTRIBUTES),
                email=_first(attributes, EMAIL_ATTRIBUTES),
                groups=groups,
            )
        except IdentityRefused as refused:
            _refuse(request, refused.message)
            return None
        logger.info(
            "SAML sign-in of %s from %s", user.get_username(), session_info.get("issuer", "?")
        )
        return user if self.user_can_authenticate(user) else None


# Views -------------------------------------------------------------------------------------


def _to_login_page(request: HttpRequest, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect(settings.LOGIN_URL)


def failure_message(exception: BaseException | None) -> str:
    """What to tell a person whose sign-in failed, for the error pysaml2 or djangosaml2 raised."""
    if isinstance(exception, SignatureError | MissingKey):
        return _(
            "The answer from the identity provider could not be verified: its signature is "
            "missing or wrong. You have not been signed in."
        )
    if isinstance(exception, UnsolicitedResponse):
        return _(
            "The answer from the identity provider does not belong to a sign-in started here, "
            "or it has already been used. Start again from the log-in page."
        )
    if isinstance(exception, ResponseLifetimeExceed | ToEarly):
        return _(
            "The answer from the identity provider has expired or is not valid yet. Try again; "
            "if it keeps happening, the clocks of the servers may differ."
        )
    if isinstance(exception, StatusError):
        return _("The identity provider did not sign you in.")
    return _(
        "The answer from the identity provider could not be accepted. Try again, and ask your "
        "IT support if it keeps happening."
    )


class _SamlOnly:
    """404 while SAML is off: the routes exist, so the URL configuration does not change."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not saml_enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


@method_decorator(login_not_required, name="dispatch")
class LoginView(_SamlOnly, saml_views.LoginView):
    """Sends the person to the identity provider with a signed AuthnRequest."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            raise
        except Exception:
            logger.exception("SAML sign-in could not start")
            forget_config()
            return _to_login_page(
                request,
                _(
                    "Signing in with the identity provider is not possible right now. Try again in "
                    "a while, and ask your IT support if it keeps happening."
                ),
            )

    def unknown_idp(self, request: HttpRequest, idp: str) -> HttpResponse:
        logger.error("SAML: the identity provider %s is not in the metadata", idp)
        forget_config()
        return _to_login_page(
            request, _("The identity provider is not known to Pejling. Ask your IT support.")
        )


@method_decorator([login_not_required, csrf_exempt], name="dispatch")
class AssertionConsumerServiceView(_SamlOnly, saml_views.AssertionConsumerServiceView):
    """Receives the provider's answer; djangosaml2 verifies it, ``SamlBackend`` signs in."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "SAMLResponse" not in request.POST:
            return self.handle_acs_failure(request, status=400)
        try:
            return super().post(request, *args, **kwargs)
        except Http404:
            raise
        except Exception as error:
            logger.exception("SAML: the answer could not be processed")
            return self.handle_acs_failure(request, exception=error)

    def authenticate_user(
        self,
        request: HttpRequest,
        session_info: dict[str, Any],
        attribute_mapping: Any,
        create_unknown_user: Any,
        assertion_info: Any,
    ) -> Any:
        """Sign in through ``SamlBackend`` directly rather than ``django.contrib.auth.
        authenticate``: a refused sign-in then never counts as a failed password for
        django-axes, which would lock a whole office behind one address out of single sign-on
        (the identity provider guards its own passwords)."""
        user = SamlBackend().authenticate(
            request, session_info=session_info, assertion_info=assertion_info
        )
        if user is None:
            raise PermissionDenied("SAML sign-in refused")
        auth.login(request, user, backend=BACKEND)
        _set_subject_id(request.saml_session, session_info["name_id"])  # type: ignore[attr-defined]
        self.post_login_hook(request, user, session_info)
        self.customize_session(user, session_info)
        return user

    def handle_acs_failure(
        self,
        request: HttpRequest,
        exception: BaseException | None = None,
        status: int = 403,
        **kwargs: Any,
    ) -> HttpResponse:
        refusal = getattr(request, _REFUSAL, None)
        if refusal is None:
            logger.warning("SAML sign-in failed: %r", exception)
            if isinstance(exception, SignatureError | MissingKey):
                # The provider may have a new key: read its metadata again.
                forget_config(older_than=300)
        return _to_login_page(request, refusal or failure_message(exception))


@method_decorator(login_not_required, name="dispatch")
class MetadataView(_SamlOnly, saml_views.MetadataView):
    """Pejling's SP metadata (entity ID, ACS, signing and encryption certificate)."""


# Included at sso/saml/ by pejling.config.urls. Single logout is not offered: signing out of
# Pejling ends the Pejling session only.
urlpatterns = [
    path("login/", LoginView.as_view(), name="saml2_login"),
    path("acs/", AssertionConsumerServiceView.as_view(), name="saml2_acs"),
    path("metadata/", MetadataView.as_view(), name="saml2_metadata"),
]
