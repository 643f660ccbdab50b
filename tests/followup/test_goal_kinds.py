"""Goals that measure themselves from the annual agreements: counts, coverage of a level and
the owners' own assessments, on the hand-built organisation of ``tests/conftest.py``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import translation

from pejling.agreements.models import Agreement, AgreementState, InitiativeStatus
from pejling.followup.evaluation import all_goal_evaluations
from pejling.followup.models import AssessmentStatus, CountsWhat
from pejling.indicators.evaluation import Evaluation, Status
from pejling.organisation.models import Unit, UnitLevel
from pejling.strategy.models import Element, MeasureKind
from tests.factories import (
    YEAR,
    AgreementFactory,
    DerivedGoalFactory,
    ElementFactory,
    GoalAssessmentFactory,
    InitiativeFactory,
    StrategyFactory,
    StrategyLevelFactory,
)

pytestmark = pytest.mark.django_db

END_OF_YEAR = date(YEAR, 12, 31)


def measured(goal: Element, kind: str, target: str | None = None, **derived: Any) -> Element:
    """Make ``goal`` a count or coverage goal (``derived`` says how) or an assessed one."""
    goal.measure_kind = kind
    goal.target_value = Decimal(target) if target is not None else None
    goal.save()
    if kind in (MeasureKind.COUNT, MeasureKind.COVERAGE):
        DerivedGoalFactory(goal=goal, **derived)
    return goal


def evaluation_of(
    goal: Element, *, year: int = YEAR, today: date | None = END_OF_YEAR
) -> Evaluation:
    evaluations = {e.goal.pk: e for e in all_goal_evaluations(year=year, today=today)}
    return evaluations[goal.pk]


def agreement_of(unit: Unit, state: str = AgreementState.SUBMITTED, year: int = YEAR) -> Agreement:
    return Agreement.objects.filter(unit=unit, year=year).first() or AgreementFactory(
        unit=unit, year=year, state=state
    )


def level(depth: int) -> UnitLevel:
    return UnitLevel.objects.get(depth=depth)


# Counts -----------------------------------------------------------------------------------------


def test_a_count_of_units_counts_each_unit_with_a_linked_initiative_once(org, cascade):
    goal = measured(cascade.goal_2, MeasureKind.COUNT, "4", counts=CountsWhat.UNITS)
    InitiativeFactory(agreement=agreement_of(org.unit), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.unit), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.sibling, AgreementState.AGREED), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.dept_a1, AgreementState.PUBLISHED), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.unit_b1a), goals=[cascade.goal_3])  # other goal

    evaluation = evaluation_of(goal)

    assert evaluation.kind == MeasureKind.COUNT
    assert evaluation.value == 3
    assert evaluation.target == 4
    assert evaluation.progress == 75.0
    assert evaluation.behind == ["Department A1", "Unit A1a", "Unit A1b"]
    assert evaluation.expected == 4  # the year is over: the whole target is expected
    assert evaluation.status == Status.AT_RISK  # 3 is at least 70 % of 4
    assert evaluation.forecast is None
    assert evaluation.unit == org.root


def test_a_count_of_units_of_one_level_counts_only_the_units_of_that_level(org, cascade):
    goal = measured(cascade.goal_2, MeasureKind.COUNT, "2", unit_level=level(3))
    InitiativeFactory(agreement=agreement_of(org.unit), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.dept_a1), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.dept_b1), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.centre_a), goals=[goal])

    evaluation = evaluation_of(goal)

    assert evaluation.value == 2
    assert evaluation.behind == ["Department A1", "Department B1"]
    assert evaluation.status == Status.ACHIEVED


def test_a_count_of_initiatives_counts_every_linked_initiative(org, cascade):
    goal = measured(cascade.goal_2, MeasureKind.COUNT, "5", counts=CountsWhat.INITIATIVES)
    InitiativeFactory(agreement=agreement_of(org.unit), title="Mentors", goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.unit), title="Study circles", goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.sibling), title="Mentors", goals=[goal])

    evaluation = evaluation_of(goal)

    assert evaluation.value == 3
    assert sorted(evaluation.behind) == [
        "Mentors (Unit A1a)",
        "Mentors (Unit A1b)",
        "Study circles (Unit A1a)",
    ]
    assert evaluation.progress == 60.0


def test_a_count_with_statuses_counts_only_initiatives_in_those_statuses(org, cascade):
    goal = measured(
        cascade.goal_2,
        MeasureKind.COUNT,
        "2",
        counts=CountsWhat.INITIATIVES,
        statuses=[InitiativeStatus.DONE, InitiativeStatus.EVALUATED],
    )
    agreement = agreement_of(org.unit)
    for status in InitiativeStatus.values:
        InitiativeFactory(agreement=agreement, title=status, goals=[goal], status=status)

    evaluation = evaluation_of(goal)

    assert evaluation.value == 2
    assert sorted(evaluation.behind) == ["done (Unit A1a)", "evaluated (Unit A1a)"]
    assert evaluation.status == Status.ACHIEVED


def test_a_count_without_statuses_counts_every_status_but_cancelled(org, cascade):
    goal = measured(cascade.goal_2, MeasureKind.COUNT, "4", counts=CountsWhat.INITIATIVES)
    agreement = agreement_of(org.unit)
    for status in InitiativeStatus.values:
        InitiativeFactory(agreement=agreement, title=status, goals=[goal], status=status)

    evaluation = evaluation_of(goal)

    assert evaluation.value == len(InitiativeStatus.values) - 1  # every status but cancelled
    assert "cancelled (Unit A1a)" not in evaluation.behind


@pytest.mark.parametrize("counts", [CountsWhat.UNITS, CountsWhat.INITIATIVES])
def test_a_cancelled_initiative_never_counts_even_when_its_status_is_listed(org, cascade, counts):
    goal = measured(
        cascade.goal_2,
        MeasureKind.COUNT,
        "1",
        counts=counts,
        statuses=[InitiativeStatus.CANCELLED, InitiativeStatus.DONE],
    )
    InitiativeFactory(
        agreement=agreement_of(org.unit), goals=[goal], status=InitiativeStatus.CANCELLED
    )

    evaluation = evaluation_of(goal)

    assert evaluation.value == 0
    assert evaluation.behind == []


def test_draft_agreements_do_not_count(org, cascade):
    goal = measured(cascade.goal_2, MeasureKind.COUNT, "2")
    InitiativeFactory(agreement=agreement_of(org.unit, AgreementState.DRAFT), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.sibling, AgreementState.SUBMITTED), goals=[goal])

    assert evaluation_of(goal).behind == ["Unit A1b"]


def test_agreements_of_another_year_do_not_count(org, cascade):
    goal = measured(cascade.goal_2, MeasureKind.COUNT, "2")
    InitiativeFactory(agreement=agreement_of(org.unit, year=YEAR - 1), goals=[goal])

    assert evaluation_of(goal).value == 0
    assert evaluation_of(goal, year=YEAR - 1).value == 1


def test_a_count_scoped_to_a_strategy_counts_initiatives_linked_to_any_of_its_goals(org, cascade):
    digital = StrategyFactory(code="digital", title="Digital", start_year=2025, end_year=2027)
    StrategyLevelFactory(strategy=digital, depth=1, name="Area")
    StrategyLevelFactory(strategy=digital, depth=2, name="Goal", holds_goals=True)
    d1 = ElementFactory(parent=ElementFactory(strategy=digital, code="D1"), code="D1.1")
    d2 = ElementFactory(parent=ElementFactory(strategy=digital, code="D2"), code="D2.1")
    goal = measured(
        cascade.goal_2,
        MeasureKind.COUNT,
        "3",
        counts=CountsWhat.INITIATIVES,
        scope_strategy=digital,
    )
    InitiativeFactory(agreement=agreement_of(org.unit), title="E-services", goals=[d1])
    InitiativeFactory(agreement=agreement_of(org.unit), title="Both", goals=[d1, d2])
    InitiativeFactory(agreement=agreement_of(org.sibling), title="Robots", goals=[d2])
    InitiativeFactory(agreement=agreement_of(org.sibling), title="Unscoped", goals=[goal])

    evaluation = evaluation_of(goal)

    assert evaluation.value == 3  # "Both" once, the goal's own link not at all
    assert sorted(evaluation.behind) == [
        "Both (Unit A1a)",
        "E-services (Unit A1a)",
        "Robots (Unit A1b)",
    ]


def test_an_initiative_linked_to_two_goals_counts_for_both_once_each(org, cascade):
    goal_2 = measured(cascade.goal_2, MeasureKind.COUNT, "1", counts=CountsWhat.INITIATIVES)
    goal_3 = measured(cascade.goal_3, MeasureKind.COUNT, "1", counts=CountsWhat.UNITS)
    InitiativeFactory(agreement=agreement_of(org.unit), title="Shared", goals=[goal_2, goal_3])

    assert evaluation_of(goal_2).value == 1
    assert evaluation_of(goal_2).behind == ["Shared (Unit A1a)"]
    assert evaluation_of(goal_3).value == 1
    assert evaluation_of(goal_3).behind == ["Unit A1a"]


def test_a_count_without_a_target_or_a_definition_has_no_data(org, cascade):
    without_target = measured(cascade.goal_2, MeasureKind.COUNT, None)
    without_definition = cascade.goal_3
    without_definition.measure_kind = MeasureKind.COUNT
    without_definition.target_value = Decimal(3)
    without_definition.save()

    for goal in (without_target, without_definition):
        evaluation = evaluation_of(goal)
        assert evaluation.status == Status.NO_DATA
        assert evaluation.value is None
    with translation.override("en"):
        assert evaluation_of(without_definition).reason == (
            "The goal does not say what to count or how many."
        )


def test_a_unit_moved_to_another_centre_mid_year_still_counts_once(org, cascade):
    goal = measured(cascade.goal_2, MeasureKind.COUNT, "3", unit_level=level(4))
    InitiativeFactory(agreement=agreement_of(org.unit_a2a), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.unit_b1a), goals=[goal])
    before = evaluation_of(goal)

    with time_machine.travel(datetime(YEAR, 6, 15, 10, tzinfo=UTC)):
        Unit.objects.move(org.dept_a2, org.centre_b, "sorted-child")
    moved = Unit.objects.get(pk=org.unit_a2a.pk)
    centre_b = Unit.objects.get(pk=org.centre_b.pk)
    InitiativeFactory(agreement=agreement_of(moved), goals=[goal])  # a second one after the move

    after = evaluation_of(goal)

    assert moved.path.startswith(centre_b.path)
    assert moved.depth == 4
    assert before.value == after.value == 2
    assert after.behind == ["Unit A2a", "Unit B1a"]


# Coverage ---------------------------------------------------------------------------------------


def test_coverage_is_the_share_of_the_units_of_a_level_and_lists_those_missing(org, cascade):
    goal = measured(cascade.goal_3, MeasureKind.COVERAGE, "100", unit_level=level(3))
    InitiativeFactory(agreement=agreement_of(org.dept_a1), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.dept_b1), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.unit), goals=[goal])  # not a department
    InitiativeFactory(  # a draft is not a commitment yet
        agreement=agreement_of(org.dept_a2, AgreementState.DRAFT), goals=[goal]
    )

    evaluation = evaluation_of(goal)

    assert evaluation.kind == MeasureKind.COVERAGE
    assert evaluation.value == 66.7
    assert evaluation.target == 100
    assert evaluation.behind == ["Department A1", "Department B1"]
    assert evaluation.missing == ["Department A2"]
    assert evaluation.status == Status.OFF_TRACK
    with translation.override("en"):
        assert evaluation_of(goal).reason == (
            "2 of 3 departments are covered (66.7 %), far below the 100 % expected by now on "
            "the way to 100 %."
        )


def test_coverage_of_every_unit_of_the_level_is_achieved(org, cascade):
    goal = measured(cascade.goal_3, MeasureKind.COVERAGE, None, unit_level=level(2))
    InitiativeFactory(agreement=agreement_of(org.centre_a), goals=[goal])
    InitiativeFactory(agreement=agreement_of(org.centre_b), goals=[goal])

    evaluation = evaluation_of(goal)

    assert evaluation.target == 100  # no target: every unit of the level
    assert evaluation.value == 100
    assert evaluation.missing == []
    assert evaluation.status == Status.ACHIEVED


def test_coverage_ignores_closed_units(org, cascade):
    goal = measured(cascade.goal_3, MeasureKind.COVERAGE, "100", unit_level=level(2))
    InitiativeFactory(agreement=agreement_of(org.centre_a), goals=[goal])
    Unit.objects.filter(pk=org.centre_b.pk).update(closed_on=date(YEAR - 1, 12, 31))

    evaluation = evaluation_of(goal)

    assert evaluation.value == 100
    assert evaluation.missing == []


@pytest.mark.parametrize(
    ("target", "today", "covered", "reason"),
    [
        (
            "50",
            END_OF_YEAR,
            ["centre_a"],
            "1 of 2 centres is covered (50 %): the target of 50 % is achieved.",
        ),
        (
            "100",
            date(YEAR, 1, 1),
            ["centre_a"],
            "1 of 2 centres is covered (50 %), as much as expected by now (0 %) on the way to "
            "100 %.",
        ),
        (
            "60",
            END_OF_YEAR,
            ["centre_a"],
            "1 of 2 centres is covered (50 %), less than the 60 % expected by now on the way "
            "to 60 %.",
        ),
        (
            "100",
            END_OF_YEAR,
            [],
            "0 of 2 centres are covered (0 %), far below the 100 % expected by now on the way "
            "to 100 %.",
        ),
        (
            "100",
            END_OF_YEAR,
            ["centre_a", "centre_b"],
            "2 of 2 centres are covered (100 %): the target of 100 % is achieved.",
        ),
    ],
)
def test_the_coverage_reason_is_one_sentence_for_each_status(
    org, cascade, target, today, covered, reason
):
    goal = measured(cascade.goal_3, MeasureKind.COVERAGE, target, unit_level=level(2))
    for name in covered:
        InitiativeFactory(agreement=agreement_of(getattr(org, name)), goals=[goal])

    with translation.override("en"):
        assert evaluation_of(goal, today=today).reason == reason


def test_the_coverage_reason_names_a_single_unit_of_the_level_in_the_singular(org, cascade):
    goal = measured(cascade.goal_3, MeasureKind.COVERAGE, "100", unit_level=level(2))
    InitiativeFactory(agreement=agreement_of(org.centre_a), goals=[goal])
    Unit.objects.filter(pk=org.centre_b.pk).update(closed_on=date(YEAR - 1, 12, 31))

    with translation.override("en"):
        assert evaluation_of(goal).reason == (
            "1 of 1 centre is covered (100 %): the target of 100 % is achieved."
        )


def test_coverage_without_a_level_has_no_data(org, cascade):
    goal = measured(cascade.goal_3, MeasureKind.COVERAGE, "100", unit_level=None)

    evaluation = evaluation_of(goal)

    assert evaluation.status == Status.NO_DATA
    assert evaluation.value is None


# Assessed ---------------------------------------------------------------------------------------


def test_the_latest_assessment_of_the_year_decides_an_assessed_goal(org, cascade):
    goal = measured(cascade.goal_2, MeasureKind.ASSESSED)
    with time_machine.travel(datetime(YEAR, 3, 1, 9, tzinfo=UTC)):
        GoalAssessmentFactory(
            goal=goal, status=AssessmentStatus.OFF_TRACK, justification="Nothing has started."
        )
    with time_machine.travel(datetime(YEAR, 6, 1, 9, tzinfo=UTC)):
        GoalAssessmentFactory(
            goal=goal, status=AssessmentStatus.AT_RISK, justification="Two of five are evaluated."
        )
    with time_machine.travel(datetime(YEAR + 1, 2, 1, 9, tzinfo=UTC)):
        GoalAssessmentFactory(
            goal=goal, year=YEAR + 1, status=AssessmentStatus.ACHIEVED, justification="Next year."
        )

    evaluation = evaluation_of(goal)

    assert evaluation.kind == MeasureKind.ASSESSED
    assert evaluation.status == Status.AT_RISK
    assert evaluation.reason == "Two of five are evaluated."
    assert evaluation.value is None
    assert evaluation.forecast is None


@pytest.mark.parametrize(
    ("assessed", "status"),
    [
        (AssessmentStatus.ACHIEVED, Status.ACHIEVED),
        (AssessmentStatus.ON_TRACK, Status.ON_TRACK),
        (AssessmentStatus.AT_RISK, Status.AT_RISK),
        (AssessmentStatus.OFF_TRACK, Status.OFF_TRACK),
    ],
)
def test_an_assessment_sets_the_goals_status(org, cascade, assessed, status):
    goal = measured(cascade.goal_2, MeasureKind.ASSESSED)
    GoalAssessmentFactory(goal=goal, status=assessed)

    assert evaluation_of(goal).status == status


def test_an_assessed_goal_without_an_assessment_this_year_has_no_data(org, cascade):
    goal = measured(cascade.goal_2, MeasureKind.ASSESSED)
    GoalAssessmentFactory(goal=goal, year=YEAR - 1, status=AssessmentStatus.ACHIEVED)

    evaluation = evaluation_of(goal)

    assert evaluation.status == Status.NO_DATA
    with translation.override("en"):
        assert evaluation_of(goal).reason == ("The goal's owner has not assessed it yet this year.")


# Statuses over the year -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("initiatives", "status"),
    [
        (10, Status.ACHIEVED),  # the target itself
        (5, Status.ON_TRACK),  # half the target half-way through the year
        (4, Status.AT_RISK),  # at least 70 % of what is expected by now
        (3, Status.OFF_TRACK),
    ],
)
def test_a_count_is_judged_against_what_is_expected_by_today(org, cascade, initiatives, status):
    goal = measured(cascade.goal_2, MeasureKind.COUNT, "10", counts=CountsWhat.INITIATIVES)
    agreement = agreement_of(org.unit)
    for _ in range(initiatives):
        InitiativeFactory(agreement=agreement, goals=[goal])

    # 2 July is day 182 of 364: half of the year has passed.
    with time_machine.travel(datetime(YEAR, 7, 2, 10, tzinfo=UTC), tick=False):
        evaluation = evaluation_of(goal, today=None)

    assert evaluation.expected == 5.0
    assert evaluation.status == status


def test_coverage_is_judged_against_what_is_expected_by_today(org, cascade):
    goal = measured(cascade.goal_3, MeasureKind.COVERAGE, "100", unit_level=level(2))
    InitiativeFactory(agreement=agreement_of(org.centre_a), goals=[goal])

    with time_machine.travel(datetime(YEAR, 3, 1, 10, tzinfo=UTC), tick=False):
        early = evaluation_of(goal, today=None)
    with time_machine.travel(datetime(YEAR, 10, 1, 10, tzinfo=UTC), tick=False):
        late = evaluation_of(goal, today=None)

    assert early.value == late.value == 50
    assert early.status == Status.ON_TRACK
    assert late.status == Status.OFF_TRACK
