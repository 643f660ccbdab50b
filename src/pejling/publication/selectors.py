"""What is public: the one home.

The public pages (HTML), the open data (JSON and CSV), the DCAT-AP catalogue and the
publisher's preview all read through these functions, and nothing else of the lower apps'
data reaches a citizen:

* the public site is live when the installation allows it (``PEJLING_PUBLIC_SITE``) and the
  organisation has switched it on (``PublicationSettings.enabled``): ``site_is_live``;
* a strategy is public when it is published or archived (``strategy.selectors.PUBLIC_STATUSES``)
  *and* the strategy office has chosen it (``StrategyPublication``): never a draft;
* an indicator's series is public when the office has chosen it (``IndicatorPublication``);
  a KPI goal of a public strategy whose indicator is not public shows its status, never its
  figures, chart or the indicator's name;
* an annual agreement is public as the organisation chose (``AgreementExposure``): the live
  agreement when it is published (or agreed, if so chosen), else the last published (or
  agreed) frozen version, kept through a revision; never a draft or a submitted agreement;
  owners' names only when ``show_owner_names``; goal links only to public strategies;
* an analysis is public when it stands in an approved theme chapter of a finalised board
  report, as it was at the report's finalisation (its history row of that moment);
* never a comment, a person's e-mail, a count goal's list of initiatives behind the number, or
  anything else not listed here.

Each function is a fixed number of queries whatever the size of the organisation (the goal
evaluations aside, which cost what ``followup.evaluation`` costs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date

from pejling.agreements.models import (
    STATUS_TONES,
    Agreement,
    AgreementState,
    AgreementVersion,
    Initiative,
    InitiativeStatus,
)
from pejling.followup.evaluation import all_goal_evaluations
from pejling.indicators.charts import Chart, goal_chart, series_chart
from pejling.indicators.evaluation import Evaluation
from pejling.indicators.models import Indicator, IndicatorValue
from pejling.indicators.rollups import Point, series
from pejling.organisation.models import Unit
from pejling.publication.models import (
    AgreementExposure,
    IndicatorPublication,
    PublicationSettings,
    StrategyPublication,
)
from pejling.reports.markdown import render_markdown
from pejling.reports.models import Analysis, Report, ReportState, Section, SectionKind, SectionState
from pejling.strategy.goal_status import GoalStatus, status_label, tone
from pejling.strategy.models import Element, MeasureKind, Strategy, StrategyLevel
from pejling.strategy.selectors import PUBLIC_STATUSES, ElementNode, top_ancestors

# Settings -------------------------------------------------------------------------------------


def publication_settings() -> PublicationSettings:
    """The organisation's choices (the defaults, unsaved, before anyone has saved them)."""
    row = PublicationSettings.objects.filter(pk=1).first()
    return row if row is not None else PublicationSettings(pk=1)


def installation_allows() -> bool:
    return bool(getattr(settings, "PEJLING_PUBLIC_SITE", False))


def site_is_live(row: PublicationSettings | None = None) -> bool:
    """Whether citizens may read the public site and the open data now."""
    if not installation_allows():
        return False
    row = row or publication_settings()
    return bool(row.enabled)


def organisation_name(row: PublicationSettings | None = None) -> str:
    row = row or publication_settings()
    if row.publisher_name:
        return row.publisher_name
    if settings.PEJLING_ORGANISATION_NAME:
        return str(settings.PEJLING_ORGANISATION_NAME)
    root = root_unit()
    return root.name if root else "Pejling"


def root_unit() -> Unit | None:
    return Unit.objects.filter(depth=1).order_by("path").first()


# Strategies -----------------------------------------------------------------------------------


def public_strategies() -> QuerySet[Strategy]:
    """Published or archived strategies the office has made public; parents first."""
    chosen = StrategyPublication.objects.filter(public=True).values("strategy_id")
    return (
        Strategy.objects.filter(status__in=PUBLIC_STATUSES, pk__in=chosen)
        .select_related("parent")
        .prefetch_related("levels")
        .order_by("position", "start_year", "title")
    )


