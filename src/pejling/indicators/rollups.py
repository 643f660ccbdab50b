"""Roll-ups of stored values along the organisation tree, computed set-based in SQL.

A unit's value for a period is computed over its whole subtree (its own value plus every unit
below it) from the stored base values:

* ``sum``: Σ values.
* ``ratio``: Σ numerator ÷ Σ denominator over the subtree (never the mean of the units' ratios),
  times the indicator's scale.
* ``mean``: the mean of the stored values; ``weighted_mean``: Σ(value × weight) ÷ Σ weight over
  the units that carry both; ``max``/``min``: the extreme; ``latest``: summed over the tree like a
  stock, and when a coarser period is asked for, the latest sub-period counts.

Each function is a fixed number of queries whatever the size of the tree: one prefix query on
the materialised path, grouped by period (and by child prefix for drill-downs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import cast

from django.db.models import (
    Avg,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Length, Substr

from pejling.indicators.models import Aggregation, Indicator, IndicatorValue
from pejling.organisation.models import Unit

_AGG = {
    Aggregation.SUM: Sum,
    Aggregation.LATEST: Sum,
    Aggregation.MEAN: Avg,
    Aggregation.MAX: Max,
    Aggregation.MIN: Min,
}


@dataclass(frozen=True)
class Point:
    period: str
    period_start: date
    value: Decimal


def _values(
    indicator: Indicator, unit: Unit, start: date | None, end: date | None
) -> QuerySet[IndicatorValue]:
    qs = IndicatorValue.objects.filter(indicator=indicator, unit__path__startswith=unit.path)
    if start is not None:
        qs = qs.filter(period_start__gte=start)
    if end is not None:
        qs = qs.filter(period_start__lte=end)
    return qs


def _grouped(
    indicator: Indicator, qs: QuerySet[IndicatorValue], keys: list[str]
) -> dict[tuple, Decimal]:
    """Aggregate ``qs`` (values of ``indicator``) grouped by ``keys`` with its own rule."""
    aggregation = indicator.aggregation
    if aggregation == Aggregation.WEIGHTED_MEAN:
        weight = Subquery(
            IndicatorValue.objects.filter(
                indicator_id=cast(int, indicator.weight_id),
                unit_id=OuterRef("unit_id"),
                period=OuterRef("period"),
            ).values("value")[:1]
        )
        rows = (
            qs.annotate(w=weight)
            .filter(w__isnull=False)
            .values(*keys)
            .annotate(
                vw=Sum(
                    ExpressionWrapper(
                        F("value") * F("w"),
                        output_field=DecimalField(max_digits=30, decimal_places=8),
                    )
                ),
                sw=Sum("w"),
            )
        )
        return {tuple(r[k] for k in keys): _div(r["vw"], r["sw"]) for r in rows if r["sw"]}
    func = _AGG[Aggregation(aggregation)]
    rows = qs.values(*keys).annotate(v=func("value"))
    return {tuple(r[k] for k in keys): _dec(r["v"]) for r in rows if r["v"] is not None}


def _dec(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _div(num: object, den: object) -> Decimal:
    return _dec(num) / _dec(den)


def _ratio(
    indicator: Indicator, num: dict[tuple, Decimal], den: dict[tuple, Decimal]
) -> dict[tuple, Decimal]:
    return {key: n / den[key] * indicator.scale for key, n in num.items() if den.get(key)}


def series(
    indicator: Indicator, unit: Unit, *, start: date | None = None, end: date | None = None
) -> list[Point]:
    """The indicator for ``unit``'s subtree, one point per period, oldest first."""
    keys = ["period", "period_start"]
    if indicator.aggregation == Aggregation.RATIO:
        assert indicator.numerator is not None and indicator.denominator is not None
        num = _grouped(indicator.numerator, _values(indicator.numerator, unit, start, end), keys)
        den = _grouped(
            indicator.denominator, _values(indicator.denominator, unit, start, end), keys
        )
        values = _ratio(indicator, num, den)
    else:
        values = _grouped(indicator, _values(indicator, unit, start, end), keys)
    return [Point(k[0], k[1], v) for k, v in sorted(values.items(), key=lambda item: item[0][1])]


@dataclass(frozen=True)
class Breakdown:
    """One period of a unit broken down: its own value and each child's rolled-up value."""

    total: Decimal | None
    own: Decimal | None
    children: list[tuple[Unit, Decimal | None]]


def breakdown(indicator: Indicator, unit: Unit, period: str) -> Breakdown:
    """Drill down one level: the unit's rolled-up total, its own value and each child's roll-up."""
    children = list(
        Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1).order_by("name")
    )
    prefix_length = len(unit.path) + unit.steplen

    def by_child(
        ind: Indicator,
    ) -> tuple[dict[tuple, Decimal], dict[tuple, Decimal], dict[tuple, Decimal]]:
        qs = IndicatorValue.objects.filter(
            indicator=ind, unit__path__startswith=unit.path, period=period
        )
        below = qs.annotate(path_len=Length("unit__path")).filter(path_len__gt=len(unit.path))
        per_child = _grouped(
            ind, below.annotate(child=Substr("unit__path", 1, prefix_length)), ["child"]
        )
        own = _grouped(ind, qs.filter(unit=unit), ["period"])
        total = _grouped(ind, qs, ["period"])
        return per_child, own, total

    if indicator.aggregation == Aggregation.RATIO:
        assert indicator.numerator is not None and indicator.denominator is not None
        n_child, n_own, n_total = by_child(indicator.numerator)
        d_child, d_own, d_total = by_child(indicator.denominator)
        per_child = _ratio(indicator, n_child, d_child)
        own = _ratio(indicator, n_own, d_own)
        total = _ratio(indicator, n_total, d_total)
    else:
        per_child, own, total = by_child(indicator)
    return Breakdown(
        total=total.get((period,)),
        own=own.get((period,)),
        children=[(child, per_child.get((child.path,))) for child in children],
    )


def latest_periods(indicator: Indicator, limit: int = 24) -> list[str]:
    base = indicator.numerator if indicator.aggregation == Aggregation.RATIO else indicator
    assert base is not None
    rows = (
        IndicatorValue.objects.filter(indicator=base)
        .values_list("period", "period_start")
        .distinct()
        .order_by("-period_start")[:limit]
    )
    return [period for period, _start in rows]


def units_with_values(indicator: Indicator) -> QuerySet[Unit]:
    base = indicator.numerator if indicator.aggregation == Aggregation.RATIO else indicator
    return Unit.objects.filter(Q(indicator_values__indicator=base)).distinct()


__all__ = ["Breakdown", "Point", "breakdown", "latest_periods", "series", "units_with_values"]
