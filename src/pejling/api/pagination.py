"""Cursor pagination: ``?cursor=...&limit=...`` → ``{"items": [...], "next": cursor | null}``.

The cursor is the ordering key of the last item, JSON in URL-safe base64, signed so that it
stays opaque (a changed cursor is refused rather than misread). Keyset pagination walks every
item exactly once even while rows are added, and costs the same on the first and last page.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import reduce
from typing import Any

from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from pejling.api.errors import ApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_SALT = "pejling.api.cursor"


def encode_cursor(values: Sequence[Any]) -> str:
    return signing.dumps([v if isinstance(v, int | str) else str(v) for v in values], salt=_SALT)


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        values = signing.loads(cursor, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        values = None
    if not isinstance(values, list) or len(values) != length:
        message = _("The cursor is not valid; start again without it.")
        raise ApiError(400, "invalid_cursor", message, {"cursor": [message]})
    return values


def _value(obj: Any, key: str) -> Any:
    for part in key.split("__"):
        obj = getattr(obj, "pk" if part == "pk" else part)
    return obj


def after(keys: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows strictly after ``values`` in the ascending order of ``keys``."""
    alternatives = []
    for i, key in enumerate(keys):
        equal = dict(zip(keys[:i], values[:i], strict=True))
        alternatives.append(Q(**equal, **{f"{key}__gt": values[i]}))
    return reduce(operator.or_, alternatives)


def paginate[M: Model](
    qs: QuerySet[M], *, keys: Sequence[str], cursor: str | None, limit: int
) -> tuple[list[M], str | None]:
    """One page of ``qs`` ordered by ``keys`` (ascending; the last key unique)."""
    if cursor:
        qs = qs.filter(after(keys, decode_cursor(cursor, len(keys))))
    rows = list(qs.order_by(*keys)[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor([_value(rows[-1], k) for k in keys])


def paginate_list(
    items: Sequence[Any], *, cursor: str | None, limit: int
) -> tuple[list, str | None]:
    """One page of a computed list (stable order): the cursor is the index of the next item."""
    start = decode_cursor(cursor, 1)[0] if cursor else 0
    if not isinstance(start, int) or start < 0:
        raise ApiError(400, "invalid_cursor", _("The cursor is not valid; start again without it."))
    page = list(items[start : start + limit])
    following = start + limit
    return page, encode_cursor([following]) if following < len(items) else None