def public_strategies_in_force(year: int) -> list[Strategy]:
    return list(public_strategies().filter(start_year__lte=year, end_year__gte=year))


@dataclass
class CascadeEntry:
    strategy: Strategy
    depth: int  # 0 for a strategy whose parent is not public (e.g. the future narrative)


def cascade(strategies: list[Strategy]) -> list[CascadeEntry]:
    """The strategies as their cascade: each followed by the strategies that serve it."""
    ids = {s.pk for s in strategies}
    children: dict[int | None, list[Strategy]] = {}
    for strategy in strategies:
        parent = strategy.parent_id if strategy.parent_id in ids else None
        children.setdefault(parent, []).append(strategy)
    ordered: list[CascadeEntry] = []

    def walk(parent: int | None, depth: int) -> None:
        for strategy in children.get(parent, []):
            ordered.append(CascadeEntry(strategy, depth))
            walk(strategy.pk, depth + 1)

    walk(None, 0)
    return ordered


def public_strategy(code: str) -> Strategy | None:
    return public_strategies().filter(code=code).first()


def public_parent(strategy: Strategy) -> Strategy | None:
    """The strategy this one serves, when that one is public too."""
    if strategy.parent_id is None:
        return None
    return public_strategies().filter(pk=strategy.parent_id).first()


def public_children(strategy: Strategy) -> list[Strategy]:
    return list(public_strategies().filter(parent=strategy))


def element_tree(strategy: Strategy) -> list[ElementNode]:
    """The strategy's elements as a tree (no references to other strategies: they may not be
    public)."""
    elements = list(strategy.elements.select_related("level", "strategy"))
    nodes = {e.pk: ElementNode(e) for e in elements}
    roots: list[ElementNode] = []
    for element in elements:
        node = nodes[element.pk]
        if element.parent_id and element.parent_id in nodes:
            nodes[element.parent_id].children.append(node)
        else:
            roots.append(node)
    return roots


def public_element(strategy: Strategy, code: str) -> Element | None:
    return (
        Element.objects.filter(strategy=strategy, code=code)
        .select_related("level", "strategy", "parent")
        .first()
    )


def element_chain(element: Element) -> list[Element]:
    """The element's ancestors within its strategy, the top first (one query)."""
    elements = {
        e.pk: e
        for e in Element.objects.filter(strategy_id=element.strategy_id).only(
            "pk", "parent_id", "code", "title", "strategy_id"
        )
    }
    chain: list[Element] = []
    current = elements.get(element.parent_id) if element.parent_id else None
    while current is not None:
        chain.insert(0, current)
        current = elements.get(current.parent_id) if current.parent_id else None
    return chain


def public_goals(strategies: Iterable[Strategy]) -> QuerySet[Element]:
    return (
        Element.objects.filter(strategy__in=list(strategies), level__holds_goals=True)
        .select_related("strategy", "level", "parent")
        .order_by("strategy__position", "strategy__title", "parent__position", "position", "code")
    )


def levels_of(strategy: Strategy) -> list[StrategyLevel]:
    return list(strategy.levels.all())


def year_for(strategy: Strategy, today: date | None = None) -> int:
    """The year a strategy's goals are judged for: this year, within the strategy's period."""
    this_year = (today or timezone.localdate()).year
    return min(max(this_year, strategy.start_year), strategy.end_year)


# Indicators -----------------------------------------------------------------------------------


def public_indicators() -> QuerySet[Indicator]:
    chosen = IndicatorPublication.objects.filter(public=True).values("indicator_id")
    return Indicator.objects.filter(pk__in=chosen).select_related(
        "numerator", "denominator", "weight"
    )


def public_indicator(code: str) -> Indicator | None:
    return public_indicators().filter(code=code).first()


def indicator_series(indicator: Indicator) -> list[Point]:
    """A public indicator's series for the whole organisation (the top unit's roll-up)."""
    root = root_unit()
    return series(indicator, root) if root is not None else []


