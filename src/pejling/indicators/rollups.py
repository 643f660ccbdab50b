"""Roll-ups of stored values along the organisation tree, read from the roll-up cache.

A unit's value for a period is computed over its whole subtree (its own value plus every unit
below it) from the stored base values:

* ``sum``: Σ values.
* ``ratio``: Σ numerator ÷ Σ denominator over the subtree (never the mean of the units' ratios),
  times the indicator's scale.
* ``mean``: the mean of the stored values; ``weighted_mean``: Σ(value × weight) ÷ Σ weight over
  the units that carry both; ``max``/``min``: the extreme; ``latest``: summed over the tree like a
  stock.

The sums, counts and extremes per indicator × unit × period are kept current on every write
(``aggregate.py``, the table ``IndicatorRollup``), so a unit's series is one indexed read
whatever the size of its subtree; :func:`value_of` turns a cached row into the rule's number.
Each function is a fixed number of queries whatever the size of the tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from pejling.indicators.models import Aggregation, Indicator, IndicatorRollup, IndicatorValue
from pejling.organisation.models import Unit


@dataclass(frozen=True)
class Point:
    period: str
    period_start: date
    value: Decimal


@dataclass(frozen=True)
class Cell:
    """What the cache holds for one base indicator, unit and period (or one stored value)."""

    count: int
    total: Decimal
    lowest: Decimal
    highest: Decimal
    weighted: Decimal | None
    weights: Decimal | None


_CELL = ("count", "total", "lowest", "highest", "weighted", "weights")


def _dec(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _cell(row: dict[str, Any]) -> Cell:
    return Cell(
        count=row["count"],
        total=_dec(row["total"]),
        lowest=_dec(row["lowest"]),
        highest=_dec(row["highest"]),
        weighted=None if row["weighted"] is None else _dec(row["weighted"]),
        weights=None if row["weights"] is None else _dec(row["weights"]),
    )


def base_ids(indicator: Indicator) -> list[int]:
    """The indicators whose stored values make ``indicator`` (a ratio: its two parts)."""
    if indicator.aggregation == Aggregation.RATIO:
        return [pk for pk in (indicator.numerator_id, indicator.denominator_id) if pk]
    return [indicator.pk]


def value_of(indicator: Indicator, cells: dict[int, Cell]) -> Decimal | None:
    """The indicator's value by its rule from the cells of its base indicators (by id)."""
    aggregation = indicator.aggregation
    if aggregation == Aggregation.RATIO:
        num = cells.get(indicator.numerator_id or 0)
        den = cells.get(indicator.denominator_id or 0)
        if num is None or den is None or not den.total:
            return None
        return num.total / den.total * indicator.scale
    cell = cells.get(indicator.pk)
    if cell is None:
        return None
    if aggregation == Aggregation.MEAN:
        return cell.total / cell.count
    if aggregation == Aggregation.MAX:
        return cell.highest
    if aggregation == Aggregation.MIN:
        return cell.lowest
    if aggregation == Aggregation.WEIGHTED_MEAN:
        if cell.weighted is None or not cell.weights:
            return None
        return cell.weighted / cell.weights
    return cell.total  # sum, latest


def count_of(indicator: Indicator, cells: dict[int, Cell]) -> int:
    """How many stored values (units) stand behind the value (a ratio: its numerator's)."""
    first = base_ids(indicator)
    cell = cells.get(first[0]) if first else None
    return cell.count if cell else 0


def _rows(indicator: Indicator, units: list[int], **filters: Any) -> QuerySet[IndicatorRollup]:
    return IndicatorRollup.objects.filter(
        indicator_id__in=base_ids(indicator), unit_id__in=units, **filters
    )


def cells_by(
    indicator: Indicator, unit_ids: list[int], **filters: Any
) -> dict[tuple[int, str], tuple[date, dict[int, Cell]]]:
    """The cached cells of ``indicator``'s base indicators by (unit, period), in one query."""
    grouped: dict[tuple[int, str], tuple[date, dict[int, Cell]]] = {}
    for row in _rows(indicator, unit_ids, **filters).values(
        "indicator_id", "unit_id", "period", "period_start", *_CELL
    ):
        key = (row["unit_id"], row["period"])
        grouped.setdefault(key, (row["period_start"], {}))[1][row["indicator_id"]] = _cell(row)
    return grouped


