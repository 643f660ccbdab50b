"""Security helpers: the client's address for log-in throttling, the lockout page, a guard for
model choices posted as out-of-range numbers, and what caches may keep
(:class:`PrivateCacheMiddleware`).

Both are named in settings (``AXES_CLIENT_IP_CALLABLE``, ``AXES_LOCKOUT_CALLABLE``); see
docs/security.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from pejling.core.tabular import has_control_characters


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or, behind ``PEJLING_PROXY_COUNT`` proxies, the
    address the outermost of them saw (counted from the right of ``X-Forwarded-For``, the part
    a client cannot forge)."""
    proxies = int(getattr(settings, "PEJLING_PROXY_COUNT", 0))
    remote = request.META.get("REMOTE_ADDR") or None
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) >= proxies:
        return forwarded[-proxies]
    return remote


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' lockout: a translated page in our layout, status 429."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else 0
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    response = render(request, "registration/locked_out.html", context, status=429)
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response


def guard_choice_ids(form: forms.BaseForm) -> None:
    """A model choice posted as a huge number (``99999999999999999999``) makes SQLite raise
    OverflowError, which Django's choice fields do not catch: report it as an invalid choice."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            field.clean = _guarded(field)  # type: ignore[method-assign]


def _guarded(field: forms.ModelChoiceField) -> Any:
    original = field.clean

    def clean(value: Any) -> Any:
        try:
            return original(value)
        except OverflowError:
            raise ValidationError(
                field.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            ) from None

    return clean


PRIVATE_NO_STORE = "private, no-store"


def _is_private(request: HttpRequest) -> bool:
    """A signed-in person's request, or one to the API (whose bearer token is read later)."""
    if request.path_info.startswith("/api/") or "HTTP_AUTHORIZATION" in request.META:
        return True
    user = getattr(request, "user", None)
    return bool(getattr(user, "is_authenticated", False))


class PrivateCacheMiddleware:
    """``Cache-Control: private, no-store`` on every answer to a signed-in person or to the API
    (pages, fragments, API answers, exports), so neither a shared proxy nor the browser keeps
    them, and on every answer that says nothing itself. An anonymous answer that chose its own
    ``Cache-Control`` (a public page that may be cached) is left as it is. See
    docs/security.md."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control") or _is_private(request):
            response["Cache-Control"] = PRIVATE_NO_STORE
        return response


class RefuseControlCharactersMiddleware:
    """400 for an address whose path or query string holds a control character (``%00``,
    ``%1b``, …), before any view reads it; see docs/security.md."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.GET
        if (
            has_control_characters(request.path_info)
            or any(has_control_characters(key) for key in query)
            or any(
                has_control_characters(v, allow_breaks=True)
                for _key, values in query.lists()
                for v in values
            )
        ):
            message = _("The address holds a control character, which is not allowed.")
            response: HttpResponse
            if request.path_info.startswith("/api/"):
                # The API's one error shape (api/errors.py), as its OpenAPI document says.
                response = JsonResponse(
                    {"code": "invalid", "message": message, "fields": {}}, status=400
                )
            else:
                response = HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
            response["Cache-Control"] = PRIVATE_NO_STORE
            return response
        return self.get_response(request)
