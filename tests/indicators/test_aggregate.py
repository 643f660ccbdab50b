"""The roll-up cache is a cache with a proof: after any sequence of writes of values (imports,
deletes, package loads) and moves in the unit tree, the cache kept current on write equals the
cache rebuilt from the values, and both equal the roll-ups worked out in Python from the values
themselves. Run on SQLite and on PostgreSQL (``DATABASE_URL``)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pejling.core.history import SYSTEM
from pejling.indicators import aggregate, rollups
from pejling.indicators.completeness import recent_completeness
from pejling.indicators.imports.checking import MappedValue
from pejling.indicators.imports.writing import write_values
from pejling.indicators.models import (
    Aggregation,
    ImportBatch,
    Indicator,
    IndicatorPresence,
    IndicatorRollup,
    IndicatorValue,
)
from pejling.indicators.services import indicator_save, values_delete
from pejling.indicators.sources.records import parse_period
from pejling.organisation.models import Unit, UnitLevel
from pejling.organisation.services import unit_move
from pejling.organisation.sync import sync_from_file
from tests.factories import IndicatorFactory, UnitFactory

pytestmark = pytest.mark.django_db

PERIODS = ["2024-01", "2024-02", "2024-03"]
amounts = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False)


def build_tree(parents: list[int]) -> list[Unit]:
    """A root and one unit per entry, each below an earlier unit (uneven branches)."""
    units = [UnitFactory(code="r", name="Root")]
    for n, pick in enumerate(parents):
        parent = Unit.objects.get(pk=units[pick % len(units)].pk)
        units.append(UnitFactory(parent=parent, code=f"u{n}", name=f"Unit {n:02d}"))
    return units


def indicators() -> dict[str, Indicator]:
    days = IndicatorFactory(code="DAYS", aggregation=Aggregation.SUM)
    fte = IndicatorFactory(code="FTE", aggregation=Aggregation.SUM)
    score = IndicatorFactory(code="SCORE", aggregation=Aggregation.WEIGHTED_MEAN, weight=fte)
    peak = IndicatorFactory(code="PEAK", aggregation=Aggregation.MAX)
    low = IndicatorFactory(code="LOW", aggregation=Aggregation.MIN)
    mean = IndicatorFactory(code="MEAN", aggregation=Aggregation.MEAN)
    ratio = IndicatorFactory(
        code="RATIO", aggregation=Aggregation.RATIO, numerator=days, denominator=fte, scale=100
    )
    found = [days, fte, score, peak, low, mean, ratio]
    return {i.code: i for i in found}


def write(rows: list[tuple[Indicator, Unit, str, Decimal]]) -> None:
    """Through the import's writer, as every import, the API and the demo write values."""
    batch = ImportBatch.objects.create(source="test")
    values = []
    for indicator, unit, period, value in rows:
        parsed = parse_period(period)
        values.append(
            MappedValue(
                indicator.pk, unit.pk, str(parsed), parsed.start_date(), parsed.end_date(), value
            )
        )
    write_values(values, batch)


def expected_cells() -> dict[tuple[int, int, str], tuple[Any, ...]]:
    """The cache worked out in Python from the stored values and the tree as it is now."""
    paths = dict(Unit.objects.values_list("pk", "path"))
    weight_of = dict(Indicator.objects.values_list("pk", "weight_id"))
    stored = {
        (i, u, p): v
        for i, u, p, v in IndicatorValue.objects.values_list(
            "indicator_id", "unit_id", "period", "value"
        )
    }
    starts = dict(IndicatorValue.objects.values_list("period", "period_start"))
    by_unit: dict[tuple[int, int, str], list[tuple[Decimal, Decimal | None]]] = defaultdict(list)
    for (indicator_id, unit_id, period), value in stored.items():
        weight_id = weight_of[indicator_id]
        weight = stored.get((weight_id, unit_id, period)) if weight_id else None
        for ancestor_id, path in paths.items():
            if paths[unit_id].startswith(path):
                by_unit[(indicator_id, ancestor_id, period)].append((value, weight))
    cells = {}
    for key, pairs in by_unit.items():
        values = [v for v, _w in pairs]
        weighted = [(v, w) for v, w in pairs if w is not None]
        cells[key] = (
            starts[key[2]],
            len(values),
            sum(values, Decimal(0)),
            min(values),
            max(values),
            sum((v * w for v, w in weighted), Decimal(0)) if weighted else None,
            sum((w for _v, w in weighted), Decimal(0)) if weighted else None,
        )
    return cells


def expected_presence() -> dict[tuple[int, int, int], int]:
    """Each unit's presence worked out in Python from the stored values: per indicator, unit
    and block, the bits of the periods it has a value in."""
    masks: dict[tuple[int, int, int], int] = defaultdict(int)
    for indicator_id, unit_id, period in IndicatorValue.objects.values_list(
        "indicator_id", "unit_id", "period"
    ):
        slot = aggregate.presence_slot(period)
        assert slot is not None
        masks[(indicator_id, unit_id, slot[0])] |= 1 << slot[1]
    return dict(masks)


