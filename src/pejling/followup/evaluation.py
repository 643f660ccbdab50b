"""Evaluating every kind of goal: KPI goals (from indicators), and goals that measure
themselves from the agreements: counts, coverage of a level, and owners' assessments.

What counts is ``agreements.coverage.committed_links``: only agreements that have left the
draft state (a draft is not yet a commitment), never cancelled initiatives.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, NamedTuple

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from pejling.agreements.coverage import committed_links, initiative_counts
from pejling.core.generation import cached
from pejling.followup.models import AssessmentStatus, CountsWhat, DerivedGoal, GoalAssessment
from pejling.indicators.evaluation import Evaluation, evaluate_kpi, kpi_inputs
from pejling.organisation.models import Unit
from pejling.strategy.goal_status import GoalStatus
from pejling.strategy.models import Element, MeasureKind
from pejling.strategy.selectors import readable_strategies


def _number_text(value: float) -> str:
    """The number in the reader's language, to one decimal (none for a whole number)."""
    rounded = round(value, 1)
    return str(
        number_format(
            int(rounded) if rounded.is_integer() else rounded, decimal_pos=None, use_l10n=True
        )
    )


def goals_for_year(year: int) -> QuerySet[Element]:
    return (
        Element.objects.filter(
            level__holds_goals=True, strategy__start_year__lte=year, strategy__end_year__gte=year
        )
        .exclude(measure_kind="")
        .select_related(
            "strategy",
            "level",
            "parent",
            "derived__unit_level",
            "derived__scope_strategy",
            "kpi__indicator__numerator",
            "kpi__indicator__denominator",
            "kpi__unit",
        )
        .order_by("strategy__position", "strategy__title", "parent__position", "position", "code")
    )


class _Link(NamedTuple):
    """One committed goal link of the year, with what count and coverage goals read of it."""

    goal_id: int
    strategy_id: int
    holds_goals: bool
    initiative_id: int
    status: str
    title: str
    unit_id: int
    unit_name: str
    unit_level_id: int


class YearLinks:
    """Every committed goal link of a year (``agreements.coverage``), read in one query and
    indexed once by goal and by strategy: each count and coverage goal reads only its own."""

    def __init__(self, links: list[_Link]) -> None:
        self.by_goal: dict[int, list[_Link]] = defaultdict(list)
        self.by_strategy: dict[int, list[_Link]] = defaultdict(list)  # links to goal levels
        for link in links:
            self.by_goal[link.goal_id].append(link)
            if link.holds_goals:
                self.by_strategy[link.strategy_id].append(link)

    def of(self, goal: Element, derived: DerivedGoal) -> list[_Link]:
        """The links that count for ``goal``: of the counted statuses; of any goal of the scope
        strategy, or of the goal itself; of units of the goal's level if it names one."""
        statuses = {s for s in derived.counted_statuses() if initiative_counts(s)}
        candidates = (
            self.by_strategy.get(derived.scope_strategy_id, [])
            if derived.scope_strategy_id
            else self.by_goal.get(goal.pk, [])
        )
        return [
            link
            for link in candidates
            if link.status in statuses
            and (not derived.unit_level_id or link.unit_level_id == derived.unit_level_id)
        ]


def _wanted(derived: list[DerivedGoal]) -> Q:
    """The links ``YearLinks.of`` may pick for any of ``derived`` (a filter the database applies,
    so it sends only those): the same three conditions as ``of``, one alternative per goal."""
    wanted = Q(pk__in=[])
    for goal in derived:
        statuses = [s for s in goal.counted_statuses() if initiative_counts(s)]
        q = Q(initiative__status__in=statuses)
        if goal.scope_strategy_id:
            q &= Q(goal__strategy_id=goal.scope_strategy_id, goal__level__holds_goals=True)
        else:
            q &= Q(goal_id=goal.goal_id)
        if goal.unit_level_id:
            q &= Q(initiative__agreement__unit__level_id=goal.unit_level_id)
        wanted |= q
    return wanted


def year_links(year: int, derived: list[DerivedGoal] | None = None) -> YearLinks:
    """Every committed goal link of ``year`` (``agreements.coverage``), in one query: count and
    coverage goals pick theirs from it, whatever their number. With ``derived`` (the count and
    coverage goals to evaluate) only the links one of them may pick are read: the database
    filters them, not Python (a goal of its own links reads those, not the year's thousands)."""
    links = committed_links(year=year)
    if derived is not None:
        links = links.filter(_wanted(derived))
    return YearLinks(
        [
            _Link(*row)
            for row in links.values_list(
                "goal_id",
                "goal__strategy_id",
                "goal__level__holds_goals",
                "initiative_id",
                "initiative__status",
                "initiative__title",
                "initiative__agreement__unit_id",
                "initiative__agreement__unit__name",
                "initiative__agreement__unit__level_id",
            )
        ]
    )


