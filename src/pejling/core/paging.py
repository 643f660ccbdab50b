"""Pages of a long list on a page: the one home of reading the page asked for and of the
pager's links (``core/_pager.html``).

A page may hold more than one paged list (the dashboard's tables): each reads its own query
parameter (``param``), and its pager's links keep every other parameter of the address, the
other lists' pages included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Model
from django.http import HttpRequest, QueryDict

from pejling.core.export import requested_format


def page_of(request: HttpRequest, items: Any, *, size: int, param: str = "page") -> Page:
    """The page of ``items`` that ``request`` asks for in ``param`` (the first page for a
    missing or bad number, the last for one past the end: never an error). ``items`` is a
    query set or anything that counts itself (``count()``) and slices. A download
    (``?format=``, ``core/export.py``) holds every row of its table: its one page is all."""
    paginator = Paginator(items, max(size, 1))
    if requested_format(request) is not None:
        paginator = Paginator(items, max(paginator.count, 1))
    return paginator.get_page(request.GET.get(param))


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


class Ranked:
    """Rows of one model ranked by the database, read a slice at a time (what ``page_of``
    takes): however many rows there are, Python sees only the slice's.

    ``sql`` selects the rows (``alias.*`` and whatever they are sorted by) with a column
    ``attention``, their rank (0 first); ``order_by`` sorts them (the rank first); ``rows`` makes
    what the list holds from a slice's model instances (in their order). On creation one query
    counts the rows of each rank (``counts``); a slice is one more query, and ``rows``'s."""

    def __init__(
        self,
        model: type[Model],
        sql: str,
        params: Sequence[Any],
        *,
        order_by: str,
        rows: Callable[[list[Any]], list[Any]],
    ) -> None:
        self.model, self.sql, self.params = model, sql, list(params)
        self.order_by, self.rows = order_by, rows
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT r.attention, COUNT(*) FROM ({sql}) r GROUP BY r.attention",  # noqa: S608 - SQL made by the caller, values as parameters
                self.params,
            )
            self.counts: dict[int, int] = {int(rank): n for rank, n in cursor.fetchall()}

    def count(self) -> int:
        return sum(self.counts.values())

    def __len__(self) -> int:
        return self.count()

    def share(self, rank: int) -> int:
        """The rows of ``rank`` in per cent of every row, rounded."""
        total = self.count()
        return round(100 * self.counts.get(rank, 0) / total) if total else 0

    def __getitem__(self, index: slice) -> list[Any]:
        start = index.start or 0
        stop = self.count() if index.stop is None else index.stop
        if stop <= start:
            return []
        sql = f"{self.sql} ORDER BY {self.order_by} LIMIT %s OFFSET %s"
        found = self.model._default_manager.raw(sql, [*self.params, stop - start, start])
        return self.rows(list(found))
