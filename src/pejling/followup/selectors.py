"""Reads for follow-up: the compliance matrix, overdue agreements and reports, the dashboard.

Each is a fixed number of queries whatever the number of units, set-based: the database groups,
compares, ranks and counts (the overdue lists send only the units they name), never a query
per unit nor a Python loop over every unit or deadline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy as _

from pejling.agreements.coverage import COMMITTED_STATES, committed_links, is_committed
from pejling.agreements.models import Agreement, AgreementState, RuleJustification
from pejling.core.paging import Ranked
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

    @property
    def state(self) -> str:
        """How the row stands, one of ``ROW_STATES``."""
        if self.agreement is None:
            return Cell.NO_AGREEMENT
        if not is_committed(self.agreement.state):
            return Cell.DRAFT
        if self.complete:
            return Cell.COVERED
        return Cell.MISSING if Cell.MISSING in self.cells else Cell.JUSTIFIED


@dataclass
class ComplianceMatrix:
    strategy: Strategy | None
    level: UnitLevel | None
    columns: list[Element]
    rows: list[MatrixRow]

    @property
    def complete_count(self) -> int:
        return sum(1 for r in self.rows if r.complete)

    @property
    def unit_count(self) -> int:
        return len(self.rows)


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
    columns = _columns(strategy, columns_filter)
    units_qs = _level_units(level, within).order_by("path")
    units = list(units_qs)
    rows = _rows(
        year=year,
        strategy=strategy,
        level=level,
        columns=columns,
        tops=_tops(strategy),
        units_qs=units_qs,
        units=units,
    )
    return ComplianceMatrix(strategy, level, columns, rows)


def _columns(strategy: Strategy, columns_filter: list[int] | None) -> list[Element]:
    columns = list(
        Element.objects.filter(strategy=strategy, parent__isnull=True).order_by("position", "code")
    )
    if columns_filter:
        columns = [c for c in columns if c.pk in columns_filter]
    return columns


def _level_units(level: UnitLevel, within: Unit | None) -> QuerySet[Unit]:
    units = Unit.objects.filter(level=level, closed_on__isnull=True)
    if within is not None:
        units = units.filter(path__startswith=within.path)
    return units


def _tops(strategy: Strategy) -> dict[int, Element]:
    """Each goal of ``strategy`` (by id) and its theme (top-level element)."""
    goals = list(Element.objects.filter(strategy=strategy))
    return top_ancestors(goals) if goals else {}


def _rows(
    *,
    year: int,
    strategy: Strategy,
    level: UnitLevel,
    columns: list[Element],
    tops: dict[int, Element],
    units_qs: QuerySet[Unit],
    units: list[Unit],
) -> list[MatrixRow]:
    """The matrix's rows of ``units`` (``units_qs`` selects the same units), in their order."""
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
    return [
        MatrixRow(
            unit,
            agreements.get(unit.pk),
            _cells(agreements.get(unit.pk), columns, covered, justified),
        )
        for unit in units
    ]


# How a row of the matrix stands, the one that needs attention most first: no agreement, a
# draft, a theme neither covered nor justified, gaps justified, every theme covered (as
# ``MatrixRow.state`` reads it from the row's cells).
ROW_STATES: tuple[tuple[str, Any], ...] = (
    (Cell.NO_AGREEMENT, _("No agreement")),
    (Cell.DRAFT, _("Draft, not submitted")),
    (Cell.MISSING, _("Themes missing")),
    (Cell.JUSTIFIED, _("Gaps justified")),
    (Cell.COVERED, _("Every theme covered")),
)


@dataclass(frozen=True)
class StateCount:
    """How many rows of the matrix stand in one state (``ROW_STATES``)."""

    state: str
    label: str
    count: int
    share: int  # per cent of every unit counted, rounded


