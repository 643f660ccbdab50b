"""The completeness rule has one home: the batched reading (goal evaluation, the API's series)
judges exactly as the per-indicator reading does, in one query however many units report."""

from __future__ import annotations

import random
from typing import Any

from pejling.indicators import aggregate
from pejling.indicators.completeness import completeness, judge, recent_completeness
from pejling.indicators.models import Aggregation, IndicatorValue
from tests.factories import IndicatorFactory, UnitFactory

PERIODS = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 13)]


def test_the_batched_rule_judges_as_the_rule_itself(
    org: Any, django_assert_num_queries: Any
) -> None:
    rng = random.Random(7)
    days = IndicatorFactory(code="DAYS")
    fte = IndicatorFactory(code="FTE")
    ratio = IndicatorFactory(
        code="RATE", aggregation=Aggregation.RATIO, numerator=days, denominator=fte, scale=100
    )
    units = [org.root, org.centre_a, org.centre_b, org.dept_a1, org.unit, org.sibling]
    units += [UnitFactory(parent=org.dept_a1, code=f"extra-{n}") for n in range(6)]
    rows = []
    for unit in units:
        reports = rng.random()  # some units report nearly always, some seldom
        for period in PERIODS:
            if rng.random() < 0.4 + 0.6 * reports:
                start = f"{period}-01"
                rows.append(
                    IndicatorValue(
                        indicator=days,
                        unit=unit,
                        period=period,
                        period_start=start,
                        period_end=start,
                        value=1,
                    )
                )
    IndicatorValue.objects.bulk_create(rows)
    aggregate.derive_all()  # written past the write paths: the roll-up cache derived

    def reported(unit: Any) -> list[str]:  # a series has a point where its subtree reported
        inside = {r.period for r in rows if r.unit.path.startswith(unit.path)}
        return [p for p in PERIODS if p in inside]

    wanted = {
        (ratio.pk, unit.pk): (ratio, unit, reported(unit))
        for unit in (org.root, org.centre_a, org.unit)
    }
    with django_assert_num_queries(1):
        batched = recent_completeness(wanted, recent=None)
    with django_assert_num_queries(1):  # the same one query for the last few periods
        recent = recent_completeness(wanted, recent=5)
    for (_ind, unit_id), judged in batched.items():
        unit = next(u for u in units if u.pk == unit_id)
        each = completeness(ratio, unit)
        assert {p: (c.reported, c.expected) for p, c in judged.items()} == {
            p: (c.reported, c.expected) for p, c in each.items()
        }
        assert list(recent[(ratio.pk, unit_id)]) == reported(unit)[-5:]
        for period in reported(unit)[-5:]:
            assert recent[(ratio.pk, unit_id)][period].reported == each[period].reported
            assert recent[(ratio.pk, unit_id)][period].expected == each[period].expected


def test_a_period_where_a_usual_unit_is_missing_is_incomplete() -> None:
    judged = judge([("1", {1, 2, 3}), ("2", {1, 2, 3}), ("3", {1, 2}), ("4", {1, 2, 3})])
    assert (judged["1"].reported, judged["1"].expected) == (3, 3)
    assert (judged["3"].reported, judged["3"].expected, judged["3"].missing) == (2, 3, (3,))
    assert not judged["3"].complete and judged["3"].share == 2 / 3
    assert judged["4"].complete  # unit 3 reported in two of the three periods before
