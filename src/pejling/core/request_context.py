"""The request id of the work in hand: one id per request, carried into the background jobs the
request enqueues and into the audit trail's "from where" (``ChangeSource.request_id``).

A ``ContextVar`` so that it is right per thread and per asyncio task. Set by
``pejling.ops.middleware.RequestIdMiddleware`` for a request and by the job signal handlers in
``pejling.ops.jobs`` for a background job; read by the log formatter, ``core/sources.py`` and
the job enqueue hook. ``core`` stays free of the domain: this module knows only strings.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("pejling_request_id", default="")

# A caller's X-Request-ID is kept only when it is a plain token (letters, digits, - _ . :),
# at most 64 characters, so nothing can be smuggled into logs or the audit trail through it.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def current_request_id() -> str:
    """The id of the request or job being handled, or "" outside both."""
    return _request_id.get()


def clean_request_id(value: str | None) -> str:
    """``value`` when it is an acceptable request id, otherwise a fresh one."""
    if value and _SAFE_ID.match(value):
        return value
    return uuid.uuid4().hex


@contextmanager
def request_id_set(value: str) -> Iterator[str]:
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)
