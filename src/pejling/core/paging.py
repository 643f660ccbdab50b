"""Pages of a long list on a page: the one home of reading the page asked for and of the
pager's links (``core/_pager.html``).

A page may hold more than one paged list (the dashboard's tables): each reads its own query
parameter (``param``), and its pager's links keep every other parameter of the address, the
other lists' pages included.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, QueryDict


def page_of(request: HttpRequest, items: Any, *, size: int, param: str = "page") -> Page:
    """The page of ``items`` that ``request`` asks for in ``param`` (the first page for a
    missing or bad number, the last for one past the end: never an error). ``items`` is a
    query set or anything that counts itself (``count()``) and slices."""
    return Paginator(items, max(size, 1)).get_page(request.GET.get(param))


def pager_query(query: QueryDict | dict[str, Any], param: str = "page") -> str:
    """The query string the pager's links start from: ``query`` without ``param`` (and without
    a download's ``format`` and ``table``), empty values left out."""
    items: list[tuple[str, Any]] = (
        [(k, v) for k, values in query.lists() for v in values]
        if isinstance(query, QueryDict)
        else list(query.items())
    )
    kept = QueryDict(mutable=True)
    for key, value in items:
        if key not in (param, "format", "table") and value not in ("", None):
            kept.appendlist(key, str(value))
    return kept.urlencode()