def series(
    indicator: Indicator, unit: Unit, *, start: date | None = None, end: date | None = None
) -> list[Point]:
    """The indicator for ``unit``'s subtree, one point per period, oldest first (one query)."""
    filters: dict[str, Any] = {}
    if start is not None:
        filters["period_start__gte"] = start
    if end is not None:
        filters["period_start__lte"] = end
    points = []
    for (_unit, period), (period_start, cells) in cells_by(indicator, [unit.pk], **filters).items():
        value = value_of(indicator, cells)
        if value is not None:
            points.append(Point(period, period_start, value))
    return sorted(points, key=lambda p: p.period_start)


def series_of_many(pairs: list[tuple[Indicator, Unit]]) -> dict[tuple[int, int], list[Point]]:
    """The series of many (indicator, unit) pairs in one query, keyed by their ids: goal
    evaluation reads every KPI goal's series at once, whatever the number of goals."""
    if not pairs:
        return {}
    bases = {pk for indicator, _unit in pairs for pk in base_ids(indicator)}
    units = {unit.pk for _indicator, unit in pairs}
    cells: dict[tuple[int, str], tuple[date, dict[int, Cell]]] = {}
    for row in IndicatorRollup.objects.filter(indicator_id__in=bases, unit_id__in=units).values(
        "indicator_id", "unit_id", "period", "period_start", *_CELL
    ):
        key = (row["unit_id"], row["period"])
        cells.setdefault(key, (row["period_start"], {}))[1][row["indicator_id"]] = _cell(row)
    by_unit: dict[int, list[tuple[str, date, dict[int, Cell]]]] = {}
    for (unit_id, period), (period_start, found) in cells.items():
        by_unit.setdefault(unit_id, []).append((period, period_start, found))
    result: dict[tuple[int, int], list[Point]] = {}
    for indicator, unit in pairs:
        points = []
        for period, period_start, found in by_unit.get(unit.pk, []):
            value = value_of(indicator, found)
            if value is not None:
                points.append(Point(period, period_start, value))
        result[(indicator.pk, unit.pk)] = sorted(points, key=lambda p: p.period_start)
    return result


@dataclass(frozen=True)
class Breakdown:
    """One period of a unit broken down: its own value and each child's rolled-up value."""

    total: Decimal | None
    own: Decimal | None
    children: list[tuple[Unit, Decimal | None]]


def own_cells(indicator: Indicator, unit: Unit, period: str) -> dict[int, Cell]:
    """The unit's own stored values of the base indicators as cells (one query)."""
    ids = base_ids(indicator)
    weight_id = indicator.weight_id if indicator.aggregation == Aggregation.WEIGHTED_MEAN else None
    stored = dict(
        IndicatorValue.objects.filter(
            indicator_id__in=[*ids, *([weight_id] if weight_id else [])],
            unit=unit,
            period=period,
        ).values_list("indicator_id", "value")
    )
    cells = {}
    for pk in ids:
        if pk in stored:
            value = _dec(stored[pk])
            weight = stored.get(weight_id) if weight_id else None
            cells[pk] = Cell(
                1,
                value,
                value,
                value,
                None if weight is None else value * _dec(weight),
                None if weight is None else _dec(weight),
            )
    return cells


def breakdown(indicator: Indicator, unit: Unit, period: str) -> Breakdown:
    """Drill down one level: the unit's rolled-up total, its own value and each child's roll-up."""
    children = list(
        Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1).order_by("name")
    )
    cells = cells_by(indicator, [unit.pk, *(c.pk for c in children)], period=period)

    def of(pk: int) -> Decimal | None:
        found = cells.get((pk, period))
        return value_of(indicator, found[1]) if found else None

    return Breakdown(
        total=of(unit.pk),
        own=value_of(indicator, own_cells(indicator, unit, period)),
        children=[(child, of(child.pk)) for child in children],
    )


