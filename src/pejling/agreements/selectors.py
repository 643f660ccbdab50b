"""Reads on annual agreements: what a person may read, theme coverage, the line of sight."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.dateparse import parse_date

from pejling.agreements.coverage import counted_initiatives
from pejling.agreements.models import (
    STATUS_TONES,
    TONE_ICONS,
    Agreement,
    AgreementState,
    AgreementVersion,
    Initiative,
    InitiativeStatus,
    TrafficLight,
    traffic_light,
)
from pejling.core.paging import Ranked
from pejling.core.utils import person_name
from pejling.organisation import permissions
from pejling.organisation.models import Unit
from pejling.organisation.selectors import unit_ancestors, unit_siblings
from pejling.strategy.models import Element, Strategy
from pejling.strategy.selectors import cascade_of, element_tree, strategies_for_year, top_ancestors


@dataclass
class InitiativeView:
    """An initiative as a reader sees it, live or from an agreed version."""

    title: str
    description: str
    owner: str
    start_date: date | None
    end_date: date | None
    status: str
    status_label: str
    goals: list[Element]
    pk: int | None = None
    edit_version: int | None = None  # the live row's version (optimistic locking)
    status_reported_at: Any = None  # when the status came from a follow-up report
    status_reporter: str = ""

    @property
    def status_tone(self) -> str:
        from pejling.agreements.models import STATUS_TONES, InitiativeStatus

        return STATUS_TONES.get(InitiativeStatus(self.status), "neutral")


@dataclass
class AgreementView:
    agreement: Agreement
    live: bool
    version: AgreementVersion | None
    initiatives: list[InitiativeView]
    summary: str


def agreement_initiatives(agreement: Agreement) -> QuerySet[Initiative]:
    return agreement.initiatives.select_related("owner", "status_reported_by").prefetch_related(
        Prefetch("goals", queryset=Element.objects.select_related("strategy", "level", "parent"))
    )


def readable_agreement(user: Any, agreement: Agreement) -> AgreementView | None:
    """The agreement as ``user`` may read it: the live one if they may read drafts or it is
    published; else the last published version (kept during a revision); else nothing."""
    if agreement.state == AgreementState.PUBLISHED or permissions.can_read_unpublished(
        user, agreement.unit
    ):
        initiatives = [
            InitiativeView(
                title=i.title,
                description=i.description,
                owner=person_name(i.owner),
                start_date=i.start_date,
                end_date=i.end_date,
                status=i.status,
                status_label=i.get_status_display(),
                goals=list(i.goals.all()),
                pk=i.pk,
                edit_version=i.version,
                status_reported_at=i.status_reported_at,
                status_reporter=i.status_reporter,
            )
            for i in agreement_initiatives(agreement)
        ]
        return AgreementView(agreement, True, None, initiatives, agreement.summary)
    version = agreement.versions.filter(state=AgreementState.PUBLISHED).order_by("-number").first()
    if version is None:
        return None
    return version_view(agreement, version)


def version_view(agreement: Agreement, version: AgreementVersion) -> AgreementView:
    from pejling.agreements.models import InitiativeStatus

    content = version.content
    goal_ids = {g["id"] for i in content["initiatives"] for g in i["goals"]}
    goals = {
        e.pk: e
        for e in Element.objects.filter(pk__in=goal_ids).select_related(
            "strategy", "level", "parent"
        )
    }
    labels = dict(InitiativeStatus.choices)
    initiatives = [
        InitiativeView(
            title=i["title"],
            description=i["description"],
            owner=i["owner"],
            start_date=parse_date(i["start_date"]) if i["start_date"] else None,
            end_date=parse_date(i["end_date"]) if i["end_date"] else None,
            status=i["status"],
            status_label=str(labels.get(i["status"], i["status"])),
            goals=[goals[g["id"]] for g in i["goals"] if g["id"] in goals],
        )
        for i in content["initiatives"]
    ]
    return AgreementView(agreement, False, version, initiatives, content.get("summary", ""))


# The workflow steps that make a submitted agreement wait for someone (agreements/workflow.py).
WAITING_STEPS = frozenset({"agree", "return"})


def waits_for(user: Any, agreement: Agreement) -> bool:
    """Whether ``agreement`` waits for ``user``: they may agree or return it now (the workflow's
    table decides, four-eyes included). The start page's inbox and the list's filter ask this."""
    from pejling.agreements.workflow import available_steps

    return agreement.state == AgreementState.SUBMITTED and bool(
        {s.name for s in available_steps(user, agreement)} & WAITING_STEPS
    )


def agreements_readable_by(user: Any) -> QuerySet[Agreement]:
    """Agreements whose existence the user may see: published ones, or any in their subtrees."""
    if permissions.is_strategy_office(user):
        return Agreement.objects.all()
    # "Was published once" as a subquery (EXISTS), not a join: a join to the versions gives an
    # agreement once per version, which needed DISTINCT over every row before sorting or paging.
    published_once = AgreementVersion.objects.filter(
        agreement=OuterRef("pk"), state=AgreementState.PUBLISHED
    )
    q = Q(state=AgreementState.PUBLISHED) | Q(Exists(published_once))
    for membership in permissions.memberships_of(user):
        if membership.role in permissions.READ_ROLES:
            q |= Q(unit__path__startswith=membership.unit.path)
    return Agreement.objects.filter(q)


# Coverage ------------------------------------------------------------------------------------


@dataclass
class CoverageRow:
    element: Element  # a theme / focus area (top level of its strategy)
    initiatives: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return bool(self.initiatives)


@dataclass
class StrategyCoverage:
    strategy: Strategy
    level_name: str
    rows: list[CoverageRow]

    @property
    def covered_count(self) -> int:
        return sum(1 for r in self.rows if r.covered)

    @property
    def missing(self) -> list[CoverageRow]:
        return [r for r in self.rows if not r.covered]


def theme_coverage(year: int, initiatives: list[InitiativeView]) -> list[StrategyCoverage]:
    """Which top-level elements (themes, focus areas) of each strategy in force the initiatives
    reach through their goals. Only strategies with goals are shown; cancelled initiatives
    reach nothing (``agreements.coverage``, as in the rule box beside it)."""
    strategies = [
        s for s in strategies_for_year(year) if any(lv.holds_goals for lv in s.levels.all())
    ]
    if not strategies:
        return []
    tops_by_strategy: dict[int, list[Element]] = {s.pk: [] for s in strategies}
    for element in Element.objects.filter(
        strategy__in=strategies, parent__isnull=True
    ).select_related("level"):
        tops_by_strategy[element.strategy_id].append(element)
    counted = counted_initiatives(initiatives)
    all_goals = [g for i in counted for g in i.goals]
    tops = top_ancestors(all_goals) if all_goals else {}
    result = []
    for strategy in strategies:
        rows = {e.pk: CoverageRow(e) for e in tops_by_strategy[strategy.pk]}
        for initiative in counted:
            for goal in initiative.goals:
                top = tops.get(goal.pk)
                if (
                    top is not None
                    and top.pk in rows
                    and initiative.title not in rows[top.pk].initiatives
                ):
                    rows[top.pk].initiatives.append(initiative.title)
        levels = list(strategy.levels.all())
        result.append(
            StrategyCoverage(strategy, levels[0].name_plural if levels else "", list(rows.values()))
        )
    return result


# Line of sight ----------------------------------------------------------------------------------


@dataclass
class GoalLine:
    goal: Element
    chain: list[Element]  # top element (theme) ... goal
    initiatives: list[InitiativeView]


@dataclass
class StrategyLine:
    strategy: Strategy
    cascade: list[Strategy]  # strategies it serves, highest first
    goals: list[GoalLine]


@dataclass
class UnitLine:
    unit: Unit
    agreement: Agreement | None
    initiative_count: int


@dataclass
class LineOfSight:
    unit: Unit | None
    year: int
    agreement: AgreementView | None
    strategies: list[StrategyLine]
    above: list[UnitLine]
    beside: list[UnitLine]
    narratives: list[tuple[Strategy, list[Any]]]
    unlinked: list[InitiativeView]
    # Without a readable agreement: is there one (a draft the reader may not see)? May the
    # reader start one? (So the page never links to an agreement that would answer 404.)
    agreement_exists: bool = False
    can_create: bool = False


def _unit_lines(units: list[Unit], year: int, user: Any) -> list[UnitLine]:
    agreements = {
        a.unit_id: a
        for a in agreements_readable_by(user)
        .filter(unit__in=units, year=year)
        .select_related("unit")
        .annotate(n=Count("initiatives", distinct=True))
    }
    return [UnitLine(u, agreements.get(u.pk), getattr(agreements.get(u.pk), "n", 0)) for u in units]


def line_of_sight(*, user: Any, year: int, unit: Unit | None = None) -> LineOfSight:
    """What is my part of the whole? My unit's initiatives, the goals, themes and strategies
    they serve up to the future narrative, and the units above and beside mine."""
    unit = unit or permissions.home_unit(user)
    if unit is None:
        return LineOfSight(None, year, None, [], [], [], [], [])
    agreement = Agreement.objects.filter(unit=unit, year=year).select_related("unit").first()
    view = readable_agreement(user, agreement) if agreement else None
    initiatives = view.initiatives if view else []
    goals = {g.pk: g for i in initiatives for g in i.goals}
    chain_map = _chains(list(goals.values()))
    lines: dict[int, StrategyLine] = {}
    for goal in sorted(goals.values(), key=lambda g: (g.strategy.position, g.position, g.code)):
        strategy_line = lines.get(goal.strategy_id)
        if strategy_line is None:
            strategy_line = StrategyLine(goal.strategy, cascade_of(goal.strategy), [])
            lines[goal.strategy_id] = strategy_line
        strategy_line.goals.append(
            GoalLine(goal, chain_map[goal.pk], [i for i in initiatives if goal in i.goals])
        )
    narratives: dict[int, tuple[Strategy, list[Any]]] = {}
    for strategy_line in lines.values():
        for top in strategy_line.cascade[:1]:
            if top.pk not in narratives:
                narratives[top.pk] = (top, element_tree(top))
    if not narratives:
        for strategy in (
            strategies_for_year(year).filter(parent__isnull=True, children__isnull=False).distinct()
        ):
            narratives[strategy.pk] = (strategy, element_tree(strategy))
    ancestors = unit_ancestors(unit)
    return LineOfSight(
        unit=unit,
        year=year,
        agreement=view,
        strategies=list(lines.values()),
        above=_unit_lines(ancestors, year, user),
        beside=_unit_lines(list(unit_siblings(unit)), year, user),
        narratives=list(narratives.values()),
        unlinked=[i for i in initiatives if not i.goals],
        agreement_exists=agreement is not None,
        can_create=agreement is None and permissions.can_write_agreement(user, unit),
    )


def _chains(goals: list[Element]) -> dict[int, list[Element]]:
    if not goals:
        return {}
    elements = {
        e.pk: e
        for e in Element.objects.filter(
            strategy_id__in={g.strategy_id for g in goals}
        ).select_related("level")
    }
    chains = {}
    for goal in goals:
        chain = [goal]
        current = elements.get(goal.pk, goal)
        while current.parent_id is not None and current.parent_id in elements:
            current = elements[current.parent_id]
            chain.insert(0, current)
        chains[goal.pk] = chain
    return chains


# Initiative status per unit ------------------------------------------------------------------


@dataclass
class StatusPart:
    status: str
    label: str
    tone: str
    icon: str
    count: int


@dataclass
class UnitStatus:
    """How the initiatives of a unit (and every unit below it) stand this year, from the
    latest reports: how many of each status, the traffic light, and when last reported."""

    unit: Unit
    counts: dict[str, int] = field(default_factory=dict)
    reported_at: Any = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def light(self) -> TrafficLight:
        return traffic_light(self.counts)

    @property
    def parts(self) -> list[StatusPart]:
        return [
            StatusPart(
                s.value,
                str(s.label),
                STATUS_TONES[s],
                TONE_ICONS[STATUS_TONES[s]],
                self.counts[s.value],
            )
            for s in InitiativeStatus
            if self.counts.get(s.value)
        ]

    def _sum(self, *statuses: InitiativeStatus) -> int:
        return sum(self.counts.get(s.value, 0) for s in statuses)

    @property
    def on_track(self) -> int:
        return self._sum(InitiativeStatus.ON_TRACK)

    @property
    def at_risk(self) -> int:
        return self._sum(InitiativeStatus.AT_RISK)

    @property
    def off_track(self) -> int:
        return self._sum(InitiativeStatus.OFF_TRACK)

    @property
    def done(self) -> int:
        return self._sum(InitiativeStatus.DONE, InitiativeStatus.EVALUATED)

    @property
    def not_reported(self) -> int:
        """Planned or started: no follow-up report has judged them yet."""
        return self._sum(InitiativeStatus.PLANNED, InitiativeStatus.STARTED)


# The order in which units need attention, from their traffic light (``traffic_light``): off
# track, at risk, no report yet, no initiatives, on track. Each rank's light is that of the
# counts given here (so the labels and tones come from ``traffic_light`` itself).
ATTENTION_LIGHTS: tuple[dict[str, int], ...] = (
    {InitiativeStatus.OFF_TRACK: 1},
    {InitiativeStatus.AT_RISK: 1},
    {InitiativeStatus.PLANNED: 1},
    {},
    {InitiativeStatus.ON_TRACK: 1},
)


@dataclass(frozen=True)
class LightCount:
    """How many units show one traffic light."""

    rank: int
    light: TrafficLight
    count: int
    share: int  # per cent of every unit counted, rounded


def unit_statuses_by_attention(*, year: int, units: QuerySet[Unit]) -> Ranked:
    """The units of ``units``, each with its initiative statuses for ``year`` (its subtree
    rolled up, as ``unit_statuses``), those that need attention first: by their traffic light
    (``ATTENTION_LIGHTS``), then most off track, most at risk, most not reported yet, then in
    tree order. The database ranks and counts every unit (``Ranked``); a slice reads the
    statuses of its units only (``unit_statuses``)."""
    ids = units.order_by().values("pk")
    lengths = sorted(
        {depth * Unit.steplen for depth in ids.values_list("depth", flat=True).distinct()}
    )
    reported = [InitiativeStatus.ON_TRACK, InitiativeStatus.DONE, InitiativeStatus.EVALUATED]
    # The initiatives of the year grouped by their unit's path cut to the length of the listed
    # units' paths (one part per length, as ``unit_statuses``).
    parts = [
        Initiative.objects.filter(agreement__year=year)
        .annotate(prefix=Substr("agreement__unit__path", 1, length))
        .filter(prefix__in=units.order_by().values("path"))
        .values("prefix")
        .annotate(
            n_off_track=Count("pk", filter=Q(status=InitiativeStatus.OFF_TRACK)),
            n_at_risk=Count("pk", filter=Q(status=InitiativeStatus.AT_RISK)),
            n_reported=Count("pk", filter=Q(status__in=reported)),
            n_live=Count("pk", filter=~Q(status=InitiativeStatus.CANCELLED)),
            n_not_reported=Count(
                "pk", filter=Q(status__in=[InitiativeStatus.PLANNED, InitiativeStatus.STARTED])
            ),
        )
        .order_by()
        for length in lengths or [0]
    ]
    grouped = parts[0].union(*parts[1:], all=True).order_by() if len(parts) > 1 else parts[0]
    grouped_sql, grouped_params = grouped.query.sql_with_params()
    ids_sql, ids_params = ids.query.sql_with_params()
    table = connection.ops.quote_name(Unit._meta.db_table)
    # The rank in ``ATTENTION_LIGHTS``, decided as ``traffic_light`` decides a light.
    sql = f"""
        SELECT u.*,
            CASE
                WHEN COALESCE(s.n_off_track, 0) > 0 THEN 0
                WHEN COALESCE(s.n_at_risk, 0) > 0 THEN 1
                WHEN COALESCE(s.n_reported, 0) > 0 THEN 4
                WHEN COALESCE(s.n_live, 0) > 0 THEN 2
                ELSE 3
            END AS attention,
            COALESCE(s.n_off_track, 0) AS n_off_track,
            COALESCE(s.n_at_risk, 0) AS n_at_risk,
            COALESCE(s.n_not_reported, 0) AS n_not_reported
        FROM {table} u
        LEFT JOIN ({grouped_sql}) s ON s.prefix = u.path
        WHERE u.id IN ({ids_sql})
    """  # noqa: S608 - names from the models, values as parameters
    return Ranked(
        Unit,
        sql,
        [*grouped_params, *ids_params],
        order_by="attention, n_off_track DESC, n_at_risk DESC, n_not_reported DESC, u.path",
        rows=lambda page: unit_statuses(year=year, units=page),
    )


def light_counts(ranked: Ranked) -> list[LightCount]:
    """How many of the units of ``unit_statuses_by_attention`` show each light, in its order."""
    return [
        LightCount(rank, traffic_light(light), ranked.counts.get(rank, 0), ranked.share(rank))
        for rank, light in enumerate(ATTENTION_LIGHTS)
    ]


def unit_statuses(*, year: int, units: list[Unit]) -> list[UnitStatus]:
    """Each unit's initiative statuses for ``year``, its subtree rolled up: one grouped query,
    whatever the number of units. Every agreement of the year counts (a draft's initiatives are
    planned: they have no report yet).

    Set-based: the database cuts each initiative's unit path to the length of the listed units'
    paths (a unit's subtree is the paths that start with its own) and groups by that prefix and
    status, so it sends one row per listed unit and status; units listed at several depths make
    one part per depth, sent as one ``UNION ALL``."""
    result = [UnitStatus(unit=u) for u in units]
    if not units:
        return result
    by_path = {s.unit.path: s for s in result}
    by_length: dict[int, list[str]] = {}
    for path in by_path:
        by_length.setdefault(len(path), []).append(path)
    parts = [
        Initiative.objects.filter(agreement__year=year)
        .annotate(prefix=Substr("agreement__unit__path", 1, length))
        .filter(prefix__in=paths)
        .values("prefix", "status")
        .annotate(n=Count("pk"), last=Max("status_reported_at"))
        .order_by()
        for length, paths in sorted(by_length.items())
    ]
    rows = parts[0].union(*parts[1:], all=True).order_by() if len(parts) > 1 else parts[0]
    for row in rows:
        summary = by_path[row["prefix"]]
        summary.counts[row["status"]] = summary.counts.get(row["status"], 0) + row["n"]
        if row["last"] and (summary.reported_at is None or row["last"] > summary.reported_at):
            summary.reported_at = row["last"]
    return result
    by_path = {s.unit.path: s for s in result}
    lengths = sorted({len(p) for p in by_path})
    q = Q()
    for unit in units:
        q |= Q(agreement__unit__path__startswith=unit.path)
    rows = (
        Initiative.objects.filter(q, agreement__year=year)
        .values("agreement__unit__path", "status")
        .annotate(n=Count("pk"), last=Max("status_reported_at"))
    )
    for row in rows:
        path = row["agreement__unit__path"]
        for length in lengths:
            summary = by_path.get(path[:length])
            if summary is None:
                continue
            summary.counts[row["status"]] = summary.counts.get(row["status"], 0) + row["n"]
            if row["last"] and (summary.reported_at is None or row["last"] > summary.reported_at):
                summary.reported_at = row["last"]
    return result
