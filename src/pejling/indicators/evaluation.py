"""Goal evaluation for KPI goals: latest value, progress, expected value today, forecast, status.

Forecast method (documented for users in docs/indicators.md):

1. The goal's indicator is rolled up for the goal's unit (the whole organisation by default).
2. Seasonality is removed with a trailing moving average over one year of periods (12 months,
   4 quarters or 3 tertials; yearly data is used as is), so a winter peak in sick leave does not
   read as a trend.
3. The trend is the Theil–Sen slope (the median of the slopes between every pair of points) of
   the last 12 smoothed points: robust to outliers and to a single odd month.
4. The forecast at the target date extends that slope from the last smoothed point. The interval
   uses the 10th and 90th percentiles of the pairwise slopes instead of the median.

Status: *achieved* when the current value meets the target (for monthly, quarterly and tertial
data the current value is the rolling one-year mean, so one low month does not count, and with
less than a year of such data nothing is achieved yet); *on track* when the forecast meets
it; *at risk* when only the optimistic end of the interval does; *off track* otherwise; *no
data* without values. With fewer than three smoothed points there is no forecast and the latest
value is compared with the value expected today on a straight path from baseline to target.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from pejling.indicators.completeness import (
    PeriodCompleteness,
    Staleness,
    completeness,
    last_complete,
    outdated,
    recent_completeness,
    staleness_of,
)
from pejling.indicators.models import Indicator, KpiGoal, Periodicity
from pejling.indicators.rollups import Point, series, series_of_many
from pejling.organisation.models import Unit
from pejling.strategy.goal_status import GoalStatus, status_label, tone
from pejling.strategy.models import Element, MeasureKind

SEASON = {
    Periodicity.MONTH: 12,
    Periodicity.QUARTER: 4,
    Periodicity.TERTIAL: 3,
    Periodicity.YEAR: 1,
}
WINDOW = 12


# The statuses and their labels live in strategy/goal_status.py, shared with followup.
Status = GoalStatus


@dataclass(frozen=True)
class Forecast:
    value: float
    low: float
    high: float
    date: date

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "date": self.date.isoformat(),
        }


@dataclass(kw_only=True)
class Evaluation:
    """How a goal stands; built by keyword, it starts with no data and no numbers."""

    goal: Element
    kind: str
    unit: Unit | None = None
    indicator: Indicator | None = None
    value: float | None = None
    target: float | None = None
    baseline: float | None = None
    progress: float | None = None
    expected: float | None = None
    forecast: Forecast | None = None
    status: str = Status.NO_DATA
    reason: str = ""
    latest_period: str | None = None
    current: float | None = None
    behind: list[str] = field(default_factory=list)  # the units or initiatives behind the number
    missing: list[str] = field(
        default_factory=list
    )  # units that do not yet satisfy a coverage goal
    points: list[Point] = field(default_factory=list)
    smoothed: list[tuple[date, float]] = field(default_factory=list)
    # The newest periods left out because too few of the usual units have values yet.
    incomplete: list[PeriodCompleteness] = field(default_factory=list)
    outdated: Staleness | None = None

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def tone(self) -> str:
        return tone(self.status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.goal.code,
            "title": self.goal.title,
            "strategy": self.goal.strategy.code,
            "kind": self.kind,
            "unit": self.unit.code if self.unit else None,
            "unit_name": self.unit.name if self.unit else None,
            "indicator": self.indicator.code if self.indicator else None,
            "value": self.value,
            "current": self.current,
            "target": self.target,
            "baseline": self.baseline,
            "progress": self.progress,
            "expected": self.expected,
            "forecast": self.forecast.as_dict() if self.forecast else None,
            "status": self.status,
            "reason": self.reason,
            "latest_period": self.latest_period,
            "behind": self.behind,
            "missing": self.missing,
            "incomplete_periods": [
                {"period": c.period, "reported": c.reported, "expected": c.expected}
                for c in self.incomplete
            ],
            "outdated": self.outdated is not None,
        }


def _as_float(value: Decimal | float | None) -> float | None:
    """The number as a float rounded to 4 decimals, None stays None."""
    return None if value is None else round(float(value), 4)


def _fmt(value: float) -> str:
    return str(number_format(round(value, 2), decimal_pos=None, use_l10n=True))


def expected_on(
    day: date, baseline: float, baseline_date: date, target: float, target_date: date
) -> float:
    """The value on ``day`` on a straight path from baseline to target."""
    span = (target_date - baseline_date).days
    if span <= 0:
        return target
    share = min(1.0, max(0.0, (day - baseline_date).days / span))
    return baseline + (target - baseline) * share


def smooth(points: list[Point], season: int) -> list[tuple[date, float]]:
    """Trailing moving average over one seasonal cycle (no smoothing for yearly data)."""
    values = [float(p.value) for p in points]
    if season <= 1:
        return [(p.period_start, v) for p, v in zip(points, values, strict=True)]
    return [
        (points[i].period_start, statistics.fmean(values[i - season + 1 : i + 1]))
        for i in range(season - 1, len(points))
    ]


def theil_sen_forecast(smoothed: list[tuple[date, float]], at: date) -> Forecast | None:
    window = smoothed[-WINDOW:]
    if len(window) < 3:
        return None
    slopes = sorted(
        (window[j][1] - window[i][1]) / (window[j][0] - window[i][0]).days
        for i in range(len(window))
        for j in range(i + 1, len(window))
        if (window[j][0] - window[i][0]).days
    )
    if not slopes:
        return None
    median = statistics.median(slopes)
    deciles = (
        statistics.quantiles(slopes, n=10, method="inclusive") if len(slopes) > 1 else [median] * 9
    )
    last_day, last_value = window[-1]
    days = (at - last_day).days
    low_slope, high_slope = deciles[0], deciles[-1]
    ends = sorted([last_value + low_slope * days, last_value + high_slope * days])
    return Forecast(
        value=round(last_value + median * days, 4),
        low=round(ends[0], 4),
        high=round(ends[1], 4),
        date=at,
    )


def _meets(value: float, target: float, lower_is_better: bool) -> bool:
    return value <= target if lower_is_better else value >= target


def _expected_by(goal: Element, today: date) -> float | None:
    """The value expected on ``today`` on the goal's path, if it has a dated baseline and target."""
    if (
        goal.baseline_value is None
        or not goal.baseline_date
        or goal.target_value is None
        or not goal.target_date
    ):
        return None
    return round(
        expected_on(
            today,
            float(goal.baseline_value),
            goal.baseline_date,
            float(goal.target_value),
            goal.target_date,
        ),
        4,
    )