def indicator_chart(indicator: Indicator, points: list[Point]) -> Chart:
    return series_chart(
        title=indicator.name,
        description=indicator.description,
        points=points,
        unit_label=str(indicator.get_measure_unit_display()),
    )


# Goals: status, value, target, chart -----------------------------------------------------------


@dataclass
class PublicEvaluation:
    """A goal as the public sees it: the status always; the figures only when public."""

    goal: Element
    kind: str
    status: str
    reason: str
    figures_public: bool
    value: float | None = None
    target: float | None = None
    baseline: float | None = None
    latest_period: str | None = None
    unit_label: str = ""
    indicator: Indicator | None = None
    points: list[Point] = field(default_factory=list)
    evaluation: Evaluation | None = None

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def tone(self) -> str:
        return tone(self.status)

    def chart(self) -> Chart | None:
        if not self.figures_public or not self.points or self.evaluation is None:
            return None
        return goal_chart(
            evaluation=self.evaluation,
            title=self.goal.title,
            description=self.reason,
            unit_label=self.unit_label,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.goal.strategy.code,
            "code": self.goal.code,
            "title": self.goal.title,
            "measured_as": self.kind,
            "status": self.status,
            "status_label": self.status_label,
            "reason": self.reason,
            "value": self.value,
            "latest_period": self.latest_period,
            "baseline": self.baseline,
            "baseline_date": self.goal.baseline_date.isoformat()
            if self.goal.baseline_date
            else None,
            "target": self.target,
            "target_text": self.goal.target_text,
            "target_date": self.goal.target_date.isoformat() if self.goal.target_date else None,
            "unit_of_measure": self.unit_label,
            "indicator": self.indicator.code if self.indicator is not None else None,
            "values": [{"period": p.period, "value": float(p.value)} for p in self.points],
        }


def _public_view(evaluation: Evaluation, public_indicator_ids: set[int]) -> PublicEvaluation:
    goal = evaluation.goal
    if evaluation.kind == MeasureKind.KPI:
        indicator = evaluation.indicator
        if indicator is None or indicator.pk not in public_indicator_ids:
            # Status and target only: the figures come from an indicator that is not public.
            return PublicEvaluation(
                goal=goal,
                kind=evaluation.kind,
                status=evaluation.status,
                reason="",
                figures_public=False,
                target=evaluation.target,
                baseline=evaluation.baseline,
            )
        return PublicEvaluation(
            goal=goal,
            kind=evaluation.kind,
            status=evaluation.status,
            reason=evaluation.reason,
            figures_public=True,
            value=evaluation.value,
            target=evaluation.target,
            baseline=evaluation.baseline,
            latest_period=evaluation.latest_period,
            unit_label=str(indicator.get_measure_unit_display()),
            indicator=indicator,
            points=list(evaluation.points),
            evaluation=evaluation,
        )
    # Count, coverage and assessed goals: the number and the sentence, never the list of
    # initiatives or units behind it (some may sit in agreements that are not public).
    return PublicEvaluation(
        goal=goal,
        kind=evaluation.kind,
        status=evaluation.status,
        reason=evaluation.reason,
        figures_public=True,
        value=evaluation.value,
        target=evaluation.target,
        baseline=evaluation.baseline,
        unit_label="%" if evaluation.kind == MeasureKind.COVERAGE else goal.measure_unit,
    )


def goal_evaluations(strategies: Iterable[Strategy], year: int) -> dict[int, PublicEvaluation]:
    """The public view of every measured goal of ``strategies`` in force in ``year``."""
    ids = {s.pk for s in strategies}
    if not ids:
        return {}
    public_ids = set(public_indicators().values_list("pk", flat=True))
    return {
        e.goal.pk: _public_view(e, public_ids)
        for e in all_goal_evaluations(year=year)
        if e.goal.strategy_id in ids
    }


def unmeasured(goal: Element) -> PublicEvaluation:
    return PublicEvaluation(
        goal=goal, kind="", status=GoalStatus.NO_DATA, reason="", figures_public=False
    )


# Analyses -------------------------------------------------------------------------------------


