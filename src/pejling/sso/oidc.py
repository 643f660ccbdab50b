"""Single sign-on with OpenID Connect (Entra ID, Keycloak, Curity and other providers).

mozilla-django-oidc does the protocol: the authorization code flow with PKCE, state and nonce,
the token request, the userinfo request and the ID token's RS256 signature against the
provider's key set (JWKS). This module adds what Pejling needs on top:

* The provider's endpoints come from its discovery document
  (``{issuer}/.well-known/openid-configuration``), fetched at first use and kept for an hour;
  ``PEJLING_OIDC_*_ENDPOINT`` settings override single endpoints. Nothing is fetched at start-up
  or on a password log-in, so an unreachable provider never stops local accounts.
* The ID token is checked more strictly than mozilla-django-oidc does by default: its issuer
  must be the configured one, its audience must contain our client id (and ``azp`` be ours when
  there are several), and ``exp``, ``iat`` and ``sub`` must be present. The userinfo answer must
  be about the same ``sub``.
* The person is the configured claim (``preferred_username`` by default) and is found or
  created by ``pejling.sso.services.sign_in_identity``, which also brings their group roles up to
  date from the configured groups claim. A missing groups claim means no groups.
* A refused sign-in ends on the log-in page with a translated message, never an error page.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from pejling.sso.services import IdentityRefused, sign_in_identity

log = logging.getLogger(__name__)

BACKEND = "pejling.sso.oidc.OIDCBackend"
DISCOVERY_SECONDS = 60 * 60
LEEWAY_SECONDS = 60  # clock skew allowed between Pejling and the provider
_REFUSAL = "pejling_oidc_refusal"  # request attribute: why the sign-in was refused

# Which setting overrides which entry of the discovery document.
_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


class DiscoveryError(Exception):
    """The provider's discovery document could not be read or does not fit the settings."""


def config() -> dict[str, Any]:
    value: dict[str, Any] = getattr(settings, "PEJLING_OIDC", None) or {}
    return value


def enabled() -> bool:
    return bool(config().get("enabled"))


def provider_name() -> str:
    return str(config().get("name") or "OpenID Connect")


def _issuer() -> str:
    return str(config().get("issuer") or "").rstrip("/")


_discovered: dict[str, tuple[float, dict[str, Any]]] = {}
_discovery_lock = threading.Lock()


def discovery() -> dict[str, Any]:
    """The provider's discovery document, fetched at most once an hour."""
    issuer = _issuer()
    if not issuer:
        raise DiscoveryError("PEJLING_OIDC_ISSUER is not set")
    cached = _discovered.get(issuer)
    if cached is not None and time.monotonic() - cached[0] < DISCOVERY_SECONDS:
        return cached[1]
    with _discovery_lock:
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            response = requests.get(
                url,
                timeout=getattr(settings, "OIDC_TIMEOUT", 10),
                verify=getattr(settings, "OIDC_VERIFY_SSL", True),
                proxies=getattr(settings, "OIDC_PROXY", None),
            )
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise DiscoveryError(f"could not read {url}: {exc}") from exc
        if not isinstance(document, dict):
            raise DiscoveryError(f"{url} is not a JSON object")
        # OpenID Connect Discovery 1.0, 4.3: the document's issuer is the one we asked.
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise DiscoveryError(
                f"{url} names the issuer {document.get('issuer')!r}, not {issuer!r}"
            )
        _discovered[issuer] = (time.monotonic(), document)
        return document


def forget_discovery() -> None:
    _discovered.clear()


def endpoint(setting: str) -> str:
    """An endpoint of the provider: the setting when given, else from discovery."""
    explicit = getattr(settings, setting, "")
    if explicit:
        return str(explicit)
    key = _ENDPOINTS[setting]
    value = discovery().get(key)
    if not value:
        if setting == "OIDC_OP_USER_ENDPOINT":
            return ""  # optional: the ID token's claims are used alone
        raise DiscoveryError(f"the discovery document has no {key}")
    return str(value)


