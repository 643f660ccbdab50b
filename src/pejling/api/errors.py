"""One JSON shape for every error: ``{"code": ..., "message": ..., "fields": {...}}``.

``code`` is stable and meant for programs; ``message`` is for people, in the request's
language; ``fields`` maps a field (or ``__all__``) to its messages and may be empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from pejling.core.history import ConcurrentEditError, StateConflictError

if TYPE_CHECKING:
    from ninja import NinjaAPI


class ApiError(Exception):
    """An error the API answers with directly (status, stable code, message, field errors)."""

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        super().__init__(message)


def not_found() -> ApiError:
    return ApiError(404, "not_found", _("Not found, or you may not see it."))


def conflict(message: str, fields: dict[str, list[str]] | None = None) -> ApiError:
    return ApiError(409, "conflict", message, fields)


def invalid(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid", message, {field: [message]})


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def method_not_allowed(api: NinjaAPI, request: HttpRequest, allowed: list[str]) -> HttpResponse:
    """405 in the error format, with the ``Allow`` header the HTTP standard asks for."""
    response = _respond(
        api,
        request,
        405,
        "method_not_allowed",
        _("This address does not take %(method)s; it takes %(allowed)s.")
        % {"method": request.method, "allowed": ", ".join(allowed)},
    )
    response["Allow"] = ", ".join(allowed)
    return response


def _respond(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    return api.create_response(request, error_body(code, message, fields), status=status)


def _validation_fields(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {}


def _loc_name(loc: Any) -> str:
    parts = [str(p) for p in loc]
    # ("body", "data", "title") -> "title"; ("query", "limit") -> "limit"
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    if parts and parts[0] == "data":
        parts = parts[1:]
    return ".".join(parts) or NON_FIELD_ERRORS


def _add(api: NinjaAPI, exc_class: type[Exception], handler: Callable[..., HttpResponse]) -> None:
    api.add_exception_handler(exc_class, handler)


def _validation_response(api: NinjaAPI, request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A Django ValidationError as an API error: 409 for a lost race or a stale version, else 400."""
    messages = exc.messages
    if isinstance(exc, ConcurrentEditError):  # someone saved after the version sent
        return _respond(
            api,
            request,
            409,
            "edit_conflict",
            " ".join(messages),
            {"version": [str(exc.current_version)]},
        )
    if isinstance(exc, StateConflictError):  # the state moved on (a racing step)
        return _respond(api, request, 409, "conflict", " ".join(messages))
    message = messages[0] if len(messages) == 1 else _("The data is not valid.")
    if not hasattr(exc, "error_dict"):
        message = " ".join(messages) or _("The data is not valid.")
    return _respond(api, request, 400, "invalid", message, _validation_fields(exc))


def _http_error_response(api: NinjaAPI, request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403 and "CSRF" in exc.message:
        return _respond(
            api,
            request,
            403,
            "csrf_failed",
            _("The CSRF check failed: send the CSRF token, or use an API token."),
        )
    return _respond(api, request, exc.status_code, "error", exc.message)


def register_error_handlers(api: NinjaAPI) -> None:
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return _respond(api, request, exc.status, exc.code, exc.message, exc.fields)

    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return _validation_response(api, request, exc)

    def request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            fields.setdefault(_loc_name(error.get("loc", ())), []).append(str(error.get("msg", "")))
        return _respond(
            api, request, 422, "invalid_request", _("The request is not valid."), fields
        )

    def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        message = str(exc) or _("You do not have permission to do this.")
        code = getattr(exc, "api_code", "forbidden")  # e.g. four_eyes
        return _respond(api, request, 403, code, message)

    def missing(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _respond(api, request, 404, "not_found", _("Not found, or you may not see it."))

    def integrity(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        return _respond(
            api, request, 409, "conflict", _("This conflicts with data that already exists.")
        )

    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return _respond(
            api,
            request,
            401,
            "unauthenticated",
            _("Sign in, or send a personal API token: Authorization: Bearer <token>."),
        )

    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        return _respond(
            api, request, 429, "rate_limited", _("Too many requests; wait a minute and retry.")
        )

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return _http_error_response(api, request, exc)

    _add(api, ApiError, api_error)
    _add(api, ValidationError, validation_error)
    _add(api, NinjaValidationError, request_invalid)
    _add(api, PermissionDenied, permission_denied)
    _add(api, Http404, missing)
    _add(api, IntegrityError, integrity)
    _add(api, AuthenticationError, unauthenticated)
    _add(api, Throttled, throttled)
    _add(api, HttpError, http_error)