@dataclass(frozen=True)
class CountedPoint:
    """A point with how many stored values (units) stand behind it."""

    period: str
    period_start: date
    value: Decimal
    count: int


def _range(start: date | None, end: date | None) -> dict[str, date]:
    filters = {}
    if start is not None:
        filters["period_start__gte"] = start
    if end is not None:
        filters["period_start__lte"] = end
    return filters


def _points(
    indicator: Indicator, cells: dict[str, tuple[date, dict[int, Cell]]]
) -> list[CountedPoint]:
    points = []
    for period, (period_start, found) in cells.items():
        value = value_of(indicator, found)
        if value is not None:
            points.append(CountedPoint(period, period_start, value, count_of(indicator, found)))
    return sorted(points, key=lambda p: p.period_start)


def subtree_series(
    indicator: Indicator, units: list[Unit], *, start: date | None = None, end: date | None = None
) -> dict[int, list[CountedPoint]]:
    """Each unit's rolled-up series side by side (one query for any number of units)."""
    by_unit: dict[int, dict[str, tuple[date, dict[int, Cell]]]] = {u.pk: {} for u in units}
    for (unit_id, period), found in cells_by(
        indicator, [u.pk for u in units], **_range(start, end)
    ).items():
        by_unit[unit_id][period] = found
    return {pk: _points(indicator, cells) for pk, cells in by_unit.items()}


def own_series(
    indicator: Indicator, unit: Unit, *, start: date | None = None, end: date | None = None
) -> list[CountedPoint]:
    """The unit's own stored values by the indicator's rule, without its subtree (one query)."""
    ids = base_ids(indicator)
    weight_id = indicator.weight_id if indicator.aggregation == Aggregation.WEIGHTED_MEAN else None
    stored: dict[str, tuple[date, dict[int, Decimal]]] = {}
    for indicator_id, period, period_start, value in IndicatorValue.objects.filter(
        indicator_id__in=[*ids, *([weight_id] if weight_id else [])],
        unit=unit,
        **_range(start, end),
    ).values_list("indicator_id", "period", "period_start", "value"):
        stored.setdefault(period, (period_start, {}))[1][indicator_id] = _dec(value)
    cells: dict[str, tuple[date, dict[int, Cell]]] = {}
    for period, (period_start, values) in stored.items():
        weight = values.get(weight_id) if weight_id else None
        cells[period] = (
            period_start,
            {
                pk: Cell(
                    1,
                    values[pk],
                    values[pk],
                    values[pk],
                    None if weight is None else values[pk] * weight,
                    weight,
                )
                for pk in ids
                if pk in values
            },
        )
    return _points(indicator, cells)


def latest_periods(indicator: Indicator, limit: int = 24) -> list[str]:
    """The newest periods with a value anywhere (read from the roots' cached rows)."""
    rows = (
        IndicatorRollup.objects.filter(indicator_id__in=base_ids(indicator)[:1], unit__depth=1)
        .values_list("period", "period_start")
        .distinct()
        .order_by("-period_start")[:limit]
    )
    return [period for period, _start in rows]


def indicator_ids_with_data(unit: Unit) -> set[int]:
    """The base indicators with any value in ``unit``'s subtree (one indexed query)."""
    return set(
        IndicatorRollup.objects.filter(unit=unit)
        .values_list("indicator_id", flat=True)
        .distinct()
        .order_by()
    )


def units_with_values(indicator: Indicator) -> QuerySet[Unit]:
    base = indicator.numerator if indicator.aggregation == Aggregation.RATIO else indicator
    return Unit.objects.filter(indicator_values__indicator=base).distinct()


__all__ = [
    "Breakdown",
    "Cell",
    "CountedPoint",
    "Point",
    "base_ids",
    "breakdown",
    "cells_by",
    "count_of",
    "indicator_ids_with_data",
    "latest_periods",
    "own_series",
    "series",
    "series_of_many",
    "subtree_series",
    "units_with_values",
    "value_of",
]
