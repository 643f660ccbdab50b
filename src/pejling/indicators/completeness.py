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
last ``WINDOW`` periods only; the batch (:func:`recent_completeness`, goal evaluation and the
API's series) reads each unit's presence from the roll-up cache instead (``IndicatorPresence``,
kept on write by ``aggregate.py``), and judges it by the same rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl
from django.db import connection
from django.db.models import Max, Q

from pejling.indicators.aggregate import presence_slot
from pejling.indicators.models import Aggregation, Indicator, IndicatorPresence, IndicatorValue
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
    def share(self) -> float:
        """Reported ÷ expected, from 0 to 1 (1 when no unit usually reports)."""
        return 1.0 if not self.expected else self.reported / self.expected

    @property
    def percent(self) -> int:
        return 100 if not self.expected else round(100 * self.reported / self.expected)


def _base(indicator: Indicator) -> Indicator:
    """The stored measure behind the indicator (a ratio's numerator)."""
    if indicator.aggregation == Aggregation.RATIO and indicator.numerator is not None:
        return indicator.numerator
    return indicator


def _judged(
    periods: list[str], groups: list[tuple[int, int, tuple[int, ...]]]
) -> dict[str, PeriodCompleteness]:
    """The rule, on presence masks: each group is (mask, units, their ids) of units that have a
    value in exactly the periods whose bits are set in ``mask`` (bit ``i``: ``periods[i]``,
    oldest first). A unit usually reports in period ``i`` when its mask has ``needed`` of the
    ``LOOKBACK`` bits before ``i`` (two; one for the second period); the first period has no
    history and counts as complete. Ids may be left out (``()``): ``missing`` then says who
    only for the groups that name their units."""
    out: dict[str, PeriodCompleteness] = {}
    for i, period in enumerate(periods):
        bit = 1 << i
        if i == 0:
            present = sum(units for mask, units, _ids in groups if mask & bit)
            out[period] = PeriodCompleteness(period, present, present)
            continue
        needed = 1 if i == 1 else 2
        window = ((1 << min(i, LOOKBACK)) - 1) << max(0, i - LOOKBACK)
        expected = reported = 0
        missing: list[int] = []
        for mask, units, ids in groups:
            if (mask & window).bit_count() >= needed:
                expected += units
                if mask & bit:
                    reported += units
                else:
                    missing.extend(ids)
        out[period] = PeriodCompleteness(period, reported, expected, tuple(sorted(missing)))
    return out


def judge(history: Iterable[tuple[str, set[int]]]) -> dict[str, PeriodCompleteness]:
    """Completeness of each period of ``history`` (periods oldest first, each with the units
    that have values), by the units that usually report (see the module's docstring)."""
    periods: list[str] = []
    masks: dict[int, int] = defaultdict(int)
    for i, (period, units) in enumerate(history):
        periods.append(period)
        for unit_id in units:
            masks[unit_id] |= 1 << i
    by_mask: dict[int, list[int]] = defaultdict(list)
    for unit_id, mask in masks.items():
        by_mask[mask].append(unit_id)
    return _judged(periods, [(mask, len(ids), tuple(ids)) for mask, ids in by_mask.items()])


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
    a list of values, or a polars frame from the fast reader; or ``imports.FileCheck``, a
    whole file's check, which gathered them chunk by chunk)."""
    incoming: dict[tuple[int, str, date], set[int]] = defaultdict(set)
    gathered = getattr(checked, "incoming", None)
    if gathered is not None:
        for (indicator_id, period), units in gathered.items():
            incoming[(indicator_id, period, gathered.starts[period])].update(units)
        return incoming
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


def _presence(
    plans: dict[tuple[int, int], tuple[int, str, list[str]]],
) -> dict[tuple[int, int], dict[int, int]]:
    """For each plan (base indicator, its unit's path, its periods oldest first): how many
    units of the subtree have values in exactly the periods whose bits are set in a mask
    (bit ``i``: the plan's ``i``-th period), units with none left out.

    One query: each unit's presence as the roll-up cache keeps it (``IndicatorPresence``, a
    row per unit and block of 60 periods, read by its (indicator, unit, block) index); the
    database puts each unit's blocks side by side and counts the units with the same masks,
    so the answer is a row per distinct presence (one or a few when the units report
    alike), not one per unit."""
    slots = {key: [presence_slot(p) for p in periods] for key, (_b, _p, periods) in plans.items()}
    blocks = {key: tuple(sorted({s[0] for s in found if s})) for key, found in slots.items()}
    # Plans that read the same rows (the same base, subtree and blocks) are asked once.
    asked = sorted({(plans[key][0], plans[key][1], blocks[key]) for key in plans if blocks[key]})
    if not asked:
        return {key: {} for key in plans}
    width = max(len(read) for _b, _p, read in asked)
    parts = []
    params: list[Any] = []
    for n, (base, prefix, read) in enumerate(asked):
        columns = ", ".join(
            f"SUM(CASE WHEN p.block = %s THEN p.mask ELSE 0 END) AS m{c}" for c in range(width)
        )
        parts.append(
            f"SELECT {n} AS plan, {', '.join(f'm{c}' for c in range(width))}, COUNT(*) FROM"  # noqa: S608 - names from the models
            f" (SELECT {columns} FROM {IndicatorPresence._meta.db_table} p"
            f" JOIN {Unit._meta.db_table} u ON u.id = p.unit_id WHERE p.indicator_id = %s"
            f" AND u.path LIKE %s AND p.block IN ({', '.join(['%s'] * len(read))})"
            f" GROUP BY p.unit_id) units{n} GROUP BY {', '.join(f'm{c}' for c in range(width))}"
        )
        # A plan with fewer blocks than the widest compares its missing columns with -1: none.
        params += [*read, *[-1] * (width - len(read)), base, prefix + "%", *read]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    alike: dict[int, list[tuple[tuple[int, ...], int]]] = defaultdict(list)
    for n, *masks, units in rows:
        alike[n].append((tuple(int(m or 0) for m in masks), int(units)))
    out: dict[tuple[int, int], dict[int, int]] = {}
    for key in plans:
        found: dict[int, int] = defaultdict(int)
        if blocks[key]:
            column = {block: c for c, block in enumerate(blocks[key])}
            for masks, units in alike[asked.index((plans[key][0], plans[key][1], blocks[key]))]:
                mine = 0
                for i, slot in enumerate(slots[key]):
                    if slot and masks[column[slot[0]]] >> slot[1] & 1:
                        mine |= 1 << i
                if mine:
                    found[mine] += units
        out[key] = found
    return out


def recent_completeness(
    wanted: dict[tuple[int, int], tuple[Indicator, Unit, list[str]]],
    *,
    recent: int | None = RECENT,
) -> dict[tuple[int, int], dict[str, PeriodCompleteness]]:
    """For each (indicator id, unit id) → (indicator, unit, its series' periods oldest first):
    the completeness of the last ``recent`` periods (all of them: ``None``), judged against the
    ``LOOKBACK`` periods before them, in one query whatever the number of goals, units or
    values. Older periods are not judged (read as complete), which is all goal evaluation
    needs: the trailing incomplete periods.

    Each unit's presence is read from the roll-up cache (``IndicatorPresence``: a row per unit
    and block of periods, kept on write), so the answer is a few rows per unit, not one per
    value; units with the same presence are judged together. ``missing`` is left empty (ask
    :func:`completeness` for a period's missing units)."""
    plans: dict[tuple[int, int], tuple[int, str, list[str]]] = {}
    for key, (indicator, unit, periods) in wanted.items():
        judged = periods if recent is None else periods[max(0, len(periods) - recent - LOOKBACK) :]
        if judged:
            plans[key] = (_base(indicator).pk, unit.path, judged)
    if not plans:
        return {}
    masks = _presence(plans)
    out = {}
    for key, (_base_id, _prefix, periods) in plans.items():
        found = _judged(periods, [(mine, units, ()) for mine, units in masks[key].items()])
        kept = periods if recent is None else periods[max(0, len(periods) - recent) :]
        out[key] = {p: found[p] for p in kept}
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