def _setting(name: str, *default: Any) -> Any:
    """mozilla-django-oidc's settings lookup, with the endpoints resolved lazily."""
    if name in _ENDPOINTS:
        return endpoint(name)
    if default:
        return getattr(settings, name, default[0])
    return getattr(settings, name)


def _refuse(request: HttpRequest, message: str) -> None:
    setattr(request, _REFUSAL, message)


def _failed_message() -> str:
    return _(
        "Logging in with %(name)s did not succeed. Try again, and ask your IT support if "
        "it keeps failing."
    ) % {"name": provider_name()}


def groups_from_claims(claims: dict[str, Any]) -> list[str] | None:
    """The person's groups; None (roles stay as they are) when no groups claim is configured,
    or when Entra ID sent a reference instead of the groups (more than 200 of them)."""
    claim = str(config().get("groups_claim") or "")
    if not claim:
        return None
    value = claims.get(claim)
    if value is None:
        names = claims.get("_claim_names")
        if isinstance(names, dict) and claim in names:
            # Entra ID sends a reference instead of the groups when there are more than 200.
            log.warning(
                "OIDC: the provider sent a reference instead of the %r claim (too many "
                "groups); roles are left as they were",
                claim,
            )
            return None
        # Configured but absent: the person is in no group (providers leave out an empty
        # claim), so the roles their groups gave are taken back.
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if isinstance(item, str | int)]
    log.warning("OIDC: the %r claim is neither a string nor a list; ignored", claim)
    return None


