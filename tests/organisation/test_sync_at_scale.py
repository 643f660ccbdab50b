"""The organisation sync is set-based: its number of queries does not grow with the number of
units (50 units and 200 take the same), from a file and from OS2mo, for a first sync, a sync
that moves, renames and closes units, and a sync that changes nothing; and the tree it writes
is sound (treebeard's own check), siblings in name order, history as the tests of each source
pin it. The time for 2,500 units is a budget in the benchmark (bench/org_sync.py), not here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from pejling.organisation.models import Unit, UnitLevel
from pejling.organisation.sync import OS2moClient, SyncReport, sync_from_file, sync_from_os2mo
from tests.organisation.fake_os2mo import CONSTRUCTED, TOKEN, FakeOS2mo, constructed_org

pytestmark = pytest.mark.django_db

WIDTH = 4


def org_csv(units: int, *, moved: int = 0, renamed: int = 0, left_out: int = 0) -> bytes:
    """Unit n below unit (n - 1) // WIDTH; the last ``moved`` units hung below another unit of
    the level above, the first ``renamed`` non-root units renamed, the last ``left_out`` units
    (after the moved ones) left out of the file."""
    parent: dict[int, int | None] = {n: (n - 1) // WIDTH if n else None for n in range(units)}
    depth = {0: 1}
    for n in range(1, units):
        depth[n] = depth[parent[n] or 0] + 1
    kept = units - left_out
    for n in range(kept - moved, kept):
        above = [m for m in range(n) if depth[m] == depth[n] - 1 and m != parent[n]]
        parent[n] = above[(n * 31) % len(above)]
    lines = ["code;name;parent code;level"]
    for n in range(kept):
        name = f"Unit {n:04d}" + (" renamed" if 0 < n <= renamed else "")
        up = "" if parent[n] is None else f"S{parent[n]:04d}"
        lines.append(f"S{n:04d};{name};{up};{depth[n]}")
    return ("\n".join(lines) + "\n").encode()


def queries(fn: Callable[[], SyncReport]) -> tuple[int, SyncReport]:
    with CaptureQueriesContext(connection) as ctx:
        report = fn()
    assert report.ok, report.errors
    return len(ctx.captured_queries), report


def tree_is_sound() -> None:
    assert all(not problems for problems in Unit.objects.find_problems())
    children: dict[str, list[str]] = {}
    for path, name in Unit.objects.order_by("path").values_list("path", "name"):
        children.setdefault(path[: -Unit.steplen], []).append(name)
    assert all(names == sorted(names) for names in children.values())


@pytest.fixture
def levels() -> None:
    for depth in range(1, 9):
        UnitLevel.objects.create(depth=depth, name=f"N{depth}", name_plural=f"N{depth}")


def file_runs(units: int) -> list[tuple[int, SyncReport]]:
    runs = []
    with transaction.atomic():
        for data, close in (
            (org_csv(units), False),
            (org_csv(units, moved=6, renamed=5, left_out=3), True),
            (org_csv(units, moved=6, renamed=5, left_out=3), True),
        ):
            runs.append(
                queries(
                    lambda data=data, close=close: sync_from_file(
                        data=data, filename="units.csv", close_missing=close
                    )
                )
            )
            tree_is_sound()
        transaction.set_rollback(True)
    return runs


def test_a_file_sync_takes_as_many_queries_for_200_units_as_for_50(levels: None) -> None:
    small, large = file_runs(50), file_runs(200)

    assert [q for q, _r in small] == [q for q, _r in large]
    first, changed, again = (report for _q, report in large)
    assert first.counts() == {
        "created": 200,
        "updated": 0,
        "moved": 0,
        "closed": 0,
        "unchanged": 0,
        "levels_created": 0,
        "history_rows": 200,
    }
    assert (changed.moved, changed.updated, changed.closed) == (6, 5, 3)
    assert changed.history_rows == 14
    assert (again.unchanged, again.history_rows) == (197, 0)


def os2mo_runs(units: int) -> list[int]:
    server = FakeOS2mo(constructed_org(units, page_size=50)).start()
    client = OS2moClient(server.url, token=TOKEN, page_size=50)
    counts = []
    try:
        with transaction.atomic():
            counts.append(queries(lambda: sync_from_os2mo(client=client))[0])
            # A reorganisation in OS2mo: a made-up unit moves below a Kolding unit, another
            # is gone, one is renamed.
            made_up = [o for o in server.objects() if o["current"]["user_key"].startswith("K-")]
            server.move(made_up[0]["uuid"], server.find("Kolding Kommune")["uuid"])
            server.remove(made_up[1]["uuid"])
            made_up[2]["current"]["name"] = "Renamed"
            count, report = queries(lambda: sync_from_os2mo(client=client))
            assert (report.moved, report.closed, report.updated) == (1, 1, 1)
            counts.append(count)
            counts.append(queries(lambda: sync_from_os2mo(client=client))[0])
            assert parents() == os2mo_parents(server)
            tree_is_sound()
            transaction.set_rollback(True)
    finally:
        server.stop()
    return counts


def parents() -> dict[UUID, UUID | None]:
    by_path = {u.path: u for u in Unit.objects.filter(closed_on__isnull=True)}
    return {
        u.external_id: by_path[u.path[: -Unit.steplen]].external_id if u.depth > 1 else None
        for u in by_path.values()
    }


def os2mo_parents(server: FakeOS2mo) -> dict[Any, Any]:
    return {
        UUID(o["uuid"]): UUID(o["current"]["parent"]["uuid"]) if o["current"]["parent"] else None
        for o in server.objects()
    }


def test_an_os2mo_sync_takes_as_many_queries_for_200_units_as_for_100(levels: None) -> None:
    assert os2mo_runs(100) == os2mo_runs(200)


def test_the_constructed_os2mo_answer_keeps_the_recorded_units_and_says_it_is_made_up() -> None:
    exchanges = constructed_org(300, page_size=100)
    assert len(exchanges) == 3 and all(e["constructed"] == CONSTRUCTED for e in exchanges)
    objects = [o for e in exchanges for o in e["response"]["body"]["data"]["org_units"]["objects"]]
    assert len({o["uuid"] for o in objects}) == 300
    assert objects[0]["current"]["name"] == "Viuf skole"  # the recording's first unit
    assert exchanges[-1]["response"]["body"]["data"]["org_units"]["page_info"] == {
        "next_cursor": None
    }


def test_history_written_in_bulk_notes_where_the_change_came_from(levels: None) -> None:
    """As ``record_source`` does for each saved row: a sync in a job a request started gets a
    ``ChangeSource`` for each of its history rows, with that request's id."""
    from pejling.core.models import ChangeSource, ChangeVia
    from pejling.core.request_context import request_id_set

    with request_id_set("req-123"):
        report = sync_from_file(data=org_csv(20), filename="units.csv")
    assert report.history_rows == 20
    sources = ChangeSource.objects.filter(history_model="organisation.unit")
    history_ids = set(Unit.history.values_list("history_id", flat=True))
    assert set(sources.values_list("history_id", flat=True)) == history_ids
    assert set(sources.values_list("via", "request_id")) == {(ChangeVia.TASK, "req-123")}
    sync_from_file(data=org_csv(20, renamed=2), filename="units.csv")  # outside a request
    assert sources.count() == 20
