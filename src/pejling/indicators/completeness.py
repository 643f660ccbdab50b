"""Completeness and staleness of an indicator's values.

*Complete*: a period is complete when every unit that usually reports has a value in it. The
units that usually report in a period are those with a value in at least two of the three
periods before it (in the one before it, for the second period of a series); the first period
has no history and counts as complete. A month where three of twelve usual units have values
is incomplete, and its roll-up (a sum of three units) is not a fall in the indicator: the
import preview, the chart, the breakdown and goal evaluation say so, and evaluation uses the
last complete period.

*Outdated*: an indicator with an expected update frequency whose newest value is older than
that (the end of its newest period plus the frequency is past) says it is outdated.

Reads the stored values (a fixed number of queries whatever the size of the tree), over the
last ``WINDOW`` periods only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl
from django.db.models import Max, Q

from pejling.indicators.models import Aggregation, Indicator, IndicatorValue
from pejling.organisation.models import Unit

LOOKBACK = 3
WINDOW = 60


@dataclass(frozen=True)
class PeriodCompleteness:
    period: str
    reported: int  # usual units with a value
    expected: int  # units that usually report
    missing: tuple[int, ...] = ()  # ids of usual units without a value

    @property
    def complete(self) -> bool:
        return self.reported >= self.expected

    @property
    def percent(self) -> int:
        return 100 if not self.expected else round(100 * self.reported / self.expected)


def _base(indicator: Indicator) -> Indicator:
    """The stored measure behind the indicator (a ratio's numerator)."""
    if indicator.aggregation == Aggregation.RATIO and indicator.numerator is not None:
        return indicator.numerator
    return indicator


def judge(history: Iterable[tuple[str, set[int]]]) -> dict[str, PeriodCompleteness]:
    """Completeness of each period of ``history`` (periods oldest first, each with the units
    that have values), by the units that usually report (see the module's docstring)."""
    periods = list(history)
    out: dict[str, PeriodCompleteness] = {}
    for i, (period, units) in enumerate(periods):
        before = [u for _, u in periods[max(0, i - LOOKBACK) : i]]
        if not before:
            out[period] = PeriodCompleteness(period, len(units), len(units))
            continue
        needed = 1 if len(before) == 1 else 2
        counts: dict[int, int] = defaultdict(int)
        for units_then in before:
            for unit_id in units_then:
                counts[unit_id] += 1
        usual = {unit_id for unit_id, n in counts.items() if n >= needed}
        missing = tuple(sorted(usual - units))
        out[period] = PeriodCompleteness(period, len(usual) - len(missing), len(usual), missing)
    return out


def _history(
    indicator_id: int, unit: Unit | None, *, before: date | None = None
) -> list[tuple[str, date, set[int]]]:
    """The last ``WINDOW`` periods with values (oldest first), each with its reporting units."""
    qs = IndicatorValue.objects.filter(indicator_id=indicator_id)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if before is not None:
        qs = qs.filter(period_start__lt=before)
    starts = list(
        qs.values_list("period_start", flat=True).distinct().order_by("-period_start")[:WINDOW]
    )
    if not starts:
        return []
    by_period: dict[tuple[date, str], set[int]] = defaultdict(set)
    for period, start, unit_id in qs.filter(period_start__gte=starts[-1]).values_list(
        "period", "period_start", "unit_id"
    ):
        by_period[(start, period)].add(unit_id)
    return [(period, start, units) for (start, period), units in sorted(by_period.items())]


def completeness(indicator: Indicator, unit: Unit | None) -> dict[str, PeriodCompleteness]:
    """Each recent period of the indicator in ``unit``'s subtree (None: everywhere)."""
    history = _history(_base(indicator).pk, unit)
    return judge((period, units) for period, _start, units in history)


def incomplete_periods(indicator: Indicator, unit: Unit | None) -> dict[str, PeriodCompleteness]:
    return {p: c for p, c in completeness(indicator, unit).items() if not c.complete}


def last_complete(
    periods: list[str], judged: dict[str, PeriodCompleteness]
) -> tuple[str | None, list[PeriodCompleteness]]:
    """The newest of ``periods`` (oldest first) that is complete, and the incomplete periods
    after it (an incomplete period before a complete one is history, not a trailing gap)."""
    trailing: list[PeriodCompleteness] = []
    for period in reversed(periods):
        found = judged.get(period)
        if found is None or found.complete:
            return period, list(reversed(trailing))
        trailing.append(found)
    return None, list(reversed(trailing))


def of_upload(
    incoming: dict[tuple[int, str, date], set[int]],
) -> dict[tuple[int, str], PeriodCompleteness]:
    """For an upload's values ((indicator id, period, its start) → unit ids): how complete
    each period will be, counting values already stored for it, against the units that usually
    reported in the stored periods before it. One query per indicator and period."""
    out: dict[tuple[int, str], PeriodCompleteness] = {}
    for (indicator_id, period, start), unit_ids in sorted(
        incoming.items(), key=lambda kv: kv[0][2]
    ):
        stored = set(
            IndicatorValue.objects.filter(indicator_id=indicator_id, period=period).values_list(
                "unit_id", flat=True
            )
        )
        before = _history(indicator_id, None, before=start)[-LOOKBACK:]
        judged = judge([*((p, u) for p, _s, u in before), (period, unit_ids | stored)])
        out[(indicator_id, period)] = judged[period]
    return out


def incoming_units(checked: Any) -> dict[tuple[int, str, date], set[int]]:
    """The units of each indicator and period in checked upload values (``imports.Checked``:
    a list of values, or a polars frame from the fast reader)."""
    incoming: dict[tuple[int, str, date], set[int]] = defaultdict(set)
    if checked.frame is not None:
        # Grouped in polars: a million rows never become Python tuples.
        groups = checked.frame.group_by(["indicator_id", "period", "period_start"]).agg(
            pl.col("unit_id").unique().alias("units")
        )
        for indicator_id, period, start, units in groups.iter_rows():
            incoming[(indicator_id, period, start)].update(units)
    else:
        for value in checked.values:
            incoming[(value.indicator_id, value.period, value.period_start)].add(value.unit_id)
    return incoming


@dataclass(frozen=True)
class Staleness:
    newest_period: str
    newest_end: date
    due: date


def outdated(indicator: Indicator, today: date) -> Staleness | None:
    """The newest value and when a newer one was due, when it is overdue; else None."""
    if not indicator.update_frequency:
        return None
    base = _base(indicator)
    newest = (
        IndicatorValue.objects.filter(indicator=base)
        .values("period", "period_end")
        .order_by("-period_end")
        .first()
    )
    if newest is None:
        return None
    due = newest["period_end"] + timedelta(days=indicator.update_frequency)
    if due >= today:
        return None
    return Staleness(newest["period"], newest["period_end"], due)


def outdated_ids(indicators: list[Indicator], today: date) -> set[int]:
    """Which of ``indicators`` are outdated, in one query (for lists)."""
    bases = {i.pk: _base(i).pk for i in indicators if i.update_frequency}
    if not bases:
        return set()
    ends = dict(
        IndicatorValue.objects.filter(indicator_id__in=set(bases.values()))
        .values("indicator_id")
        .annotate(end=Max("period_end"))
        .values_list("indicator_id", "end")
    )
    return {
        i.pk
        for i in indicators
        if i.pk in bases
        and ends.get(bases[i.pk]) is not None
        and ends[bases[i.pk]] + timedelta(days=i.update_frequency or 0) < today
    }


# Batches: many goals' completeness and staleness in a fixed number of queries ----------------

RECENT = 12  # the trailing periods judged when a goal is evaluated in a batch


def recent_completeness(
    wanted: dict[tuple[int, int], tuple[Indicator, Unit, list[str]]],
) -> dict[tuple[int, int], dict[str, PeriodCompleteness]]:
    """For each (indicator id, unit id) → (indicator, unit, its series' periods oldest first):
    the completeness of the last ``RECENT`` periods (judged against the ``LOOKBACK`` before
    them), in one query whatever the number of goals. Older periods are not judged (read as
    complete), which is all goal evaluation needs: the trailing incomplete periods."""
    plans: dict[tuple[int, int], tuple[int, str, list[str]]] = {}
    condition = Q(pk__in=[])
    for key, (indicator, unit, periods) in wanted.items():
        recent = periods[-(RECENT + LOOKBACK) :]
        if not recent:
            continue
        base = _base(indicator).pk
        plans[key] = (base, unit.path, recent)
        condition |= Q(indicator_id=base, unit__path__startswith=unit.path, period__in=recent)
    if not plans:
        return {}
    rows = IndicatorValue.objects.filter(condition).values_list(
        "indicator_id", "period", "unit_id", "unit__path"
    )
    units: dict[tuple[int, int], dict[str, set[int]]] = {k: defaultdict(set) for k in plans}
    by_base: dict[int, list[tuple[tuple[int, int], str, set[str]]]] = defaultdict(list)
    for key, (base, prefix, recent) in plans.items():
        by_base[base].append((key, prefix, set(recent)))
    for indicator_id, period, unit_id, path in rows:
        for key, prefix, recent_set in by_base[indicator_id]:
            if path.startswith(prefix) and period in recent_set:
                units[key][period].add(unit_id)
    out = {}
    for key, (_base_id, _prefix, recent) in plans.items():
        judged = judge((period, units[key].get(period, set())) for period in recent)
        out[key] = {p: c for p, c in judged.items() if p in recent[-RECENT:]}
    return out


def staleness_of(indicators: list[Indicator], today: date) -> dict[int, Staleness | None]:
    """:func:`outdated` of each of ``indicators`` by id, in one query."""
    bases = {i.pk: _base(i).pk for i in indicators if i.update_frequency}
    newest: dict[int, tuple[str, date]] = {}
    if bases:
        ends = dict(
            IndicatorValue.objects.filter(indicator_id__in=set(bases.values()))
            .values("indicator_id")
            .annotate(end=Max("period_end"))
            .values_list("indicator_id", "end")
        )
        at_end = Q(pk__in=[])
        for indicator_id, end in ends.items():
            at_end |= Q(indicator_id=indicator_id, period_end=end)
        for indicator_id, period, end in (
            IndicatorValue.objects.filter(at_end)
            .values_list("indicator_id", "period", "period_end")
            .distinct()
        ):
            newest.setdefault(indicator_id, (period, end))
    out: dict[int, Staleness | None] = {}
    for indicator in indicators:
        found = newest.get(bases.get(indicator.pk, -1))
        due = found[1] + timedelta(days=indicator.update_frequency or 0) if found else None
        out[indicator.pk] = (
            Staleness(found[0], found[1], due) if found and due and due < today else None
        )
    return out
