"""Reads on the development portfolio: lists with their filters, the funnel, benefits expected
against realised, and the reinvestment ledger's balance rolled up the organisation tree."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Substr

from pejling.indicators.rollups import series
from pejling.organisation.models import Unit
from pejling.portfolio.models import (
    STAGE_ORDER,
    Assignment,
    Benefit,
    BenefitClass,
    BenefitYear,
    Challenge,
    ChallengeState,
    LedgerEntry,
    Placement,
    Stage,
)
from pejling.strategy.models import Element

ZERO = Decimal(0)


# Challenges ---------------------------------------------------------------------------------


def challenge_list(
    *,
    kind: str = "",
    state: str = "",
    unit: Unit | None = None,
    goal: Element | None = None,
    q: str = "",
) -> QuerySet[Challenge]:
    qs = (
        Challenge.objects.select_related("unit", "submitted_by", "workshop")
        .prefetch_related("goals")
        .annotate(support_count=Count("supports", distinct=True))
    )
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if goal is not None:
        qs = qs.filter(Q(goals=goal) | Q(goals__parent=goal)).distinct()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q))
    return qs


@dataclass(frozen=True)
class FunnelStep:
    key: str
    count: int


@dataclass(frozen=True)
class Funnel:
    steps: list[FunnelStep]  # each step counts those that reached it
    parked: int
    rejected: int
    merged: int
    stopped: int

    @property
    def top(self) -> int:
        return self.steps[0].count if self.steps else 0


def challenge_funnel(*, unit: Unit | None = None) -> Funnel:
    """How far challenges got: submitted → on an agenda → assigned → tested → implemented → in
    operation. Two grouped queries whatever the number of challenges."""
    challenges = Challenge.objects.all()
    if unit is not None:
        challenges = challenges.filter(unit__path__startswith=unit.path)
    by_state = dict(
        challenges.values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    by_stage = dict(
        Assignment.objects.filter(decision__challenge__in=challenges)
        .values_list("stage")
        .annotate(n=Count("pk"))
        .values_list("stage", "n")
    )
    total = sum(by_state.values())
    submitted_only = by_state.get(ChallengeState.SUBMITTED, 0)

    def reached(stage: str) -> int:
        index = STAGE_ORDER.index(Stage(stage))
        return sum(by_stage.get(s, 0) for s in STAGE_ORDER[index:])

    steps = [
        FunnelStep("submitted", total),
        FunnelStep("considered", total - submitted_only),
        FunnelStep("assigned", by_state.get(ChallengeState.ASSIGNED, 0)),
        FunnelStep("test", reached(Stage.TEST)),
        FunnelStep("implement", reached(Stage.IMPLEMENT)),
        FunnelStep("in_operation", reached(Stage.IN_OPERATION)),
    ]
    return Funnel(
        steps=steps,
        parked=by_state.get(ChallengeState.PARKED, 0),
        rejected=by_state.get(ChallengeState.REJECTED, 0),
        merged=by_state.get(ChallengeState.MERGED, 0),
        stopped=by_stage.get(Stage.STOPPED, 0),
    )


# Assignments --------------------------------------------------------------------------------


def assignment_list(
    *,
    unit: Unit | None = None,
    goal: Element | None = None,
    stage: str = "",
    year: int | None = None,
    lead: Any = None,
) -> QuerySet[Assignment]:
    """Assignments with what the list shows, goals read from the linked initiative when there
    is one (the one copy): a fixed number of queries whatever the number of rows."""
    goals = Element.objects.select_related("parent")
    qs = Assignment.objects.select_related(
        "unit", "lead", "initiative", "initiative__agreement", "decision"
    ).prefetch_related(
        Prefetch("goals", queryset=goals), Prefetch("initiative__goals", queryset=goals)
    )
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if goal is not None:
        own = Q(initiative__isnull=True) & (Q(goals=goal) | Q(goals__parent=goal))
        linked = Q(initiative__goals=goal) | Q(initiative__goals__parent=goal)
        qs = qs.filter(pk__in=Assignment.objects.filter(own | linked).values("pk"))
    if stage:
        qs = qs.filter(stage=stage)
    if year is not None:
        qs = qs.filter(year=year)
    if lead is not None:
        qs = qs.filter(lead=lead)
    return qs


def theme_of(goal: Element) -> Element:
    return goal.parent if goal.parent_id and goal.level.holds_goals else goal  # type: ignore[return-value]


# Benefits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Realised:
    value: Decimal
    source: str


def _indicator_years(benefit: Benefit) -> dict[int, Realised]:
    """A benefit measured by an indicator: per year, the yearly value, else the year's latest."""
    assert benefit.indicator is not None
    points = series(benefit.indicator, benefit.assignment.unit)
    source = f"{benefit.indicator.code} {benefit.indicator.name}"
    yearly = {p.period_start.year: p for p in points if p.period == str(p.period_start.year)}
    latest: dict[int, Any] = {}
    for point in points:  # oldest first: the last one of a year stays
        latest[point.period_start.year] = point
    return {
        year: Realised((yearly.get(year) or point).value, source) for year, point in latest.items()
    }


