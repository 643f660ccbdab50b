"""Reads for follow-up: the compliance matrix, overdue agreements and reports, the dashboard.

Each is a fixed number of queries whatever the number of units, set-based: the database groups,
compares, ranks and counts (the overdue lists send only the units they name), never a query
per unit nor a Python loop over every unit or deadline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber

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
    # The year's agreements of those units, each given its unit already read; the links and
    # justifications below read them as a subquery (the database, not a list of ids).
    year_agreements = Agreement.objects.filter(year=year, unit__in=units_qs)
    agreements = {a.unit_id: a for a in year_agreements.order_by()}
    by_pk = {u.pk: u for u in units}
    for agreement in agreements.values():
        agreement.unit = by_pk[agreement.unit_id]
    links = list(
        committed_links(agreements=year_agreements.values("pk"))
        .filter(goal__strategy=strategy)
        .values_list("initiative__agreement_id", "goal_id")
        .order_by()
        .distinct()
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
        RuleJustification.objects.filter(
            rule__in=rules, agreement__in=year_agreements.values("pk")
        ).values_list("agreement_id", flat=True)
    )
    rows = [
        MatrixRow(
            unit,
            agreements.get(unit.pk),
            _cells(agreements.get(unit.pk), columns, covered, justified),
        )
        for unit in units
    ]
    return ComplianceMatrix(strategy, level, columns, rows)


def _cells(
    agreement: Agreement | None,
    columns: list[Element],
    covered: dict[int, set[int]],
    justified: set[int],
) -> list[str]:
    """One row of the matrix: each theme's cell for the unit's agreement (see ``Cell``)."""
    if agreement is None:
        return [Cell.NO_AGREEMENT] * len(columns)
    if not is_committed(agreement.state):
        return [Cell.DRAFT] * len(columns)
    cells = []
    for column in columns:
        if column.pk in covered[agreement.pk]:
            cells.append(Cell.COVERED)
        elif agreement.pk in justified:
            cells.append(Cell.JUSTIFIED)
        else:
            cells.append(Cell.MISSING)
    return cells


# An overdue list names at most this many units (the page links the rest through the count).
OVERDUE_LISTED = 100


@dataclass
class Overdue:
    deadline: Deadline
    units: list[Unit] = field(default_factory=list)  # the first OVERDUE_LISTED, in tree order
    count: int = 0  # every late unit


def overdue_agreements(*, year: int, today: date, within: Unit | None = None) -> list[Overdue]:
    """For each passed agreement deadline, the units of its level whose agreement is not
    submitted. Two queries whatever the number of deadlines and units: the database ranks the
    late units of each level in tree order and counts them (window functions), and sends only
    the first ``OVERDUE_LISTED`` of each level."""
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
    level = [F("level_id")]
    ranked = (
        units.exclude(pk__in=done)
        .annotate(
            overdue_rank=Window(RowNumber(), partition_by=level, order_by=F("path").asc()),
            overdue_count=Window(Count("pk"), partition_by=level),
        )
        .filter(overdue_rank__lte=OVERDUE_LISTED)
        .order_by("path")
    )
    listed: dict[int, list[Unit]] = defaultdict(list)
    counts: dict[int, int] = {}
    for unit in ranked:
        listed[unit.level_id].append(unit)
        counts[unit.level_id] = unit.overdue_count
    return [
        Overdue(d, list(listed.get(d.unit_level_id or 0, [])), counts.get(d.unit_level_id or 0, 0))
        for d in deadlines
    ]


def overdue_reports(*, year: int, today: date, within: Unit | None = None) -> list[Overdue]:
    """For each passed report deadline, the units with an agreed agreement that have not
    reported on every initiative (fewer initiatives reported on for the deadline than the
    agreement has). Two queries whatever the number of deadlines and units: the database pairs
    every agreed agreement with every deadline, compares the counts, ranks the late units of
    each deadline in tree order and counts them (window functions), and sends only the first
    ``OVERDUE_LISTED`` of each deadline with their units."""
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
    ids = [d.pk for d in deadlines]
    sizes_sql, sizes_params = (
        agreements.values(a_id=F("pk"), u_id=F("unit_id"), u_path=F("unit__path"))
        .annotate(n_initiatives=Count("initiatives"))
        .order_by()
        .query.sql_with_params()
    )
    reported_sql, reported_params = (
        StatusReport.objects.filter(deadline__in=ids, initiative__agreement__in=agreements)
        .values(r_agreement=F("initiative__agreement_id"), r_deadline=F("deadline_id"))
        .annotate(n_reported=Count("pk"))  # one report per initiative and deadline (a constraint)
        .order_by()
        .query.sql_with_params()
    )
    qn = connection.ops.quote_name
    unit_table, deadline_table = qn(Unit._meta.db_table), qn(Deadline._meta.db_table)
    in_ids = ", ".join(["%s"] * len(ids))
    sql = f"""
        SELECT u.*, late.deadline AS overdue_deadline, late.total AS overdue_count
        FROM (
            SELECT d.id AS deadline, s.u_id AS unit,
                ROW_NUMBER() OVER (PARTITION BY d.id ORDER BY s.u_path) AS position,
                COUNT(*) OVER (PARTITION BY d.id) AS total
            FROM ({sizes_sql}) s
            CROSS JOIN {deadline_table} d
            LEFT JOIN ({reported_sql}) r ON r.r_agreement = s.a_id AND r.r_deadline = d.id
            WHERE d.id IN ({in_ids}) AND COALESCE(r.n_reported, 0) < s.n_initiatives
        ) late
        JOIN {unit_table} u ON u.id = late.unit
        WHERE late.position <= %s
        ORDER BY late.deadline, late.position
    """  # noqa: S608 - names from the models, values as parameters
    params = [*sizes_params, *reported_params, *ids, OVERDUE_LISTED]
    listed: dict[int, list[Unit]] = defaultdict(list)
    counts: dict[int, int] = {}
    for unit in Unit.objects.raw(sql, params):
        listed[unit.overdue_deadline].append(unit)
        counts[unit.overdue_deadline] = unit.overdue_count
    return [Overdue(d, listed.get(d.pk, []), counts.get(d.pk, 0)) for d in deadlines]


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