def _complete_points(
    evaluation: Evaluation,
    indicator: Indicator,
    unit: Unit,
    all_points: list[Point],
    today: date,
    judged: dict[str, PeriodCompleteness] | None = None,
    stale: Staleness | bool | None = False,
) -> list[Point]:
    """The points up to the last complete period: a trailing period where too few of the
    usual units have values is not judged (``evaluation.incomplete`` keeps them). Without
    values, or without a complete period, none (and the reason says so)."""
    if not all_points:
        evaluation.reason = _("No values have been imported for %(indicator)s yet.") % {
            "indicator": indicator.display_name
        }
        return []
    evaluation.outdated = (
        outdated(indicator, today)
        if stale is False
        else stale
        if isinstance(stale, Staleness)
        else None
    )
    if judged is None:
        judged = completeness(indicator, unit)
    _last, trailing = last_complete([p.period for p in all_points], judged)
    evaluation.incomplete = trailing
    points = [p for p in all_points if p.period not in {c.period for c in trailing}]
    if not points:
        evaluation.reason = _("No period of %(indicator)s is complete yet.") % {
            "indicator": indicator.display_name
        }
    return points


def evaluate_kpi(
    goal: Element,
    kpi: KpiGoal | None,
    root: Unit | None,
    *,
    today: date | None = None,
    points: list[Point] | None = None,
    judged: dict[str, PeriodCompleteness] | None = None,
    stale: Staleness | bool | None = False,
) -> Evaluation:
    """How a KPI goal stands; ``points``, ``judged`` (its periods' completeness) and ``stale``
    (whether it is outdated): what was read already for many goals at once
    (:func:`kpi_inputs`); read here when not given."""
    today = today or timezone.localdate()
    unit = (kpi.unit if kpi and kpi.unit_id else None) or root
    indicator = kpi.indicator if kpi else None
    target = _as_float(goal.target_value)
    baseline = _as_float(goal.baseline_value)
    evaluation = Evaluation(
        goal=goal,
        kind=MeasureKind.KPI,
        unit=unit,
        indicator=indicator,
        target=target,
        baseline=baseline,
        status=Status.NO_DATA,
    )
    if indicator is None or unit is None:
        evaluation.reason = _("No indicator is linked to this goal.")
        return evaluation
    evaluation.expected = _expected_by(goal, today)
    all_points = series(indicator, unit) if points is None else points
    evaluation.points = all_points
    points = _complete_points(evaluation, indicator, unit, all_points, today, judged, stale)
    if not points:
        return evaluation
    latest = points[-1]
    value = float(latest.value)
    evaluation.value = round(value, 4)
    evaluation.latest_period = latest.period
    if target is None:
        evaluation.reason = _("The goal has no target value.")
        return _with_note(evaluation, latest.period)
    lower = indicator.lower_is_better
    season = SEASON.get(Periodicity(indicator.periodicity), 1)
    smoothed = smooth(points, season)
    evaluation.smoothed = smoothed
    # Seasonal data is judged on its rolling one-year mean, never on a single low month.
    current = smoothed[-1][1] if smoothed else value
    evaluation.current = round(current, 4)
    if baseline is not None:
        evaluation.progress = round(
            100.0 if baseline == target else (baseline - current) / (baseline - target) * 100, 1
        )
    at = goal.target_date or date(today.year, 12, 31)
    evaluation.forecast = theil_sen_forecast(smoothed, at)
    numbers = {"value": _fmt(current), "target": _fmt(target), "period": latest.period}
    # Less than a year of seasonal data has no rolling one-year value: one month cannot achieve.
    full_year = season <= 1 or bool(smoothed)
    if full_year and _meets(current, target, lower):
        evaluation.status = Status.ACHIEVED
        if season > 1 and smoothed:
            message = _(
                "The rolling one-year value %(value)s (up to %(period)s) meets the target %(target)s."
            )
        else:
            message = _("The latest value %(value)s (%(period)s) meets the target %(target)s.")
        evaluation.reason = message % numbers
    elif evaluation.forecast is not None:
        forecast = evaluation.forecast
        numbers |= {
            "forecast": _fmt(forecast.value),
            "low": _fmt(forecast.low),
            "high": _fmt(forecast.high),
            "date": forecast.date.isoformat(),
        }
        optimistic = forecast.low if lower else forecast.high
        if _meets(forecast.value, target, lower):
            evaluation.status = Status.ON_TRACK
            evaluation.reason = (
                _(
                    "The trend points to %(forecast)s by %(date)s (between %(low)s and %(high)s), which meets the target %(target)s."
                )
                % numbers
            )
        elif _meets(optimistic, target, lower):
            evaluation.status = Status.AT_RISK
            evaluation.reason = (
                _(
                    "The trend points to %(forecast)s by %(date)s, short of the target %(target)s; only the optimistic end of the interval (%(low)s–%(high)s) reaches it."
                )
                % numbers
            )
        else:
            evaluation.status = Status.OFF_TRACK
            evaluation.reason = (
                _(
                    "The trend points to %(forecast)s by %(date)s (between %(low)s and %(high)s); the target %(target)s is out of reach at this pace."
                )
                % numbers
            )
    elif evaluation.expected is not None:
        numbers["expected"] = _fmt(evaluation.expected)
        if _meets(current, evaluation.expected, lower):
            evaluation.status = Status.ON_TRACK
            evaluation.reason = (
                _(
                    "Too few values for a trend; the latest value %(value)s is as good as the %(expected)s expected by now."
                )
                % numbers
            )
        else:
            evaluation.status = Status.AT_RISK
            evaluation.reason = (
                _(
                    "Too few values for a trend; the latest value %(value)s lags the %(expected)s expected by now."
                )
                % numbers
            )
    else:
        evaluation.status = Status.AT_RISK
        evaluation.reason = _("Too few values for a trend and no baseline to compare with.")
    return _with_note(evaluation, latest.period)