def realised_values(benefits: list[Benefit]) -> dict[tuple[int, int], Realised]:
    """Each benefit's realised value per year: from its indicator when it has one, else as
    recorded with its source. The one home of "what was realised"."""
    result: dict[tuple[int, int], Realised] = {}
    for benefit in benefits:
        if benefit.indicator_id:
            for year, realised in _indicator_years(benefit).items():
                result[(benefit.pk, year)] = realised
            continue
        for row in benefit.years.all():
            if row.realised is not None:
                result[(benefit.pk, row.year)] = Realised(row.realised, row.realised_source)
    return result


def benefits_of(assignment: Assignment) -> list[Benefit]:
    return list(
        assignment.benefits.select_related("goal", "indicator", "owner", "assignment__unit")
        .prefetch_related("years", "ledger_entries__unit")
        .order_by("pk")
    )


@dataclass(frozen=True)
class BenefitTotal:
    year: int
    benefit_class: str
    measure: str
    expected: Decimal | None  # None: nothing expected for the year
    pessimistic: Decimal | None
    optimistic: Decimal | None
    realised: Decimal | None  # None: nothing realised yet

    @property
    def class_label(self) -> str:
        return str(BenefitClass(self.benefit_class).label)

    @property
    def share(self) -> int | None:
        if not self.expected or self.realised is None:
            return None
        return round(self.realised / self.expected * 100)


def _add(total: Decimal | None, value: Decimal | None) -> Decimal | None:
    if value is None:
        return total
    return (total or ZERO) + value


def benefit_totals(*, unit: Unit | None = None) -> list[BenefitTotal]:
    """Expected against realised per year, class and measure (hours, kronor, ...)."""
    scope = {"assignment__unit__path__startswith": unit.path} if unit else {}
    benefits = list(
        Benefit.objects.filter(**scope)
        .select_related("indicator", "assignment__unit")
        .prefetch_related("years")
    )
    realised = realised_values(benefits)
    sums: dict[tuple[int, str, str], list[Decimal | None]] = {}
    for benefit in benefits:
        years = {row.year: row for row in benefit.years.all()}
        years_seen = set(years) | {y for (b, y) in realised if b == benefit.pk}
        for year in years_seen:
            key = (year, benefit.benefit_class, benefit.measure_shown)
            entry = sums.setdefault(key, [None, None, None, None])
            row = years.get(year)
            if row is not None:
                entry[0] = _add(entry[0], row.expected)
                entry[1] = _add(entry[1], row.pessimistic)
                entry[2] = _add(entry[2], row.optimistic)
            found = realised.get((benefit.pk, year))
            entry[3] = _add(entry[3], found.value if found else None)
    return [
        BenefitTotal(year, cls, measure, *values)
        for (year, cls, measure), values in sorted(sums.items())
    ]


# The reinvestment ledger --------------------------------------------------------------------


def placed_amount(*, benefit: Benefit, year: int) -> Decimal:
    total = LedgerEntry.objects.filter(benefit=benefit, year=year).aggregate(s=Sum("amount"))["s"]
    return total or ZERO


def freed_amount(*, benefit: Benefit, year: int) -> Decimal:
    if benefit.benefit_class != BenefitClass.FREED_CAPACITY:
        return ZERO
    found = realised_values([benefit]).get((benefit.pk, year))
    return found.value if found else ZERO


def unplaced_amount(*, benefit: Benefit, year: int) -> Decimal:
    return freed_amount(benefit=benefit, year=year) - placed_amount(benefit=benefit, year=year)