def open_units_by_level(level_ids: set[int]) -> dict[int, list[tuple[int, str]]]:
    """The open units (id, name) of each level, by name, in one query."""
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pk, name, level_id in (
        Unit.objects.filter(level_id__in=level_ids, closed_on__isnull=True)
        .order_by("name")
        .values_list("pk", "name", "level_id")
    ):
        found[level_id].append((pk, name))
    return found


def _expected_share(goal: Element, year: int, today: date) -> float:
    start = date(year, 1, 1)
    end = goal.target_date or date(year, 12, 31)
    if today >= end:
        return 1.0
    if today <= start:
        return 0.0
    return (today - start).days / max(1, (end - start).days)


def _judge(
    evaluation: Evaluation, value: float, target: float, expected: float, words: dict[str, str]
) -> None:
    evaluation.expected = round(expected, 2)
    if value >= target:
        evaluation.status = GoalStatus.ACHIEVED
        evaluation.reason = _("%(value)s of the target %(target)s: achieved.") % words
    elif value >= expected:
        evaluation.status = GoalStatus.ON_TRACK
        evaluation.reason = (
            _(
                "%(value)s so far, as many as expected by now (%(expected)s) on the way to %(target)s."
            )
            % words
        )
    elif value >= expected * 0.7:
        evaluation.status = GoalStatus.AT_RISK
        evaluation.reason = (
            _(
                "%(value)s so far, fewer than the %(expected)s expected by now on the way to %(target)s."
            )
            % words
        )
    else:
        evaluation.status = GoalStatus.OFF_TRACK
        evaluation.reason = (
            _(
                "%(value)s so far, far below the %(expected)s expected by now on the way to %(target)s."
            )
            % words
        )


def evaluate_count(
    goal: Element, year: int, today: date, links: YearLinks | None = None
) -> Evaluation:
    """``links``: the year's committed links when read already (``year_links``)."""
    derived = getattr(goal, "derived", None)
    target = float(goal.target_value) if goal.target_value is not None else None
    evaluation = Evaluation(
        goal=goal, kind=MeasureKind.COUNT, target=target, status=GoalStatus.NO_DATA
    )
    if derived is None or target is None:
        evaluation.reason = _("The goal does not say what to count or how many.")
        return evaluation
    mine = (year_links(year, [derived]) if links is None else links).of(goal, derived)
    if derived.counts == CountsWhat.INITIATIVES:
        rows = sorted({(link.title, link.unit_name) for link in mine})
        evaluation.behind = [f"{title} ({unit})" for title, unit in rows]
        value = float(len({link.initiative_id for link in mine}))
    else:
        units = {link.unit_id: link.unit_name for link in mine}
        evaluation.behind = sorted(units.values())
        value = float(len(units))
    evaluation.value = value
    evaluation.progress = round(min(100.0, value / target * 100), 1) if target else None
    expected = target * _expected_share(goal, year, today)
    _judge(
        evaluation,
        value,
        target,
        expected,
        {
            "value": _number_text(value),
            "target": _number_text(target),
            "expected": _number_text(expected),
        },
    )
    return evaluation


def evaluate_coverage(
    goal: Element,
    year: int,
    today: date,
    links: YearLinks | None = None,
    units_by_level: dict[int, list[tuple[int, str]]] | None = None,
) -> Evaluation:
    """``links``, ``units_by_level``: read already for every goal (``all_goal_evaluations``)."""
    derived = getattr(goal, "derived", None)
    target = float(goal.target_value) if goal.target_value is not None else 100.0
    evaluation = Evaluation(
        goal=goal, kind=MeasureKind.COVERAGE, target=target, status=GoalStatus.NO_DATA
    )
    if derived is None or derived.unit_level_id is None:
        evaluation.reason = _("The goal does not say which level must be covered.")
        return evaluation
    if units_by_level is None:
        units_by_level = open_units_by_level({derived.unit_level_id})
    units = units_by_level.get(derived.unit_level_id, [])
    if not units:
        evaluation.reason = _("There are no units of that level.")
        return evaluation
    mine = (year_links(year, [derived]) if links is None else links).of(goal, derived)
    covered = {link.unit_id for link in mine}
    missing = [name for pk, name in units if pk not in covered]
    value = round(100.0 * (len(units) - len(missing)) / len(units), 1)
    evaluation.value = value
    evaluation.progress = round(min(100.0, value / target * 100), 1) if target else None
    evaluation.behind = [name for pk, name in units if pk in covered]
    evaluation.missing = missing
    expected = target * _expected_share(goal, year, today)
    level = derived.unit_level
    words = {
        "covered": str(len(units) - len(missing)),
        "total": str(len(units)),
        # The level's names are data: its singular after "of 1", else its plural.
        "level": (level.name if len(units) == 1 else level.name_plural).lower() if level else "",
        "value": _number_text(value),
        "target": _number_text(target),
        "expected": _number_text(expected),
    }
    _judge(evaluation, value, target, expected, words)  # the status; a coverage reason below
    evaluation.reason = _coverage_reason(evaluation.status, len(units) - len(missing)) % words
    return evaluation