def _with_note(evaluation: Evaluation, judged_on: str) -> Evaluation:
    if evaluation.incomplete:
        evaluation.reason += " " + incomplete_note(judged_on, evaluation.incomplete)
    return evaluation


def incomplete_note(last: str, trailing: list[PeriodCompleteness]) -> str:
    """ "Judged on 2026-10, the last complete period; 2026-11 has values from 3 of 12 units."""
    parts = ", ".join(
        _("%(period)s has values from %(reported)s of %(expected)s units")
        % {"period": c.period, "reported": c.reported, "expected": c.expected}
        for c in trailing
    )
    return _("Judged on %(period)s, the last complete period; %(parts)s.") % {
        "period": last,
        "parts": parts,
    }


def kpi_goals(year: int | None = None) -> QuerySet[Element]:
    qs = Element.objects.filter(measure_kind=MeasureKind.KPI).select_related(
        "strategy", "level", "kpi__indicator__numerator", "kpi__indicator__denominator", "kpi__unit"
    )
    if year is not None:
        qs = qs.filter(strategy__start_year__lte=year, strategy__end_year__gte=year)
    return qs.order_by("strategy__position", "position", "code")


def kpi_series(goals: list[Element], root: Unit | None) -> dict[int, list[Point]]:
    """The series of every KPI goal among ``goals`` by goal id, in one query."""
    measured: dict[int, tuple[Indicator, Unit]] = {}
    for goal in goals:
        kpi = getattr(goal, "kpi", None) if goal.measure_kind == MeasureKind.KPI else None
        unit = (kpi.unit if kpi and kpi.unit_id else None) or root
        if kpi is not None and unit is not None:
            measured[goal.pk] = (kpi.indicator, unit)
    found = series_of_many(list(measured.values()))
    return {pk: found[(ind.pk, unit.pk)] for pk, (ind, unit) in measured.items()}