@dataclass
class BalanceRow:
    year: int
    unit: Unit | None  # None: the total
    measure: str
    freed: Decimal = ZERO
    reinvested: Decimal = ZERO
    returned: Decimal = ZERO

    @property
    def unplaced(self) -> Decimal:
        return self.freed - self.reinvested - self.returned

    @property
    def measure_label(self) -> str:
        from pejling.portfolio.models import Measure

        return str(Measure(self.measure).label)


def ledger_balance(*, within: Unit | None = None, year: int | None = None) -> list[BalanceRow]:
    """Freed = reinvested + returned + not yet placed, per year, per unit and per measure.

    Amounts count where the capacity was freed (the benefit's owner unit) and are rolled up to
    the children of ``within`` (to the top units without it): grouped in SQL on the prefix of
    the units' materialised path, so the number of queries does not grow with the tree. Freed
    capacity measured by an indicator adds one query per such benefit."""
    if within is not None:
        prefix_len = len(within.path) + within.steplen
        scope = {"assignment__unit__path__startswith": within.path}
    else:
        prefix_len = Unit.steplen
        scope = {}
    freed_benefits = Benefit.objects.filter(benefit_class=BenefitClass.FREED_CAPACITY, **scope)
    totals: dict[tuple[int, str, str], BalanceRow] = {}

    def row(y: int, prefix: str, measure: str) -> BalanceRow:
        return totals.setdefault((y, prefix, measure), BalanceRow(y, None, measure))

    years = BenefitYear.objects.filter(
        benefit__in=freed_benefits.filter(indicator__isnull=True), realised__isnull=False
    )
    if year is not None:
        years = years.filter(year=year)
    for item in (
        years.annotate(prefix=Substr("benefit__assignment__unit__path", 1, prefix_len))
        .values("year", "prefix", "benefit__measure")
        .annotate(total=Sum("realised"))
    ):
        row(item["year"], item["prefix"], item["benefit__measure"]).freed += item["total"]
    measured = list(
        freed_benefits.filter(indicator__isnull=False).select_related(
            "indicator", "assignment__unit"
        )
    )
    for (benefit_id, y), realised in realised_values(measured).items():
        if year is not None and y != year:
            continue
        benefit = next(b for b in measured if b.pk == benefit_id)
        prefix = benefit.assignment.unit.path[:prefix_len]
        row(y, prefix, benefit.measure).freed += realised.value
    entries = LedgerEntry.objects.filter(**{f"benefit__{k}": v for k, v in scope.items()})
    if year is not None:
        entries = entries.filter(year=year)
    for item in (
        entries.annotate(prefix=Substr("benefit__assignment__unit__path", 1, prefix_len))
        .values("year", "prefix", "benefit__measure", "placement")
        .annotate(total=Sum("amount"))
    ):
        target = row(item["year"], item["prefix"], item["benefit__measure"])
        if item["placement"] == Placement.REINVESTED:
            target.reinvested += item["total"]
        else:
            target.returned += item["total"]
    units = {
        u.path: u
        for u in Unit.objects.filter(path__in={k[1] for k in totals}).select_related("level")
    }
    rows: list[BalanceRow] = []
    for key, balance in totals.items():
        balance.unit = units.get(key[1])
        rows.append(balance)
    rows.sort(key=lambda r: (-r.year, r.measure, r.unit.path if r.unit else ""))
    return rows


def ledger_totals(rows: list[BalanceRow]) -> list[BalanceRow]:
    """The rows summed per year and measure (the whole of ``within``)."""
    sums: dict[tuple[int, str], BalanceRow] = {}
    for item in rows:
        total = sums.setdefault(
            (item.year, item.measure), BalanceRow(item.year, None, item.measure)
        )
        total.freed += item.freed
        total.reinvested += item.reinvested
        total.returned += item.returned
    return sorted(sums.values(), key=lambda r: (-r.year, r.measure))


def ledger_entries(*, within: Unit | None = None, year: int | None = None) -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.select_related(
        "benefit__assignment__unit", "unit", "assignment", "recorded_by"
    )
    if within is not None:
        qs = qs.filter(
            Q(benefit__assignment__unit__path__startswith=within.path)
            | Q(unit__path__startswith=within.path)
        )
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "decided_on", "pk")
