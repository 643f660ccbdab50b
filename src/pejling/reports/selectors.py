"""Reads for analyses and reports: goals of a period and their computed status, the
analyses a person may read, the previous period's analysis, the roll-up under a unit, and a
report's progress. Each is a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from pejling.agreements.models import InitiativeGoal
from pejling.followup.evaluation import all_goal_evaluations
from pejling.followup.models import Deadline, DeadlineKind
from pejling.followup.services import previous_deadline
from pejling.indicators.evaluation import Evaluation
from pejling.organisation.models import Unit
from pejling.reports.models import Analysis, Report, Section, SectionState
from pejling.reports.permissions import can_read_analysis
from pejling.strategy.models import Element, Strategy, StrategyStatus
from pejling.strategy.selectors import top_ancestors


def report_periods(year: int | None = None) -> QuerySet[Deadline]:
    """The follow-up periods (report deadlines with a period) analyses are written for."""
    qs = Deadline.objects.filter(kind=DeadlineKind.REPORT).exclude(period="")
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("year", "due_date")


def evaluation_day(period: Deadline) -> date:
    """Figures of a period are judged as on its due date (or today, if that comes first)."""
    return min(timezone.localdate(), period.due_date)


def period_evaluations(period: Deadline) -> dict[int, Evaluation]:
    """Every measured goal's computed evaluation for the period, by goal id (published
    strategies only: a report never shows a draft strategy)."""
    return {
        e.goal.pk: e
        for e in all_goal_evaluations(year=period.year, today=evaluation_day(period))
        if e.goal.strategy.status == StrategyStatus.PUBLISHED
    }


def goal_evaluation(goal: Element, period: Deadline) -> Evaluation | None:
    return period_evaluations(period).get(goal.pk)


def goals_of_unit(unit: Unit, period: Deadline) -> list[Element]:
    """The goals a unit writes analyses for in a period: the goals its initiatives of the year
    link to; the top of the organisation writes for every measured goal in force."""
    qs = Element.objects.filter(
        level__holds_goals=True,
        strategy__status=StrategyStatus.PUBLISHED,
        strategy__start_year__lte=period.year,
        strategy__end_year__gte=period.year,
    ).select_related("strategy", "parent")
    if unit.depth > 1:
        linked = InitiativeGoal.objects.filter(
            initiative__agreement__unit=unit, initiative__agreement__year=period.year
        ).values("goal_id")
        qs = qs.filter(pk__in=linked)
    else:
        qs = qs.exclude(measure_kind="")
    return list(
        qs.order_by("strategy__position", "strategy__title", "parent__position", "position")
    )


def goals_by_theme(
    period: Deadline,
) -> list[tuple[Strategy, list[tuple[Element, list[Element]]]]]:
    """The measured goals of the published strategies in force in the period's year, grouped
    by strategy and top element (theme), in strategy order. Two queries."""
    goals = list(
        Element.objects.filter(
            level__holds_goals=True,
            strategy__status=StrategyStatus.PUBLISHED,
            strategy__start_year__lte=period.year,
            strategy__end_year__gte=period.year,
        )
        .exclude(measure_kind="")
        .select_related("strategy", "parent", "level")
        .order_by("strategy__position", "strategy__title", "parent__position", "position", "code")
    )
    tops = top_ancestors(goals)
    result: list[tuple[Strategy, list[tuple[Element, list[Element]]]]] = []
    for goal in goals:
        top = tops.get(goal.pk, goal)
        if not result or result[-1][0].pk != goal.strategy_id:
            result.append((goal.strategy, []))
        themes = result[-1][1]
        if not themes or themes[-1][0].pk != top.pk:
            themes.append((top, []))
        themes[-1][1].append(goal)
    return result


def analysis_of(*, goal: Element, unit: Unit, period: Deadline) -> Analysis | None:
    return (
        Analysis.objects.filter(goal=goal, unit=unit, period=period, initiative__isnull=True)
        .select_related("updated_by")
        .first()
    )


def previous_analysis(*, goal: Element, unit: Unit, period: Deadline) -> Analysis | None:
    """The unit's analysis of the goal in the period before (within the year, else the last
    period of the year before)."""
    before = previous_deadline(period)
    if before is None:
        before = report_periods(period.year - 1).order_by("-due_date").first()
    if before is None:
        return None
    return analysis_of(goal=goal, unit=unit, period=before)


def analyses_for_unit(unit: Unit, period: Deadline) -> dict[int, Analysis]:
    return {
        a.goal_id: a
        for a in Analysis.objects.filter(unit=unit, period=period, initiative__isnull=True)
    }


@dataclass(frozen=True)
class RollUpRow:
    unit: Unit
    analysis: Analysis


def analyses_under(*, user: Any, unit: Unit, goal: Element, period: Deadline) -> list[RollUpRow]:
    """The analyses of ``goal`` in ``period`` by ``unit`` and every unit under it that
    ``user`` may read, in tree order: a centre's view of its units' analyses."""
    rows = (
        Analysis.objects.filter(
            goal=goal,
            period=period,
            initiative__isnull=True,
            unit__path__startswith=unit.path,
        )
        .select_related("unit", "unit__level", "updated_by")
        .order_by("unit__path")
    )
    return [RollUpRow(a.unit, a) for a in rows if can_read_analysis(user, a.unit)]


@dataclass(frozen=True)
class Progress:
    total: int
    ready: int
    approved: int
    late: int

    @property
    def percent_approved(self) -> int:
        return round(100 * self.approved / self.total) if self.total else 0


def report_sections(report: Report) -> list[Section]:
    return list(
        report.sections.select_related("unit", "assignee", "theme", "report").order_by(
            "position", "pk"
        )
    )


def report_progress(sections: list[Section], today: date | None = None) -> Progress:
    today = today or timezone.localdate()
    return Progress(
        total=len(sections),
        ready=sum(1 for s in sections if s.state == SectionState.READY),
        approved=sum(1 for s in sections if s.state == SectionState.APPROVED),
        late=sum(1 for s in sections if s.is_late(today)),
    )


def reports_visible(user: Any) -> list[Report]:
    """The reports ``user`` may open (``permissions.can_read_report``), newest period first."""
    from pejling.reports.permissions import can_read_report

    reports = Report.objects.select_related("period").prefetch_related("sections__unit")
    return [r for r in reports if can_read_report(user, r)]
