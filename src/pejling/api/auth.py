"""Who is calling: a personal API token (``Authorization: Bearer <token>``) or the browser's
session (with Django's CSRF check on unsafe methods), and how often.

Both give a ``Principal``: the acting person, and the token if one was used. Endpoints then
check the person's permissions with the same functions as the pages
(``organisation/permissions.py``), so a token never reaches further than its owner. A read-only
token is refused (403) on every method that writes, before the endpoint runs.

Rate limit: a fixed-window counter per token (or per signed-in person) in Django's cache,
``PEJLING_API_RATE_LIMIT`` requests a minute (600 by default); over it, 429. With several
server processes, point ``CACHES`` at a shared cache for one counter across them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth
from ninja.throttling import BaseThrottle

from pejling.api.errors import ApiError
from pejling.api.models import ApiToken
from pejling.api.tokens import TokenProblem, token_check
from pejling.core.caching import cache_key
from pejling.core.security import client_ip

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_RATE_LIMIT = 600
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Principal:
    user: Any
    token: ApiToken | None = None

    @property
    def rate_key(self) -> str:
        return f"token:{self.token.pk}" if self.token else f"user:{self.user.pk}"

    def __bool__(self) -> bool:  # ninja treats a falsy result as "not authenticated"
        return True


def principal(request: HttpRequest) -> Principal:
    value = getattr(request, "auth", None)
    if not isinstance(value, Principal):  # pragma: no cover - every endpoint has auth
        raise ApiError(401, "unauthenticated", _("Sign in, or send a personal API token."))
    return value


def _token_messages() -> dict[str, str]:
    return {
        "invalid_token": _("The API token is not valid."),
        "token_expired": _("The API token has expired; make a new one."),
        "token_revoked": _("The API token was revoked."),
    }


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``: a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Principal:
        try:
            api_token = token_check(token.strip())
        except TokenProblem as problem:
            # A token was presented: answer about it rather than fall back to the session.
            raise ApiError(401, problem.code, _token_messages()[problem.code]) from None
        if request.method not in SAFE_METHODS and not api_token.can_write:
            raise ApiError(
                403, "read_only_token", _("This token can only read; make a read and write token.")
            )
        request.user = api_token.user
        return Principal(api_token.user, api_token)


class BrowserSession(SessionAuth):
    """The signed-in browser session; unsafe methods need Django's CSRF token."""

    def __call__(self, request: HttpRequest) -> Principal | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None  # not signed in: a 401, not a CSRF failure
        result = super().__call__(request)  # runs the CSRF check on unsafe methods
        return Principal(result) if result else None


class FixedWindowThrottle(BaseThrottle):
    """At most ``PEJLING_API_RATE_LIMIT`` requests per caller per minute (a fixed window)."""

    def allow_request(self, request: HttpRequest) -> bool:
        caller = getattr(request, "auth", None)
        ident = caller.rate_key if isinstance(caller, Principal) else f"ip:{client_ip(request)}"
        limit = int(getattr(settings, "PEJLING_API_RATE_LIMIT", DEFAULT_RATE_LIMIT))
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = cache_key("pejling-api-rate", ident, window)  # ident: maybe the client's header
        cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS + 5)
            count = 1
        return count <= limit

    def wait(self) -> float | None:
        """Seconds until the window turns (ninja sends it as ``Retry-After``)."""
        return WINDOW_SECONDS - (time.time() % WINDOW_SECONDS)