@dataclass
class PublicAnalysis:
    goal_id: int
    report_title: str
    period: str
    year: int
    unit: str
    assessment: str
    assessment_label: str
    body_html: str
    deviation_reason: str
    finalised_at: datetime


def published_analyses(goals: list[Element]) -> dict[int, list[PublicAnalysis]]:
    """The analyses of ``goals`` that finalised board reports published (approved theme
    chapters), each as it stood when its report was finalised; newest period first."""
    if not goals:
        return {}
    sections = list(
        Section.objects.filter(
            report__state=ReportState.FINALISED,
            kind=SectionKind.THEME,
            state=SectionState.APPROVED,
            theme__isnull=False,
        ).select_related("report__period")
    )
    if not sections:
        return {}
    root = root_unit()
    tops = top_ancestors(goals)
    wanted: list[tuple[Element, int, Report]] = []
    for section in sections:
        writer = section.unit_id or (root.pk if root else None)
        if writer is None or section.report.finalised_at is None:
            continue
        for goal in goals:
            top = tops.get(goal.pk, goal)
            if top.pk == section.theme_id:
                wanted.append((goal, writer, section.report))
    if not wanted:
        return {}
    rows = list(
        Analysis.history.filter(
            goal_id__in={g.pk for g, _u, _r in wanted},
            unit_id__in={u for _g, u, _r in wanted},
            period_id__in={r.period_id for _g, _u, r in wanted},
            initiative_id__isnull=True,
        ).order_by("history_date", "history_id")
    )
    units = dict(Unit.objects.filter(pk__in={u for _g, u, _r in wanted}).values_list("pk", "name"))
    result: dict[int, list[PublicAnalysis]] = {}
    for goal, writer, report in wanted:
        frozen = _as_finalised(rows, goal, writer, report)
        if frozen is None or frozen.history_type == "-":
            continue
        assessment_label = dict(Analysis._meta.get_field("assessment").flatchoices).get(
            frozen.assessment, frozen.assessment
        )
        result.setdefault(goal.pk, []).append(
            PublicAnalysis(
                goal_id=goal.pk,
                report_title=report.title,
                period=report.period.period,
                year=report.period.year,
                unit=units.get(writer, ""),
                assessment=frozen.assessment,
                assessment_label=str(assessment_label),
                body_html=render_markdown(frozen.body),
                deviation_reason=frozen.deviation_reason,
                finalised_at=report.finalised_at,  # type: ignore[arg-type]
            )
        )
    for analyses in result.values():
        analyses.sort(key=lambda a: a.finalised_at, reverse=True)
    return result


def _as_finalised(rows: list[Any], goal: Element, writer: int, report: Report) -> Any:
    """The last history row of the analysis (goal, writer, period) up to the finalisation."""
    frozen = None
    for row in rows:
        if (
            row.goal_id == goal.pk
            and row.unit_id == writer
            and row.period_id == report.period_id
            and row.history_date <= report.finalised_at
        ):
            frozen = row
    return frozen


# Annual agreements ----------------------------------------------------------------------------

_LIVE_STATES = {
    AgreementExposure.NONE: (),
    AgreementExposure.PUBLISHED: (AgreementState.PUBLISHED,),
    AgreementExposure.AGREED: (AgreementState.PUBLISHED, AgreementState.AGREED),
}


def public_agreement_states(row: PublicationSettings | None = None) -> tuple[str, ...]:
    """The agreement states the public may read, as the organisation chose (never a draft or
    a submitted agreement)."""
    row = row or publication_settings()
    return tuple(_LIVE_STATES.get(AgreementExposure(row.agreements), ()))


@dataclass
class PublicInitiative:
    title: str
    description: str
    status: str
    start_date: date | None
    end_date: date | None
    owner: str
    goals: list[Element]

    @property
    def status_label(self) -> str:
        return str(dict(InitiativeStatus.choices).get(self.status, self.status))

    @property
    def status_tone(self) -> str:
        return STATUS_TONES.get(InitiativeStatus(self.status), "neutral")

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "status_label": self.status_label,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "owner": self.owner or None,
            "goals": [{"strategy": g.strategy.code, "code": g.code} for g in self.goals],
        }


