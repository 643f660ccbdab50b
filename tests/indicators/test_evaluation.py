"""Goal evaluation on constructed monthly data: each status, the forecast, and ``pejling evaluate``.

The goal is "Sick leave falls" of a 2018–2019 HR strategy: baseline 14.9 on 2018-06-01, target 13.5 by
2019-12-31, lower is better, read from a monthly ratio (sick days ÷ FTE) rolled up over the
organisation. Today is frozen at 2019-07-15, just after the June figures came in. On the
straight path from baseline to target, the value expected that day is
14.9 − 1.4 × 409/578 ≈ 13.909.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.utils import translation

from pejling.indicators.evaluation import (
    Status,
    evaluate_kpi,
    expected_on,
    goal_evaluations,
    status_label,
)
from pejling.indicators.models import Aggregation, Direction, Indicator, KpiGoal, MeasureUnit
from pejling.strategy.models import Element, Strategy
from tests.factories import (
    ElementFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    KpiGoalFactory,
    StrategyFactory,
    StrategyLevelFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2019, 7, 15)
TARGET = 13.5


@pytest.fixture(autouse=True)
def frozen_today() -> Iterator[None]:
    with time_machine.travel(date(2019, 7, 15), tick=False):
        yield


def months(first: tuple[int, int], count: int) -> Iterator[str]:
    year, month = first
    for _ in range(count):
        yield f"{year}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@pytest.fixture
def ratio(org: Any) -> Indicator:
    days = IndicatorFactory(code="SICKDAYS", measure_unit=MeasureUnit.DAYS)
    fte = IndicatorFactory(code="FTE", measure_unit=MeasureUnit.FTE, aggregation=Aggregation.LATEST)
    return IndicatorFactory(
        code="SICK_PER_FTE",
        name="Sick days per FTE",
        aggregation=Aggregation.RATIO,
        numerator=days,
        denominator=fte,
        direction=Direction.LOWER,
        measure_unit=MeasureUnit.DAYS_PER_FTE,
    )


def record(
    org: Any, ratio: Indicator, rates: list[float], first: tuple[int, int] = (2017, 7)
) -> None:
    """Store the monthly rates as days and FTEs of two units in different centres, so that only
    the organisation-wide ratio (Σ days ÷ Σ FTE) is the given rate."""
    assert ratio.numerator is not None and ratio.denominator is not None
    for period, rate in zip(months(first, len(rates)), rates, strict=True):
        for unit, fte, factor in ((org.centre_a, 4, Decimal("0.5")), (org.unit_b1a, 6, None)):
            share = Decimal(str(rate)) * fte
            if factor is not None:  # centre A runs at half the rate, unit B1a makes up for it
                days_a = share * factor
                IndicatorValueFactory(
                    indicator=ratio.numerator, unit=unit, period=period, value=days_a
                )
                extra = share - days_a
            else:
                IndicatorValueFactory(
                    indicator=ratio.numerator, unit=unit, period=period, value=share + extra
                )
            IndicatorValueFactory(indicator=ratio.denominator, unit=unit, period=period, value=fte)


@pytest.fixture
def strategy(db: None) -> Strategy:
    strategy = StrategyFactory(code="hr-2018", title="HR strategy", start_year=2018, end_year=2019)
    StrategyLevelFactory(strategy=strategy, depth=1, name="Goal", holds_goals=True)
    return strategy


@pytest.fixture
def unlinked_goal(strategy: Strategy) -> Element:
    """The KPI goal, with baseline and target, before an indicator is linked to it."""
    goal: Element = ElementFactory(
        strategy=strategy,
        code="S1",
        title="Sick leave falls",
        measure_kind="kpi",
        measure_unit="days per FTE",
        baseline_value=Decimal("14.9"),
        baseline_date=date(2018, 6, 1),
        target_value=Decimal("13.5"),
        target_date=date(2019, 12, 31),
    )
    return goal


@pytest.fixture
def goal(unlinked_goal: Element, ratio: Indicator) -> Element:
    KpiGoalFactory(goal=unlinked_goal, indicator=ratio)
    return unlinked_goal


def evaluate(goal: Element, org: Any) -> Any:
    goal = Element.objects.get(pk=goal.pk)
    return evaluate_kpi(goal, getattr(goal, "kpi", None), org.root)


def declining(start: float, step: float, count: int = 24) -> list[float]:
    return [round(start - step * i, 2) for i in range(count)]


def test_the_roll_up_the_goal_reads_is_the_organisation_wide_ratio(
    org: Any, ratio: Indicator, goal: Element
) -> None:
    record(org, ratio, [15.0, 14.0])
    evaluation = evaluate(goal, org)
    assert [(p.period, p.value) for p in evaluation.points] == [
        ("2017-07", Decimal(15)),
        ("2017-08", Decimal(14)),
    ]


def test_a_goal_whose_rolling_year_meets_the_target_is_achieved(
    org: Any, ratio: Indicator, goal: Element
) -> None:
    record(org, ratio, declining(14.5, 0.1))  # 14.5 in July 2017 … 12.2 in June 2019
    evaluation = evaluate(goal, org)
    assert evaluation.status == Status.ACHIEVED
    assert evaluation.value == pytest.approx(12.2)
    assert evaluation.current == pytest.approx(12.75)  # mean of July 2018 … June 2019
    assert evaluation.latest_period == "2019-06"
    assert evaluation.progress == pytest.approx((14.9 - 12.75) / (14.9 - 13.5) * 100, abs=0.1)
    assert "12,75" in evaluation.reason or "12.75" in evaluation.reason


def test_a_goal_whose_trend_reaches_the_target_in_time_is_on_track(
    org: Any, ratio: Indicator, goal: Element
) -> None:
    record(org, ratio, declining(15.5, 0.09))
    evaluation = evaluate(goal, org)
    assert evaluation.current == pytest.approx(13.925)
    assert evaluation.current > TARGET
    forecast = evaluation.forecast
    assert forecast is not None
    assert forecast.date == date(2019, 12, 31)
    assert forecast.low <= forecast.value <= forecast.high
    assert forecast.value == pytest.approx(13.29, abs=0.01)
    assert evaluation.status == Status.ON_TRACK


def test_a_goal_that_only_the_optimistic_forecast_reaches_is_at_risk(
    org: Any, ratio: Indicator, goal: Element
) -> None:
    # Flat at 15 for a year and a half, then falling by 0.4 a month: the recent drop makes the
    # spread of slopes wide, the median still misses the target.
    record(org, ratio, [15.0] * 18 + [round(15.0 - 0.4 * j, 2) for j in range(1, 7)])
    evaluation = evaluate(goal, org)
    forecast = evaluation.forecast
    assert forecast is not None
    assert forecast.value > TARGET >= forecast.low
    assert evaluation.status == Status.AT_RISK
    assert evaluation.value == pytest.approx(12.6)  # the latest month alone meets the target


def test_a_goal_with_a_flat_or_rising_trend_is_off_track(
    org: Any, ratio: Indicator, goal: Element
) -> None:
    record(org, ratio, [round(15.0 + 0.02 * i, 2) for i in range(24)])
    evaluation = evaluate(goal, org)
    assert evaluation.forecast is not None
    assert evaluation.forecast.low > TARGET
    assert evaluation.status == Status.OFF_TRACK
    assert evaluation.progress is not None and evaluation.progress < 0


def test_a_single_low_summer_month_does_not_count_as_achieved(
    org: Any, ratio: Indicator, goal: Element
) -> None:
    # A winter peak and a summer low around 14.5 days per FTE, no trend.
    rates = [
        round(14.5 + 2 * math.cos((int(p[5:]) - 1) / 12 * 2 * math.pi), 2)
        for p in months((2017, 8), 24)
    ]
    record(org, ratio, rates, first=(2017, 8))
    evaluation = evaluate(goal, org)
    assert evaluation.latest_period == "2019-07"
    assert evaluation.value == pytest.approx(12.5)
    assert evaluation.value <= TARGET  # the month alone would meet the target …
    assert evaluation.current == pytest.approx(14.5)  # … the rolling year does not
    assert evaluation.status != Status.ACHIEVED
    assert evaluation.status == Status.OFF_TRACK


def test_less_than_a_year_of_monthly_data_is_never_achieved_on_one_month(
    org: Any, ratio: Indicator, goal: Element
) -> None:
    record(org, ratio, [15.2, 14.8, 14.4, 13.0], first=(2019, 3))
    evaluation = evaluate(goal, org)
    assert evaluation.value == pytest.approx(13.0)
    assert evaluation.forecast is None
    assert evaluation.status != Status.ACHIEVED
    # Too few values for a trend: the latest value is compared with the expected 13.909.
    assert evaluation.expected == pytest.approx(13.909, abs=0.001)
    assert evaluation.status == Status.ON_TRACK


@pytest.mark.parametrize(("level", "status"), [(13.8, Status.ON_TRACK), (14.2, Status.AT_RISK)])
def test_with_too_few_values_for_a_trend_the_year_is_compared_with_the_straight_path(
    org: Any, ratio: Indicator, goal: Element, level: float, status: str
) -> None:
    record(org, ratio, [level] * 13, first=(2018, 6))
    evaluation = evaluate(goal, org)
    assert len(evaluation.smoothed) == 2
    assert evaluation.current == pytest.approx(level)
    assert evaluation.forecast is None
    assert evaluation.status == status


def test_a_goal_without_values_has_no_data(org: Any, ratio: Indicator, goal: Element) -> None:
    evaluation = evaluate(goal, org)
    assert evaluation.status == Status.NO_DATA
    assert evaluation.value is None and evaluation.forecast is None
    assert ratio.name in evaluation.reason
    assert evaluation.expected == pytest.approx(13.909, abs=0.001)


def test_a_kpi_goal_without_an_indicator_has_no_data(org: Any, unlinked_goal: Element) -> None:
    evaluation = evaluate(unlinked_goal, org)
    assert evaluation.status == Status.NO_DATA
    assert evaluation.indicator is None
    assert evaluation.reason


def test_a_goal_measured_for_one_centre_reads_that_centre_only(
    org: Any, ratio: Indicator, goal: Element
) -> None:
    record(org, ratio, declining(14.5, 0.1))
    KpiGoal.objects.filter(goal=goal).update(unit=org.centre_a)
    evaluation = evaluate(goal, org)
    assert evaluation.unit == org.centre_a
    assert evaluation.value == pytest.approx(12.2 / 2)
    assert evaluation.status == Status.ACHIEVED


def test_higher_is_better_goals_are_judged_the_other_way(org: Any, strategy: Strategy) -> None:
    share = IndicatorFactory(code="DIGITAL", direction=Direction.HIGHER, measure_unit="percent")
    goal = ElementFactory(
        strategy=strategy,
        code="S2",
        measure_kind="kpi",
        baseline_value=Decimal(30),
        baseline_date=date(2018, 1, 1),
        target_value=Decimal(50),
        target_date=date(2019, 12, 31),
    )
    KpiGoalFactory(goal=goal, indicator=share)
    for period, value in zip(months((2017, 7), 24), declining(30, -1), strict=True):
        IndicatorValueFactory(indicator=share, unit=org.root, period=period, value=value)
    evaluation = evaluate(goal, org)
    assert evaluation.current == pytest.approx(47.5)
    assert evaluation.forecast is not None and evaluation.forecast.value > 50
    assert evaluation.status == Status.ON_TRACK


def test_the_expected_value_lies_on_the_straight_path_and_stops_at_the_target() -> None:
    args = (14.9, date(2018, 6, 1), 13.5, date(2019, 12, 31))
    assert expected_on(date(2018, 6, 1), *args) == pytest.approx(14.9)
    assert expected_on(TODAY, *args) == pytest.approx(14.9 - 1.4 * 409 / 578)
    assert expected_on(date(2021, 1, 1), *args) == pytest.approx(13.5)
    assert expected_on(date(2017, 1, 1), *args) == pytest.approx(14.9)


def test_pejling_evaluate_prints_json_with_value_target_progress_forecast_and_status(
    org: Any, ratio: Indicator, goal: Element
) -> None:
    record(org, ratio, [15.0] * 18 + [round(15.0 - 0.4 * j, 2) for j in range(1, 7)])
    out = StringIO()
    call_command("evaluate", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert isinstance(data, list)
    assert [item["code"] for item in data] == ["S1"]
    item = data[0]
    assert {
        "code", "title", "kind", "unit", "value", "target", "progress", "forecast", "status", "reason"
    } <= set(item)  # fmt: skip
    assert set(item["forecast"]) == {"value", "low", "high", "date"}
    assert item["title"] == "Sick leave falls"
    assert item["kind"] == "kpi"
    assert item["unit"] == "exec"
    assert item["value"] == pytest.approx(12.6)
    assert item["target"] == pytest.approx(13.5)
    assert item["status"] == Status.AT_RISK
    assert item["forecast"]["date"] == "2019-12-31"
    assert item["forecast"]["low"] <= item["forecast"]["value"] <= item["forecast"]["high"]
    assert isinstance(item["progress"], float)
    assert item["reason"]


def test_pejling_evaluate_lists_every_kpi_goal_in_words(
    org: Any, ratio: Indicator, goal: Element
) -> None:
    record(org, ratio, declining(14.5, 0.1))
    out = StringIO()
    call_command("evaluate", stdout=out)
    text = out.getvalue()
    assert "S1" in text and "Sick leave falls" in text
    with translation.override("en"):  # the command's default language
        assert status_label(Status.ACHIEVED) in text
    empty = StringIO()
    call_command("evaluate", "--json", "--year", "2026", stdout=empty)
    assert json.loads(empty.getvalue()) == []


def test_goal_evaluations_use_today_by_default(org: Any, ratio: Indicator, goal: Element) -> None:
    record(org, ratio, declining(15.5, 0.09))
    (evaluation,) = goal_evaluations(year=2019)
    assert evaluation.expected == pytest.approx(13.909, abs=0.001)
    later = goal_evaluations(year=2019, today=date(2019, 12, 31))[0]
    assert later.expected == pytest.approx(13.5)
    assert goal_evaluations(year=2026) == []
