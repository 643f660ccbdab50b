"""One middleware for the request's id, its log line and its metrics.

First in ``MIDDLEWARE`` so that it sees every answer, redirects and refusals included. The id
is the caller's ``X-Request-ID`` when that is a plain token, otherwise a new one; it is
returned in the answer's ``X-Request-ID`` and is current (``core.request_context``) while the
request is handled, so the jobs it enqueues and the audit trail rows it writes carry it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse

from pejling.core.request_context import clean_request_id, request_id_set
from pejling.ops import metrics

log = logging.getLogger("pejling.request")

# Health checks and scrapes come every few seconds: counted, but not logged line by line.
QUIET_VIEWS = {"ops:live", "ops:ready", "ops:metrics", "healthz"}


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - start


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unresolved>"
    return match.view_name or "<unnamed>"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        counter = _QueryCounter()
        start = time.perf_counter()
        with request_id_set(request_id):
            with connections["default"].execute_wrapper(counter):
                response = self.get_response(request)
            seconds = time.perf_counter() - start
            self._finish(request, response, request_id, seconds, counter)
        response["X-Request-ID"] = request_id
        return response

    def _finish(
        self,
        request: HttpRequest,
        response: HttpResponse,
        request_id: str,
        seconds: float,
        counter: _QueryCounter,
    ) -> None:
        view = _view_name(request)
        metrics.observe_request(
            view=view,
            method=request.method or "",
            status=response.status_code,
            seconds=seconds,
            queries=counter.count,
            db_seconds=counter.seconds,
        )
        if view in QUIET_VIEWS and response.status_code < 500:
            return
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        if response.status_code < 500:
            level = logging.INFO
        else:
            level = logging.WARNING if view in QUIET_VIEWS else logging.ERROR
        log.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "user_id": user_id,
                "method": request.method,
                "path": request.path,  # never the query string: searches may name people
                "view": view,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
                "queries": counter.count,
                "db_ms": round(counter.seconds * 1000, 1),
            },
        )