@dataclass
class PublicAgreement:
    unit: Unit
    year: int
    state: str  # the state of what is shown: published or agreed
    summary: str
    initiatives: list[PublicInitiative]
    version: int | None  # the frozen version shown during a revision; None: the live one
    agreed_at: datetime | None
    published_at: datetime | None
    updated_at: datetime

    @property
    def state_label(self) -> str:
        return str(dict(AgreementState.choices).get(self.state, self.state))

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit.code,
            "unit_name": self.unit.name,
            "year": self.year,
            "state": self.state,
            "version": self.version,
            "summary": self.summary,
            "agreed_at": self.agreed_at.isoformat() if self.agreed_at else None,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "initiatives": [i.as_dict() for i in self.initiatives],
        }


def published_agreements(
    *, year: int | None = None, unit: Unit | None = None, within: Unit | None = None
) -> list[PublicAgreement]:
    """The annual agreements the public may read, as it may read them, in tree order.

    Four queries: the live agreements with their initiatives and goals, the agreements under
    revision with their last public version, and the goals those versions link to."""
    row = publication_settings()
    states = public_agreement_states(row)
    if not states:
        return []
    show_owner = row.show_owner_names
    public_ids = set(public_strategies().values_list("pk", flat=True))
    base = Agreement.objects.select_related("unit", "unit__level")
    if year is not None:
        base = base.filter(year=year)
    if unit is not None:
        base = base.filter(unit=unit)
    if within is not None:
        base = base.filter(unit__path__startswith=within.path)
    initiatives = Initiative.objects.select_related("owner").prefetch_related(
        Prefetch("goals", queryset=Element.objects.select_related("strategy"))
    )
    live = list(
        base.filter(state__in=states).prefetch_related(
            Prefetch("initiatives", queryset=initiatives)
        )
    )
    result: list[PublicAgreement] = []
    for agreement in live:
        result.append(
            PublicAgreement(
                unit=agreement.unit,
                year=agreement.year,
                state=agreement.state,
                summary=agreement.summary,
                initiatives=[
                    PublicInitiative(
                        title=i.title,
                        description=i.description,
                        status=i.status,
                        start_date=i.start_date,
                        end_date=i.end_date,
                        owner=_name(i.owner) if show_owner else "",
                        goals=[g for g in i.goals.all() if g.strategy_id in public_ids],
                    )
                    for i in agreement.initiatives.all()
                ],
                version=None,
                agreed_at=agreement.agreed_at,
                published_at=agreement.published_at,
                updated_at=agreement.updated_at,
            )
        )
    # Under revision (a draft or submitted again): the last version the public could read.
    revised = list(
        base.exclude(state__in=states)
        .filter(versions__state__in=states)
        .distinct()
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=AgreementVersion.objects.filter(state__in=states).order_by("-number"),
            )
        )
    )
    versions = [(a, next(iter(a.versions.all()))) for a in revised]
    goal_ids = {g["id"] for _a, v in versions for i in v.content["initiatives"] for g in i["goals"]}
    goals = {
        e.pk: e
        for e in Element.objects.filter(pk__in=goal_ids, strategy_id__in=public_ids).select_related(
            "strategy"
        )
    }
    for agreement, version in versions:
        content = version.content
        result.append(
            PublicAgreement(
                unit=agreement.unit,
                year=agreement.year,
                state=version.state,
                summary=content.get("summary", ""),
                initiatives=[
                    PublicInitiative(
                        title=i["title"],
                        description=i["description"],
                        status=i["status"],
                        start_date=parse_date(i["start_date"]) if i["start_date"] else None,
                        end_date=parse_date(i["end_date"]) if i["end_date"] else None,
                        owner=i["owner"] if show_owner else "",
                        goals=[goals[g["id"]] for g in i["goals"] if g["id"] in goals],
                    )
                    for i in content["initiatives"]
                ],
                version=version.number,
                agreed_at=agreement.agreed_at,
                published_at=agreement.published_at,
                updated_at=version.created_at,
            )
        )
    result.sort(key=lambda a: (a.year, a.unit.path))
    return result