def normalised(cells: dict[Any, tuple[Any, ...]]) -> dict[Any, tuple[Any, ...]]:
    """Numbers as the cache stores them (six decimals), so both sides compare exactly."""
    q = Decimal("0.000001")
    return {
        key: tuple(Decimal(x).quantize(q) if isinstance(x, Decimal) else x for x in row)
        for key, row in cells.items()
    }


step = st.one_of(
    st.tuples(
        st.just("write"),
        st.lists(
            st.tuples(
                st.sampled_from(["DAYS", "FTE", "SCORE", "PEAK", "LOW", "MEAN"]),
                st.integers(0, 20),
                st.sampled_from(PERIODS),
                amounts,
            ),
            min_size=1,
            max_size=12,
        ),
    ),
    st.tuples(
        st.just("delete"),
        st.sampled_from(["DAYS", "FTE", "SCORE", "PEAK", "LOW", "MEAN"]),
        st.lists(st.integers(0, 20), max_size=4),
        st.sampled_from([None, *PERIODS]),
    ),
    st.tuples(st.just("move"), st.integers(1, 20), st.integers(0, 20)),
    # An organisation file that moves several units at once (set-based, one signal) and may
    # add a unit below one of them.
    st.tuples(
        st.just("sync"),
        st.lists(st.tuples(st.integers(1, 20), st.integers(0, 20)), min_size=1, max_size=4),
        st.booleans(),
    ),
)


def sync_moves(pairs: list[tuple[Unit, Unit]], add: bool) -> None:
    """Re-parent units through ``sync_from_file`` (all units in one file): each (moving,
    below) pair that would not put a unit below itself; ``add``: a new unit too."""
    units = list(Unit.objects.select_related("level").order_by("path"))
    by_path = {u.path: u.code for u in units}
    parent = {u.code: by_path.get(u.path[: -Unit.steplen]) for u in units}
    for moving, below in pairs:
        node: str | None = below.code
        while node is not None and node != moving.code:
            node = parent[node]
        if moving.depth > 1 and node is None:
            parent[moving.code] = below.code
    lines = ["code;name;parent;level"]
    lines += [f"{u.code};{u.name};{parent[u.code] or ''};{u.level.depth}" for u in units]
    if add:
        UnitLevel.objects.get_or_create(depth=9, defaults={"name": "New", "name_plural": "New"})
        lines.append(f"new{len(units)};New {len(units)};{pairs[0][1].code};9")
    report = sync_from_file(data="\n".join(lines).encode(), filename="units.csv")
    assert report.ok, report.errors


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    parents=st.lists(st.integers(0, 100), min_size=2, max_size=9),
    steps=st.lists(step, min_size=1, max_size=8),
)
def test_the_cache_kept_on_write_equals_the_cache_rebuilt_and_the_values_worked_out(
    db: None, parents: list[int], steps: list[tuple[Any, ...]]
) -> None:
    with transaction.atomic():
        units = build_tree(parents)
        found = indicators()

        def unit(n: int) -> Unit:
            return Unit.objects.get(pk=units[n % len(units)].pk)

        for action, *args in steps:
            if action == "write":
                latest: dict[tuple[str, int, str], Decimal] = {}
                for code, n, period, value in args[0]:
                    latest[(code, unit(n).pk, period)] = value  # one value per key in a write
                write(
                    [
                        (found[code], Unit.objects.get(pk=pk), period, value)
                        for (code, pk, period), value in latest.items()
                    ]
                )
            elif action == "delete":
                code, ns, period = args
                values_delete(
                    by=SYSTEM,
                    indicator=found[code],
                    unit_ids=[unit(n).pk for n in ns] or None,
                    periods=None if period is None else [period],
                )
            elif action == "sync":
                sync_moves([(unit(m), unit(b)) for m, b in args[0]], args[1])
            else:
                moving, below = unit(args[0]), unit(args[1])
                if moving.depth > 1 and not below.path.startswith(moving.path):
                    unit_move(by=SYSTEM, unit=moving, parent=below)

        kept = aggregate.snapshot()
        assert normalised(kept) == normalised(expected_cells())
        present = aggregate.presence_snapshot()
        assert present == expected_presence()
        rows, differing = aggregate.rebuild()
        assert differing == 0
        assert aggregate.snapshot() == kept
        assert aggregate.presence_snapshot() == present
        assert rows == len(kept)
        transaction.set_rollback(True)


