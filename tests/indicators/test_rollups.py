"""Roll-ups along the organisation tree, checked against numbers worked out by hand.

The tree (from ``tests/conftest.py``) with the values stored for March 2019::

    exec                       (no value)
    ├── centre-a               days 2    FTE 10    own ratio 0.2
    │   ├── dept-a1            days 30   FTE 5     own ratio 6
    │   │   └── unit-a1a       days 10   FTE 5     own ratio 2
    │   └── dept-a2            days 8    FTE 1     own ratio 8
    │       └── unit-a2a       days 0    FTE 4     own ratio 0
    └── centre-b
        └── dept-b1
            └── unit-b1a       days 100  FTE 1     own ratio 100

Centre A's subtree: Σ days 50 ÷ Σ FTE 25 = 2.0, whereas the mean of its five units' ratios is
(0.2 + 6 + 2 + 8 + 0) ÷ 5 = 3.24 and the mean of its three parts' ratios (0.2, 4, 1.6) is 1.93.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pejling.indicators import rollups
from pejling.indicators.models import Aggregation, Indicator, MeasureUnit
from pejling.organisation.models import Unit
from tests.factories import IndicatorFactory, IndicatorValueFactory, UnitFactory

pytestmark = pytest.mark.django_db

MARCH = "2019-03"
APRIL = "2019-04"

DAYS = {
    "centre-a": 2,
    "dept-a1": 30,
    "unit-a1a": 10,
    "dept-a2": 8,
    "unit-a2a": 0,
    "unit-b1a": 100,
}
FTE = {
    "centre-a": 10,
    "dept-a1": 5,
    "unit-a1a": 5,
    "dept-a2": 1,
    "unit-a2a": 4,
    "unit-b1a": 1,
}
CENTRE_A = ["centre-a", "dept-a1", "unit-a1a", "dept-a2", "unit-a2a"]


def store(indicator: Indicator, values: dict[str, Any], period: str = MARCH) -> None:
    units = {u.code: u for u in Unit.objects.filter(code__in=values)}
    for code, value in values.items():
        IndicatorValueFactory(
            indicator=indicator, unit=units[code], period=period, value=Decimal(value)
        )


def fresh(indicator: Indicator) -> Indicator:
    """The indicator with its numerator, denominator and weight loaded (as the views do)."""
    return Indicator.objects.select_related("numerator", "denominator", "weight").get(
        pk=indicator.pk
    )


def value_of(indicator: Indicator, unit: Unit, period: str = MARCH) -> Decimal | None:
    points = {p.period: p.value for p in rollups.series(indicator, unit)}
    return points.get(period)


@pytest.fixture
def sick_leave(org: Any) -> dict[str, Indicator]:
    days = IndicatorFactory(code="DAYS", aggregation=Aggregation.SUM)
    fte = IndicatorFactory(code="FTE", aggregation=Aggregation.LATEST, measure_unit="fte")
    ratio = IndicatorFactory(
        code="DAYS_PER_FTE",
        aggregation=Aggregation.RATIO,
        numerator=days,
        denominator=fte,
        measure_unit=MeasureUnit.DAYS_PER_FTE,
    )
    store(days, DAYS)
    store(fte, FTE)
    return {"days": days, "fte": fte, "ratio": fresh(ratio)}


def test_a_ratio_is_the_sum_of_numerators_over_the_sum_of_denominators(
    org: Any, sick_leave: dict[str, Indicator]
) -> None:
    ratio = sick_leave["ratio"]
    rolled = value_of(ratio, org.centre_a)
    assert rolled == Decimal(50) / Decimal(25) == Decimal(2)

    mean_of_unit_ratios = sum(Decimal(DAYS[c]) / Decimal(FTE[c]) for c in CENTRE_A) / len(CENTRE_A)
    assert mean_of_unit_ratios == Decimal("3.24")
    assert rolled != mean_of_unit_ratios

    parts = [Decimal("0.2"), Decimal(40) / Decimal(10), Decimal(8) / Decimal(5)]
    assert rolled != sum(parts) / 3


def test_a_ratio_rolls_up_over_the_whole_organisation_and_keeps_other_centres_out(
    org: Any, sick_leave: dict[str, Indicator]
) -> None:
    ratio = sick_leave["ratio"]
    assert value_of(ratio, org.root) == Decimal(150) / Decimal(26)
    assert value_of(ratio, org.centre_b) == Decimal(100)
    assert value_of(ratio, org.dept_a1) == Decimal(40) / Decimal(10)
    assert value_of(ratio, org.unit) == Decimal(2)


def test_a_ratio_is_multiplied_by_its_scale(org: Any, sick_leave: dict[str, Indicator]) -> None:
    ratio = sick_leave["ratio"]
    ratio.scale = Decimal(12)
    ratio.save()
    assert value_of(fresh(ratio), org.centre_a) == Decimal(24)


def test_a_ratio_skips_a_period_without_a_denominator(
    org: Any, sick_leave: dict[str, Indicator]
) -> None:
    store(sick_leave["days"], {"centre-a": 5}, period=APRIL)
    store(sick_leave["fte"], {"centre-a": 0}, period=APRIL)
    assert [p.period for p in rollups.series(sick_leave["ratio"], org.centre_a)] == [MARCH]


def test_a_sum_adds_the_whole_subtree_per_period(org: Any) -> None:
    days = IndicatorFactory(code="DAYS")
    store(days, DAYS)
    store(days, {"unit-a1a": 1, "unit-b1a": 2}, period=APRIL)
    points = rollups.series(days, org.root)
    assert [(p.period, p.value) for p in points] == [(MARCH, Decimal(150)), (APRIL, Decimal(3))]
    assert points[0].period_start.isoformat() == "2019-03-01"
    assert value_of(days, org.centre_a) == Decimal(50)


def test_series_can_be_limited_to_a_date_range(org: Any) -> None:
    days = IndicatorFactory(code="DAYS")
    for month in range(1, 7):
        store(days, {"unit-a1a": month}, period=f"2019-{month:02d}")
    points = rollups.series(days, org.root, start=date(2019, 2, 1), end=date(2019, 4, 1))
    assert [p.period for p in points] == ["2019-02", "2019-03", "2019-04"]


@pytest.mark.parametrize(
    ("aggregation", "centre_a", "root"),
    [
        # (2 + 30 + 10 + 8 + 0) / 5 and (50 + 100) / 6
        (Aggregation.MEAN, Decimal(10), Decimal(25)),
        (Aggregation.MAX, Decimal(30), Decimal(100)),
        (Aggregation.MIN, Decimal(0), Decimal(0)),
        # a stock (head count, FTE) is summed over the tree like a sum
        (Aggregation.LATEST, Decimal(50), Decimal(150)),
        (Aggregation.SUM, Decimal(50), Decimal(150)),
    ],
)
def test_each_aggregation_rolls_up_by_its_own_rule(
    org: Any, aggregation: str, centre_a: Decimal, root: Decimal
) -> None:
    indicator = IndicatorFactory(code="X", aggregation=aggregation)
    store(indicator, DAYS)
    assert value_of(indicator, org.centre_a) == pytest.approx(centre_a)
    assert value_of(indicator, org.root) == pytest.approx(root)


def test_a_weighted_mean_weighs_each_unit_by_its_weight_measure(org: Any) -> None:
    fte = IndicatorFactory(code="FTE", aggregation=Aggregation.LATEST)
    satisfaction = IndicatorFactory(
        code="NKI", aggregation=Aggregation.WEIGHTED_MEAN, weight=fte, measure_unit="percent"
    )
    store(fte, FTE)
    # unit-a1b has a score but no weight, unit-a2a a weight but no score: neither counts.
    store(
        satisfaction,
        {"centre-a": 50, "dept-a1": 80, "unit-a1a": 60, "unit-a1b": 10, "dept-a2": 20},
    )
    # Σ(v·w) = 50·10 + 80·5 + 60·5 + 20·1 = 1220; Σw = 10 + 5 + 5 + 1 = 21
    expected = Decimal(1220) / Decimal(21)
    assert value_of(fresh(satisfaction), org.centre_a) == pytest.approx(expected)
    plain_mean = Decimal(50 + 80 + 60 + 10 + 20) / 5
    assert value_of(fresh(satisfaction), org.centre_a) != pytest.approx(plain_mean)
    breakdown = rollups.breakdown(fresh(satisfaction), org.centre_a, MARCH)
    assert breakdown.own == pytest.approx(Decimal(50))
    assert {u.code: v for u, v in breakdown.children} == {
        "dept-a1": pytest.approx(Decimal(80 * 5 + 60 * 5) / 10),
        "dept-a2": pytest.approx(Decimal(20)),
    }


def test_a_breakdown_gives_the_own_value_each_childs_roll_up_and_the_total(
    org: Any, sick_leave: dict[str, Indicator]
) -> None:
    breakdown = rollups.breakdown(sick_leave["ratio"], org.centre_a, MARCH)
    assert breakdown.total == Decimal(2)
    assert breakdown.own == Decimal("0.2")
    assert [(unit.code, value) for unit, value in breakdown.children] == [
        ("dept-a1", Decimal(4)),
        ("dept-a2", Decimal("1.6")),
    ]


def test_a_breakdown_of_a_sum_adds_up_to_its_total(org: Any) -> None:
    days = IndicatorFactory(code="DAYS")
    store(days, DAYS)
    breakdown = rollups.breakdown(days, org.root, MARCH)
    assert breakdown.own is None
    assert [(u.code, v) for u, v in breakdown.children] == [
        ("centre-a", Decimal(50)),
        ("centre-b", Decimal(100)),
    ]
    assert breakdown.total == Decimal(150)


def test_a_child_without_values_shows_as_empty_in_the_breakdown(org: Any) -> None:
    days = IndicatorFactory(code="DAYS")
    store(days, {"unit-a1a": 4})
    breakdown = rollups.breakdown(days, org.centre_a, MARCH)
    assert [(u.code, v) for u, v in breakdown.children] == [
        ("dept-a1", Decimal(4)),
        ("dept-a2", None),
    ]
    assert breakdown.own is None
    assert breakdown.total == Decimal(4)


def grow_tree(org: Any, indicators: list[Indicator], extra: int) -> None:
    for i in range(extra):
        parent = [org.dept_a1, org.dept_a2, org.dept_b1][i % 3]
        unit = UnitFactory(parent=Unit.objects.get(pk=parent.pk), code=f"extra-{i}")
        for indicator in indicators:
            store(indicator, {unit.code: i + 1})
            store(indicator, {unit.code: i + 2}, period=APRIL)


@pytest.mark.parametrize(("kind", "series_queries", "breakdown_queries"), [
    ("days", 1, 3),
    ("ratio", 1, 3),
])  # fmt: skip
def test_series_and_breakdown_take_a_fixed_number_of_queries_whatever_the_tree_size(
    org: Any,
    sick_leave: dict[str, Indicator],
    django_assert_num_queries: Any,
    kind: str,
    series_queries: int,
    breakdown_queries: int,
) -> None:
    indicator = sick_leave[kind]
    for extra in (0, 12):
        grow_tree(org, [sick_leave["days"], sick_leave["fte"]], extra)
        root = Unit.objects.get(pk=org.root.pk)
        centre = Unit.objects.get(pk=org.centre_a.pk)
        with django_assert_num_queries(series_queries):
            rollups.series(indicator, root)
        with django_assert_num_queries(breakdown_queries):
            rollups.breakdown(indicator, centre, MARCH)
        with django_assert_num_queries(breakdown_queries):
            rollups.breakdown(indicator, root, APRIL)
    assert Unit.objects.count() == 22
    assert len(rollups.breakdown(sick_leave["days"], centre, MARCH).children) == 2


# Property: the organisation total is its centres' totals plus its own value -------------------

tree_shapes = st.lists(
    # per centre: for each unit below it, the index of its parent among (centre, earlier units)
    st.lists(st.integers(min_value=0, max_value=100), min_size=0, max_size=5),
    min_size=2,
    max_size=4,
)
amounts = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shape=tree_shapes, data=st.data())
def test_the_organisation_total_is_the_sum_of_its_centres_plus_its_own_value(
    db: None, shape: list[list[int]], data: st.DataObject
) -> None:
    with transaction.atomic():
        root = UnitFactory(code="root", name="Organisation")
        units: list[tuple[Unit, int | None]] = [(root, None)]  # (unit, centre index)
        for c, parents in enumerate(shape):
            centre = UnitFactory(parent=root, code=f"c{c}", name=f"Centre {c}")
            below = [centre]
            units.append((centre, c))
            for n, pick in enumerate(parents):
                parent = below[pick % len(below)]
                unit = UnitFactory(parent=parent, code=f"c{c}u{n}", name=f"Unit {c}.{n}")
                below.append(unit)
                units.append((unit, c))
        indicator = IndicatorFactory(code="COUNT", measure_unit="count")
        expected_centres = [Decimal(0)] * len(shape)
        own = Decimal(0)
        for unit, centre_index in units:
            value = data.draw(st.none() | amounts, label=unit.code)
            if value is None:
                continue
            store(indicator, {unit.code: value})
            if centre_index is None:
                own += value
            else:
                expected_centres[centre_index] += value

        root = Unit.objects.get(code="root")
        centres = [Unit.objects.get(code=f"c{c}") for c in range(len(shape))]
        centre_totals = [value_of(indicator, centre) or Decimal(0) for centre in centres]
        total = value_of(indicator, root) or Decimal(0)

        assert centre_totals == expected_centres
        assert total == sum(centre_totals) + own
        breakdown = rollups.breakdown(indicator, root, MARCH)
        assert [v or Decimal(0) for _u, v in breakdown.children] == centre_totals
        assert (breakdown.own or Decimal(0)) == own
        transaction.set_rollback(True)