def _coverage_reason(status: str, covered: int) -> str:
    """One sentence (a template with named placeholders) per status, for a coverage goal."""
    if status == GoalStatus.ACHIEVED:
        return ngettext(
            "%(covered)s of %(total)s %(level)s is covered (%(value)s %%): "
            "the target of %(target)s %% is achieved.",
            "%(covered)s of %(total)s %(level)s are covered (%(value)s %%): "
            "the target of %(target)s %% is achieved.",
            covered,
        )
    if status == GoalStatus.ON_TRACK:
        return ngettext(
            "%(covered)s of %(total)s %(level)s is covered (%(value)s %%), as much as expected "
            "by now (%(expected)s %%) on the way to %(target)s %%.",
            "%(covered)s of %(total)s %(level)s are covered (%(value)s %%), as much as expected "
            "by now (%(expected)s %%) on the way to %(target)s %%.",
            covered,
        )
    if status == GoalStatus.AT_RISK:
        return ngettext(
            "%(covered)s of %(total)s %(level)s is covered (%(value)s %%), less than the "
            "%(expected)s %% expected by now on the way to %(target)s %%.",
            "%(covered)s of %(total)s %(level)s are covered (%(value)s %%), less than the "
            "%(expected)s %% expected by now on the way to %(target)s %%.",
            covered,
        )
    return ngettext(
        "%(covered)s of %(total)s %(level)s is covered (%(value)s %%), far below the "
        "%(expected)s %% expected by now on the way to %(target)s %%.",
        "%(covered)s of %(total)s %(level)s are covered (%(value)s %%), far below the "
        "%(expected)s %% expected by now on the way to %(target)s %%.",
        covered,
    )


def evaluate_assessed(goal: Element, year: int, assessment: GoalAssessment | None) -> Evaluation:
    evaluation = Evaluation(goal=goal, kind=MeasureKind.ASSESSED, status=GoalStatus.NO_DATA)
    if assessment is None:
        evaluation.reason = _("The goal's owner has not assessed it yet this year.")
        return evaluation
    evaluation.status = GoalStatus(AssessmentStatus(assessment.status).value)
    evaluation.reason = assessment.justification
    return evaluation


def all_goal_evaluations(*, year: int, today: date | None = None) -> list[Evaluation]:
    """Every measured goal of the strategies in force in ``year``, in strategy order."""
    today = today or timezone.localdate()
    root = Unit.objects.filter(depth=1).order_by("path").first()
    goals = list(goals_for_year(year))
    assessments: dict[int, GoalAssessment] = {}
    for assessment in GoalAssessment.objects.filter(goal__in=goals, year=year).order_by(
        "created_at"
    ):
        assessments[assessment.goal_id] = assessment  # the latest wins
    inputs = kpi_inputs(goals, root, today)  # every KPI goal's series etc. at once
    derived = [
        g.derived
        for g in goals
        if g.measure_kind in (MeasureKind.COUNT, MeasureKind.COVERAGE)
        and getattr(g, "derived", None)
    ]
    # Every count and coverage goal's links, and only theirs.
    links = year_links(year, derived) if derived else YearLinks([])
    levels = {d.unit_level_id for d in derived if d.unit_level_id}
    units_by_level = open_units_by_level(levels) if levels else {}
    result = []
    for goal in goals:
        if goal.measure_kind == MeasureKind.KPI:
            result.append(
                evaluate_kpi(
                    goal, getattr(goal, "kpi", None), root, today=today, **inputs.get(goal.pk, {})
                )
            )
        elif goal.measure_kind == MeasureKind.COUNT:
            result.append(evaluate_count(goal, year, today, links))
        elif goal.measure_kind == MeasureKind.COVERAGE:
            result.append(evaluate_coverage(goal, year, today, links, units_by_level))
        elif goal.measure_kind == MeasureKind.ASSESSED:
            result.append(evaluate_assessed(goal, year, assessments.get(goal.pk)))
    for evaluation in result:
        if evaluation.unit is None:
            evaluation.unit = root
    return result


def current_goal_evaluations(*, year: int, today: date | None = None) -> list[Evaluation]:
    """``all_goal_evaluations`` (the one rule), kept in the shared cache under the data
    generation (``core/generation.py``: raised by every write of the data it reads, values,
    goals, agreements and their links, reports, deadlines, the tree), the day and the language
    (its reasons are sentences, its numbers written in the reader's language)."""
    today = today or timezone.localdate()
    return cached(
        ("followup:evaluations", year, today.isoformat(), get_language()),
        lambda: all_goal_evaluations(year=year, today=today),
    )


def readable_evaluations(user: Any, *, year: int, today: date | None = None) -> list[Evaluation]:
    """``current_goal_evaluations`` of the goals ``user`` may read (``readable_strategies``):
    the dashboard and the API show the same goals."""
    readable = set(readable_strategies(user).values_list("pk", flat=True))
    return [
        e
        for e in current_goal_evaluations(year=year, today=today)
        if e.goal.strategy_id in readable
    ]