class OIDCBackend(OIDCAuthenticationBackend):
    """Signs a person in from the provider's answer; only the callback view calls it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django builds backends for every log-in and every request's session: read no
        # endpoint here (mozilla-django-oidc's __init__ would fetch discovery).
        self.UserModel = get_user_model()

    get_settings = staticmethod(_setting)

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return endpoint("OIDC_OP_TOKEN_ENDPOINT")

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return endpoint("OIDC_OP_USER_ENDPOINT")

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return endpoint("OIDC_OP_JWKS_ENDPOINT")

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return str(settings.OIDC_RP_CLIENT_ID)

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:
        return str(settings.OIDC_RP_CLIENT_SECRET)

    @property
    def OIDC_RP_SIGN_ALGO(self) -> str:
        return str(getattr(settings, "OIDC_RP_SIGN_ALGO", "RS256"))

    OIDC_RP_IDP_SIGN_KEY = None  # always the provider's published keys

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        # Password log-ins and anything else reach every backend: only the callback view's
        # call (which passes ``pejling_oidc``) is ours.
        if request is None or not kwargs.pop("pejling_oidc", False) or not enabled():
            return None
        try:
            return super().authenticate(request, **kwargs)
        except IdentityRefused as exc:
            log.info("OIDC: sign-in refused: %s", exc.message)
            _refuse(request, exc.message)
        except (
            SuspiciousOperation,
            DiscoveryError,
            requests.RequestException,
            jwt.PyJWTError,
            KeyError,
            ValueError,
        ) as exc:
            log.warning("OIDC: sign-in failed: %s: %s", type(exc).__name__, exc)
        return None

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """Check a token's signature against the provider's key set; for the ID token
        (called with ``nonce``) also its issuer, audience, times and nonce."""
        if not isinstance(token, str) or not token:
            raise SuspiciousOperation("the provider sent no ID token")
        is_id_token = "nonce" in kwargs
        header = jwt.get_unverified_header(token)
        algorithm = self.OIDC_RP_SIGN_ALGO
        if header.get("alg") != algorithm:
            raise SuspiciousOperation(
                f"token signed with {header.get('alg')!r}, expected {algorithm!r}"
            )
        key = self.retrieve_matching_jwk(token)
        client_id = self.OIDC_RP_CLIENT_ID
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=client_id if is_id_token else None,
                leeway=LEEWAY_SECONDS,
                options={
                    "verify_aud": is_id_token,
                    "require": ["iss", "sub", "aud", "exp", "iat"] if is_id_token else [],
                },
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"token refused: {exc}") from exc
        if is_id_token:
            if str(claims["iss"]).rstrip("/") != _issuer():
                raise SuspiciousOperation(f"ID token from the issuer {claims['iss']!r}")
            audience = claims["aud"]
            if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
                raise SuspiciousOperation("ID token for several audiences, azp is not ours")
            if self.get_settings("OIDC_USE_NONCE", True) and claims.get("nonce") != kwargs["nonce"]:
                raise SuspiciousOperation("ID token nonce does not match")
        return claims

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = self.get_userinfo(access_token, id_token, payload)
            if not isinstance(userinfo, dict):
                raise SuspiciousOperation("userinfo is not a JSON object")
            # OpenID Connect Core 1.0, 5.3.2: the userinfo must be about the same subject.
            if str(userinfo.get("sub")) != str(payload.get("sub")):
                raise SuspiciousOperation("userinfo is about another subject")
            claims.update(userinfo)
        username_claim = str(config().get("username_claim") or "preferred_username")
        username = claims.get(username_claim)
        if not isinstance(username, str) or not username.strip():
            raise IdentityRefused(
                _(
                    "%(name)s did not send “%(claim)s”, which Pejling uses as your user name. "
                    "Ask your IT support to add it to what the identity provider sends."
                )
                % {"name": provider_name(), "claim": username_claim}
            )

        def text(claim: str) -> str:
            value = claims.get(claim)
            return value if isinstance(value, str) else ""

        return sign_in_identity(
            protocol="oidc",
            username=username,
            first_name=text("given_name"),
            last_name=text("family_name"),
            email=text("email"),
            groups=groups_from_claims(claims),
        )

    def get_user(self, user_id: Any) -> Any:
        # Django's lookup, which refuses deactivated people; mozilla-django-oidc's does not.
        return ModelBackend.get_user(self, user_id)


def _failure(request: HttpRequest, message: str | None = None) -> HttpResponse:
    messages.error(request, message or _failed_message())
    return redirect(settings.LOGIN_URL)


class AuthenticationRequestView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider (``/sso/oidc/authenticate/``)."""

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the endpoint is looked up in get(), not here

    get_settings = staticmethod(_setting)

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return login_not_required(super().as_view(**initkwargs))

    def get(self, request: HttpRequest) -> HttpResponse:
        if not enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = endpoint("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except DiscoveryError as exc:
            log.warning("OIDC: %s", exc)
            return _failure(
                request,
                _(
                    "%(name)s cannot be reached just now. Try again in a while, or log in "
                    "with a Pejling account if you have one."
                )
                % {"name": provider_name()},
            )
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        response: HttpResponse = super().get(request)
        return response


class CallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back (``/sso/oidc/callback/``).

    Unlike mozilla-django-oidc's view it calls the backend itself, not through
    ``django.contrib.auth.authenticate``: a refused sign-in then never counts as a failed
    password for django-axes (which would lock out a whole office behind one address), and
    every failure ends on the log-in page with a message.
    """

    get_settings = staticmethod(_setting)

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return login_not_required(super().as_view(**initkwargs))

    def get(self, request: HttpRequest) -> HttpResponse:
        if not enabled():
            raise Http404
        state = request.GET.get("state", "")
        states = request.session.get("oidc_states")
        if not isinstance(states, dict):
            states = {}
        # One use per state, whatever the outcome: a replayed answer finds nothing.
        entry = states.pop(state, None) if state else None
        request.session["oidc_states"] = states
        if request.GET.get("error"):
            log.info(
                "OIDC: the provider answered %s: %s",
                request.GET.get("error"),
                request.GET.get("error_description", ""),
            )
            return _failure(
                request,
                _("%(name)s did not log you in. Try again if you cancelled by mistake.")
                % {"name": provider_name()},
            )
        if entry is None or not request.GET.get("code"):
            log.warning("OIDC: callback without a code or with an unknown state")
            return _failure(request)
        request.session.save()
        user = OIDCBackend().authenticate(
            request,
            pejling_oidc=True,
            nonce=entry.get("nonce"),
            code_verifier=entry.get("code_verifier"),
        )
        if user is None or not user.is_active:
            return _failure(request, getattr(request, _REFUSAL, None))
        user.backend = BACKEND
        self.user = user
        response: HttpResponse = self.login_success()
        return response