def kpi_inputs(goals: list[Element], root: Unit | None, today: date) -> dict[int, dict[str, Any]]:
    """What :func:`evaluate_kpi` reads, for every KPI goal among ``goals`` at once (by goal
    id): the series, the recent periods' completeness and staleness, in a fixed number of
    queries whatever the number of goals."""
    points = kpi_series(goals, root)
    measured: dict[int, tuple[Indicator, Unit]] = {}
    for goal in goals:
        kpi = getattr(goal, "kpi", None) if goal.pk in points else None
        unit = (kpi.unit if kpi and kpi.unit_id else None) or root
        if kpi is not None and unit is not None:
            measured[goal.pk] = (kpi.indicator, unit)
    judged = recent_completeness(
        {
            (ind.pk, unit.pk): (ind, unit, [p.period for p in points[pk]])
            for pk, (ind, unit) in measured.items()
        }
    )
    stale = staleness_of(list({ind.pk: ind for ind, _u in measured.values()}.values()), today)
    return {
        pk: {
            "points": points[pk],
            "judged": judged.get((ind.pk, unit.pk), {}),
            "stale": stale.get(ind.pk),
        }
        for pk, (ind, unit) in measured.items()
    }


def goal_evaluations(*, year: int | None = None, today: date | None = None) -> list[Evaluation]:
    """Every KPI goal evaluated: a fixed number of queries whatever the number of goals."""
    today = today or timezone.localdate()
    root = Unit.objects.filter(depth=1).order_by("path").first()
    goals = list(kpi_goals(year))
    inputs = kpi_inputs(goals, root, today)
    return [
        evaluate_kpi(goal, getattr(goal, "kpi", None), root, today=today, **inputs.get(goal.pk, {}))
        for goal in goals
    ]