def test_a_move_takes_the_subtree_s_values_from_the_old_branch_to_the_new(db: None) -> None:
    units = build_tree([0, 0, 1, 3])  # r → u0 → u2 → u3; r → u1
    found = indicators()
    root, u0, u1, u2, u3 = units
    write([(found["DAYS"], u3, "2024-01", Decimal(5)), (found["DAYS"], u2, "2024-01", Decimal(2))])
    assert rollups.series(found["DAYS"], u0)[0].value == 7
    assert not rollups.series(found["DAYS"], u1)
    unit_move(by=SYSTEM, unit=Unit.objects.get(pk=u2.pk), parent=Unit.objects.get(pk=u1.pk))
    assert not rollups.series(found["DAYS"], u0)
    assert rollups.series(found["DAYS"], u1)[0].value == 7
    assert rollups.series(found["DAYS"], root)[0].value == 7
    assert aggregate.rebuild()[1] == 0


def test_a_new_weight_derives_the_weighted_mean_again(db: None) -> None:
    units = build_tree([0, 0])
    found = indicators()
    heads = IndicatorFactory(code="HEADS")
    write(
        [
            (found["SCORE"], units[1], "2024-01", Decimal(4)),
            (found["SCORE"], units[2], "2024-01", Decimal(2)),
            (found["FTE"], units[1], "2024-01", Decimal(3)),
            (found["FTE"], units[2], "2024-01", Decimal(1)),
            (heads, units[1], "2024-01", Decimal(1)),
            (heads, units[2], "2024-01", Decimal(3)),
        ]
    )
    score = found["SCORE"]
    assert rollups.series(score, units[0])[0].value == Decimal("3.5")  # (12 + 2) ÷ 4
    score.weight = heads
    indicator_save(indicator=score, by=SYSTEM)
    assert rollups.series(score, units[0])[0].value == Decimal("2.5")  # (4 + 6) ÷ 4
    assert aggregate.rebuild()[1] == 0


def test_the_rebuild_command_repairs_a_cache_that_went_wrong(db: None) -> None:
    units = build_tree([0, 0])
    found = indicators()
    write([(found["DAYS"], units[1], "2024-01", Decimal(5))])
    IndicatorRollup.objects.filter(unit=units[0]).update(total=99)
    IndicatorRollup.objects.filter(unit=units[1]).delete()
    out = call_command_output("rebuild-rollups")
    assert "2 differed" in out
    assert rollups.series(found["DAYS"], units[0])[0].value == 5
    assert "0 differed" in call_command_output("rebuild-rollups", "--indicator", "RATIO")


def test_the_rebuild_repairs_presence_that_went_wrong_and_completeness_follows(db: None) -> None:
    units = build_tree([0, 0])
    found = indicators()
    write([(found["DAYS"], unit, period, Decimal(1)) for unit in units for period in PERIODS])
    write([(found["DAYS"], units[0], "2024-04", Decimal(1))])  # only the root reports in April
    periods = [*PERIODS, "2024-04"]
    wanted = {(found["DAYS"].pk, units[0].pk): (found["DAYS"], units[0], periods)}
    april = recent_completeness(wanted, recent=None)[(found["DAYS"].pk, units[0].pk)]["2024-04"]
    assert (april.reported, april.expected) == (1, 3)
    IndicatorPresence.objects.filter(unit=units[1]).delete()
    IndicatorPresence.objects.filter(unit=units[2]).update(mask=0)
    _rows, differing = aggregate.rebuild()
    assert differing == 2
    again = recent_completeness(wanted, recent=None)[(found["DAYS"].pk, units[0].pk)]["2024-04"]
    assert (again.reported, again.expected) == (1, 3)


def call_command_output(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_an_organisation_sync_that_moves_units_leaves_the_cache_as_rebuilt(db: None) -> None:
    """Several moves in one sync (a unit and, separately, a unit below it), a new unit between
    them and a unit closed: the cache kept on write equals the cache rebuilt."""
    units = build_tree([0, 0, 1, 3, 4, 4, 2])  # r → u0 → u2 → u3 → u4, u5; r → u1 → u6
    found = indicators()
    _root, u0, u1, _u2, u3, u4, u5, u6 = units
    write(
        [
            (found["DAYS"], u4, "2024-01", Decimal(5)),
            (found["DAYS"], u5, "2024-01", Decimal(2)),
            (found["SCORE"], u3, "2024-02", Decimal(4)),
            (found["FTE"], u3, "2024-02", Decimal(2)),
            (found["PEAK"], u6, "2024-01", Decimal(9)),
        ]
    )
    assert rollups.series(found["DAYS"], u0)[0].value == 7
    sync_moves([(u3, u1), (u5, u6)], add=True)
    assert Unit.objects.get(pk=u5.pk).path.startswith(Unit.objects.get(pk=u6.pk).path)
    assert not rollups.series(found["DAYS"], Unit.objects.get(pk=u0.pk))
    assert rollups.series(found["DAYS"], Unit.objects.get(pk=u1.pk))[0].value == 7
    kept = aggregate.snapshot()
    assert normalised(kept) == normalised(expected_cells())
    assert aggregate.rebuild()[1] == 0