def _name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or "")


def agreement_years() -> list[int]:
    """The years with a public annual agreement, newest first."""
    states = public_agreement_states()
    if not states:
        return []
    years = (
        Agreement.objects.filter(Q(state__in=states) | Q(versions__state__in=states))
        .values_list("year", flat=True)
        .distinct()
    )
    return sorted(set(years), reverse=True)


@dataclass
class TreeNode:
    unit: Unit
    agreement: PublicAgreement | None
    children: list[TreeNode] = field(default_factory=list)


def agreement_tree(year: int) -> list[TreeNode]:
    """The open units as their tree, each with its public agreement of ``year`` (if any)."""
    agreements = {a.unit.pk: a for a in published_agreements(year=year)}
    units = list(
        Unit.objects.filter(closed_on__isnull=True).select_related("level").order_by("path")
    )
    nodes: dict[str, TreeNode] = {}
    roots: list[TreeNode] = []
    for unit in units:
        node = TreeNode(unit, agreements.get(unit.pk))
        nodes[unit.path] = node
        parent = nodes.get(unit.path[: -unit.steplen]) if unit.depth > 1 else None
        if parent is not None:
            parent.children.append(node)
        else:
            roots.append(node)
    return roots


def public_unit(code: str) -> Unit | None:
    return Unit.objects.filter(code=code).select_related("level").first()


# Search ---------------------------------------------------------------------------------------


@dataclass
class SearchResults:
    query: str
    strategies: list[Strategy]
    elements: list[Element]
    agreements: list[tuple[PublicAgreement, list[str]]]  # agreement, matching initiatives
    indicators: list[Indicator]

    @property
    def count(self) -> int:
        return (
            len(self.strategies) + len(self.elements) + len(self.agreements) + len(self.indicators)
        )


def search(query: str, *, year: int | None) -> SearchResults:
    """Everything public whose words contain ``query`` (ignoring case)."""
    q = query.strip()
    strategies = public_strategies()
    found_strategies = list(
        strategies.filter(Q(title__icontains=q) | Q(summary__icontains=q) | Q(body__icontains=q))
    )
    elements = list(
        Element.objects.filter(strategy__in=strategies)
        .filter(Q(title__icontains=q) | Q(description__icontains=q) | Q(code__iexact=q))
        .select_related("strategy", "level")
        .order_by("strategy__position", "position", "code")[:100]
    )
    needle = q.casefold()
    agreements: list[tuple[PublicAgreement, list[str]]] = []
    for agreement in published_agreements(year=year) if year is not None else []:
        hits = [
            i.title
            for i in agreement.initiatives
            if needle in i.title.casefold() or needle in i.description.casefold()
        ]
        if (
            hits
            or needle in agreement.unit.name.casefold()
            or needle in agreement.summary.casefold()
        ):
            agreements.append((agreement, hits))
    indicators = list(
        public_indicators().filter(Q(name__icontains=q) | Q(description__icontains=q))
    )
    return SearchResults(q, found_strategies, elements, agreements, indicators)


# Freshness ------------------------------------------------------------------------------------


def last_modified(today: date | None = None) -> datetime:
    """When public content last changed: the latest history row of what the public site
    shows, and at least the start of today (statuses are judged as on today). The ETag
    (a hash of the answer) catches anything this misses."""
    today = today or timezone.localdate()
    moments = [timezone.make_aware(datetime.combine(today, time.min))]
    models: list[Any] = [
        PublicationSettings,
        StrategyPublication,
        IndicatorPublication,
        Strategy,
        StrategyLevel,
        Element,
        Agreement,
        Initiative,
        Analysis,
        Report,
        Indicator,
        IndicatorValue,
    ]
    for model in models:
        latest = model.history.aggregate(latest=Max("history_date"))["latest"]
        if latest is not None:
            moments.append(latest)
    return max(moments)
