"""Reads for follow-up: the compliance matrix, overdue agreements and reports, the dashboard.

Each is a fixed number of queries whatever the number of units: grouped queries and maps built
in Python, never a query per unit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count

from pejling.agreements.coverage import COMMITTED_STATES, committed_links, is_committed
from pejling.agreements.models import Agreement, AgreementState, RuleJustification
from pejling.followup.models import Deadline, DeadlineKind, StatusReport
from pejling.organisation.models import Unit, UnitLevel
from pejling.strategy.models import AgreementRule, Element, Strategy
from pejling.strategy.selectors import top_ancestors


class Cell:
    """What a unit has committed to for a theme.

    What counts is ``agreements.coverage``: only an agreement that has left the draft state
    is a commitment, as in goal evaluation; a draft, or an agreement reopened for revision,
    shows as ``DRAFT`` whatever it links. Cancelled initiatives never cover a theme.
    """

    COVERED = "covered"  # an initiative that is not cancelled links a goal under the theme
    JUSTIFIED = "justified"  # not covered, but the unit justified breaking the level's rule
    MISSING = "missing"  # not covered, no justification
    DRAFT = "draft"  # the unit's agreement for the year is a draft: not a commitment yet
    NO_AGREEMENT = "no_agreement"


@dataclass
class MatrixRow:
    unit: Unit
    agreement: Agreement | None
    cells: list[str]

    @property
    def complete(self) -> bool:
        return all(c == Cell.COVERED for c in self.cells)


@dataclass
class ComplianceMatrix:
    strategy: Strategy | None
    level: UnitLevel | None
    columns: list[Element]
    rows: list[MatrixRow]

    @property
    def complete_count(self) -> int:
        return sum(1 for r in self.rows if r.complete)


def compliance_matrix(
    *,
    year: int,
    strategy: Strategy | None,
    level: UnitLevel | None,
    within: Unit | None = None,
    columns_filter: list[int] | None = None,
) -> ComplianceMatrix:
    """Units of ``level`` × top-level elements (themes) of ``strategy``: covered, justified,
    missing, draft or no agreement (see ``Cell``)."""
    if strategy is None or level is None:
        return ComplianceMatrix(strategy, level, [], [])
    columns = list(
        Element.objects.filter(strategy=strategy, parent__isnull=True).order_by("position", "code")
    )
    if columns_filter:
        columns = [c for c in columns if c.pk in columns_filter]
    units_qs = Unit.objects.filter(level=level, closed_on__isnull=True).order_by("path")
    if within is not None:
        units_qs = units_qs.filter(path__startswith=within.path)
    units = list(units_qs)
    agreements = {
        a.unit_id: a
        for a in Agreement.objects.filter(year=year, unit__in=units_qs).select_related("unit")
    }
    committed = [a for a in agreements.values() if is_committed(a.state)]
    links = list(
        committed_links(agreements=committed)
        .filter(goal__strategy=strategy)
        .values_list("initiative__agreement_id", "goal_id")
    )
    goals = {e.pk: e for e in Element.objects.filter(strategy=strategy)}
    tops = top_ancestors(list(goals.values())) if goals else {}
    covered: dict[int, set[int]] = defaultdict(set)
    for agreement_id, goal_id in links:
        top = tops.get(goal_id)
        if top is not None:
            covered[agreement_id].add(top.pk)
    rules = AgreementRule.objects.filter(strategy=strategy, unit_level=level, active=True)
    justified = set(
        RuleJustification.objects.filter(rule__in=rules, agreement__in=committed).values_list(
            "agreement_id", flat=True
        )
    )
    rows = []
    for unit in units:
        agreement = agreements.get(unit.pk)
        if agreement is None:
            rows.append(MatrixRow(unit, None, [Cell.NO_AGREEMENT] * len(columns)))
            continue
        if not is_committed(agreement.state):
            rows.append(MatrixRow(unit, agreement, [Cell.DRAFT] * len(columns)))
            continue
        cells = []
        for column in columns:
            if column.pk in covered[agreement.pk]:
                cells.append(Cell.COVERED)
            elif agreement.pk in justified:
                cells.append(Cell.JUSTIFIED)
            else:
                cells.append(Cell.MISSING)
        rows.append(MatrixRow(unit, agreement, cells))
    return ComplianceMatrix(strategy, level, columns, rows)


# An overdue list names at most this many units (the page links the rest through the count).
OVERDUE_LISTED = 100


@dataclass
class Overdue:
    deadline: Deadline
    units: list[Unit] = field(default_factory=list)  # the first OVERDUE_LISTED, in tree order
    count: int = 0  # every late unit


def _overdue(deadlines: list[Deadline], late: dict[int, list[int]]) -> list[Overdue]:
    """Each deadline with its late units (ids in tree order): the first ones read in one query."""
    listed = {pk for ids in late.values() for pk in ids[:OVERDUE_LISTED]}
    units = Unit.objects.in_bulk(list(listed)) if listed else {}
    return [
        Overdue(
            d,
            [units[pk] for pk in late.get(d.pk, [])[:OVERDUE_LISTED]],
            len(late.get(d.pk, [])),
        )
        for d in deadlines
    ]


def overdue_agreements(*, year: int, today: date, within: Unit | None = None) -> list[Overdue]:
    """For each passed agreement deadline, the units of its level whose agreement is not
    submitted. Three queries whatever the number of deadlines and units."""
    deadlines = list(
        Deadline.objects.filter(
            year=year, kind=DeadlineKind.AGREEMENT, due_date__lt=today, unit_level__isnull=False
        ).select_related("unit_level")
    )
    if not deadlines:
        return []
    units = Unit.objects.filter(
        level_id__in={d.unit_level_id for d in deadlines}, closed_on__isnull=True
    )
    if within is not None:
        units = units.filter(path__startswith=within.path)
    # One subquery on the agreements: ``exclude(agreements__year=..., agreements__state__in=...)``
    # could match two different agreements (last year's published one, this year's draft).
    done = Agreement.objects.filter(year=year, state__in=COMMITTED_STATES).values("unit_id")
    by_level: dict[int, list[int]] = defaultdict(list)
    for pk, level_id in units.exclude(pk__in=done).order_by("path").values_list("pk", "level_id"):
        by_level[level_id].append(pk)
    return _overdue(deadlines, {d.pk: by_level.get(d.unit_level_id or 0, []) for d in deadlines})


def overdue_reports(*, year: int, today: date, within: Unit | None = None) -> list[Overdue]:
    """For each passed report deadline, the units with an agreed agreement that have not
    reported on every initiative. Four queries whatever the number of deadlines and units:
    counts per agreement and per (agreement, deadline), compared as numbers."""
    deadlines = list(
        Deadline.objects.filter(year=year, kind=DeadlineKind.REPORT, due_date__lt=today)
    )
    if not deadlines:
        return []
    agreements = Agreement.objects.filter(
        year=year, state__in=[AgreementState.AGREED, AgreementState.PUBLISHED]
    )
    if within is not None:
        agreements = agreements.filter(unit__path__startswith=within.path)
    sizes = list(
        agreements.annotate(n=Count("initiatives"))
        .order_by("unit__path")
        .values_list("pk", "unit_id", "n")
    )
    reported: dict[tuple[int, int], int] = {
        (agreement_id, deadline_id): n
        for agreement_id, deadline_id, n in StatusReport.objects.filter(
            deadline__in=deadlines, initiative__agreement__in=agreements
        )
        .values_list("initiative__agreement_id", "deadline_id")
        .annotate(n=Count("initiative_id", distinct=True))
        .values_list("initiative__agreement_id", "deadline_id", "n")
        .order_by()
    }
    late = {
        d.pk: [unit_id for pk, unit_id, n in sizes if reported.get((pk, d.pk), 0) < n]
        for d in deadlines
    }
    return _overdue(deadlines, late)


def unit_overdue(unit: Unit, *, year: int, today: date) -> list[Deadline]:
    """The passed deadlines this one unit has not met (its agreement, its reports)."""
    missing = []
    agreement = Agreement.objects.filter(unit=unit, year=year).first()
    for deadline in Deadline.objects.filter(year=year, due_date__lt=today).order_by("due_date"):
        if deadline.kind == DeadlineKind.AGREEMENT and deadline.unit_level_id == unit.level_id:
            if agreement is None or not is_committed(agreement.state):
                missing.append(deadline)
        elif (
            deadline.kind == DeadlineKind.REPORT
            and agreement is not None
            and agreement.state in (AgreementState.AGREED, AgreementState.PUBLISHED)
        ):
            initiatives = agreement.initiatives.count()
            reported = StatusReport.objects.filter(
                initiative__agreement=agreement, deadline=deadline
            ).count()
            if reported < initiatives:
                missing.append(deadline)
    return missing