class ComplianceByAttention:
    """The compliance matrix with the rows that need attention first: by their state
    (``ROW_STATES``), then fewest themes covered, then in tree order.

    The database ranks and counts every unit of the level (``Ranked``); Python sees only the
    rows of the slice asked for (``self[start:stop]``, which ``Paginator`` takes), made as
    ``compliance_matrix`` makes them, and the count of each state (``states``)."""

    def __init__(
        self,
        *,
        year: int,
        strategy: Strategy | None,
        level: UnitLevel | None,
        within: Unit | None = None,
        columns_filter: list[int] | None = None,
    ) -> None:
        self.year = year
        self.strategy = strategy
        self.level = level
        self.columns: list[Element] = []
        self._ranked: Ranked | None = None
        if strategy is not None and level is not None:
            self.columns = _columns(strategy, columns_filter)
            self._ranked = self._rank(strategy, level, _level_units(level, within), _tops(strategy))
        counts = self._ranked.counts if self._ranked else {}
        self.states = [
            StateCount(
                state,
                str(label),
                counts.get(rank, 0),
                self._ranked.share(rank) if self._ranked else 0,
            )
            for rank, (state, label) in enumerate(ROW_STATES)
        ]

    @property
    def complete_count(self) -> int:
        return self.states[-1].count

    @property
    def unit_count(self) -> int:
        return sum(s.count for s in self.states)

    def count(self) -> int:
        return self.unit_count

    def __len__(self) -> int:
        return self.unit_count

    def __getitem__(self, index: slice) -> list[MatrixRow]:
        return self._ranked[index] if self._ranked else []

    def _rank(
        self,
        strategy: Strategy,
        level: UnitLevel,
        units: QuerySet[Unit],
        tops: dict[int, Element],
    ) -> Ranked:
        """``units``, each with its row's rank in ``ROW_STATES`` (``attention``) and the number
        of themes its agreement covers (``covered``): what ``_cells`` decides, in the database.
        The year's agreements, the themes each covers (``committed_links``, a goal counted
        for its theme) and the justified ones are grouped once and joined to the units."""
        year = self.year
        wanted = {c.pk for c in self.columns}
        by_theme: dict[int, list[int]] = defaultdict(list)
        for goal_id, top in tops.items():
            if top.pk in wanted:
                by_theme[top.pk].append(goal_id)
        theme = Case(
            *(When(goal_id__in=ids, then=Value(pk)) for pk, ids in by_theme.items()),
            default=Value(None),
            output_field=IntegerField(),
        )
        listed = units.order_by().values("pk")
        covered = (
            committed_links(year=year)
            .filter(initiative__agreement__unit__in=listed)
            .annotate(theme=theme)
            .filter(theme__isnull=False)
            .values(c_agreement=F("initiative__agreement_id"))
            .annotate(n=Count("theme", distinct=True))
            .order_by()
        )
        rules = AgreementRule.objects.filter(strategy=strategy, unit_level=level, active=True)
        justified = (
            RuleJustification.objects.filter(rule__in=rules, agreement__year=year)
            .values(j_agreement=F("agreement_id"))
            .distinct()
            .order_by()
        )
        agreements = (
            Agreement.objects.filter(year=year, unit__in=listed)
            .values(a_id=F("pk"), a_unit=F("unit_id"), a_state=F("state"))
            .order_by()
        )
        parts = [q.query.sql_with_params() for q in (agreements, covered, justified)]
        units_sql, units_params = listed.query.sql_with_params()
        committed = ", ".join(["%s"] * len(COMMITTED_STATES))
        table = connection.ops.quote_name(Unit._meta.db_table)
        sql = f"""
            SELECT u.*,
                CASE
                    WHEN a.a_id IS NULL THEN 0
                    WHEN a.a_state NOT IN ({committed}) THEN 1
                    WHEN COALESCE(c.n, 0) >= %s THEN 4
                    WHEN j.j_agreement IS NOT NULL THEN 3
                    ELSE 2
                END AS attention,
                COALESCE(c.n, 0) AS covered
            FROM {table} u
            LEFT JOIN ({parts[0][0]}) a ON a.a_unit = u.id
            LEFT JOIN ({parts[1][0]}) c ON c.c_agreement = a.a_id
            LEFT JOIN ({parts[2][0]}) j ON j.j_agreement = a.a_id
            WHERE u.id IN ({units_sql})
        """  # noqa: S608 - names from the models, values as parameters
        params = [
            *COMMITTED_STATES,
            len(self.columns),
            *parts[0][1],
            *parts[1][1],
            *parts[2][1],
            *units_params,
        ]

        def rows(units: list[Unit]) -> list[MatrixRow]:
            return _rows(
                year=year,
                strategy=strategy,
                level=level,
                columns=self.columns,
                tops=tops,
                units_qs=Unit.objects.filter(pk__in=[u.pk for u in units]),
                units=units,
            )

        return Ranked(Unit, sql, params, order_by="attention, covered, u.path", rows=rows)


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
