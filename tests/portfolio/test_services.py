"""The portfolio's services, step by step: challenge → journey → decision → assignment →
stages → benefits → ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pejling.agreements.models import AgreementState, InitiativeStatus
from pejling.agreements.services import initiative_update
from pejling.core.history import ConcurrentEditError
from pejling.portfolio import services
from pejling.portfolio.models import (
    Assignment,
    ChallengeState,
    DecisionKind,
    Placement,
    Stage,
    Support,
)
from pejling.portfolio.selectors import challenge_funnel, unplaced_amount
from pejling.portfolio.services import (
    ChallengeInput,
    DecisionConflict,
    DecisionInput,
    PlacementInput,
    StageInput,
    StepInput,
    YearInput,
)
from tests.conftest import Cascade, Org
from tests.factories import YEAR, AgreementFactory
from tests.portfolio.conftest import assign, challenge, freed_hours, with_journey

pytestmark = pytest.mark.django_db


def test_every_employee_submits_but_an_outsider_does_not(org: Org) -> None:
    item = challenge(org)
    assert item.state == ChallengeState.SUBMITTED and item.submitted_by == org.employee
    with pytest.raises(PermissionDenied):
        challenge(org, by=org.outsider)


def test_links_must_be_web_addresses(org: Org) -> None:
    with pytest.raises(ValidationError) as error:
        challenge(org, links="https://example.org/a\nfile:///etc/passwd")
    assert "file:///etc/passwd" in str(error.value)


def test_one_support_per_person(org: Org) -> None:
    item = challenge(org)
    assert services.challenge_support(challenge=item, by=org.head) is True
    assert services.challenge_support(challenge=item, by=org.head) is False
    assert Support.objects.filter(challenge=item).count() == 1
    services.challenge_unsupport(challenge=item, by=org.head)
    assert not Support.objects.filter(challenge=item).exists()


def test_a_workshop_records_several_challenges_or_none(org: Org) -> None:
    workshop = services.workshop_record(
        by=org.head,
        title="Home care dialogue",
        held_on=date(YEAR, 1, 20),
        units=[org.unit, org.sibling],
        challenges=[
            ChallengeInput(title="Care plans in the rooms", unit=org.unit),
            ChallengeInput(title="Wheelchair reports", unit=org.unit),
        ],
    )
    assert workshop.challenges.count() == 2
    with pytest.raises(ValidationError):
        services.workshop_record(
            by=org.head,
            title="Half",
            held_on=date(YEAR, 1, 21),
            challenges=[
                ChallengeInput(title="Fine", unit=org.unit),
                ChallengeInput(title=" ", unit=org.unit),
            ],
        )
    assert not workshop.__class__.objects.filter(title="Half").exists()
    with pytest.raises(PermissionDenied):
        services.workshop_record(
            by=org.employee,
            title="Mine",
            held_on=date(YEAR, 1, 21),
            challenges=[ChallengeInput(title="x", unit=org.unit)],
        )


def test_journey_steps_are_ordered_and_move_without_gaps(org: Org) -> None:
    item = with_journey(org, challenge(org))
    steps = list(item.journey_steps.order_by("position"))
    services.journey_step_move(step=steps[2], by=org.employee, up=True)
    assert [s.action[:8] for s in item.journey_steps.order_by("position")] == [
        "Notices ",
        "Receives",
        "Searches",
    ]
    services.journey_step_delete(step=steps[0], by=org.employee)
    assert list(item.journey_steps.values_list("position", flat=True)) == [1, 2]
    with pytest.raises(ValidationError):
        services.journey_step_add(
            challenge=item, by=org.employee, data=StepInput(actor="A", action="B", feeling=6)
        )
    with pytest.raises(PermissionDenied):
        services.journey_step_add(
            challenge=item, by=org.colleague, data=StepInput(actor="A", action="B", feeling=3)
        )


def test_a_team_decides_several_challenges_in_one_pass(org: Org, team, cascade: Cascade) -> None:
    AgreementFactory(unit=org.unit, year=YEAR)
    first, second, third = (challenge(org, title=t) for t in ("One", "Two", "Three"))
    meeting = services.meeting_create(
        team=team, by=org.head, held_on=date(YEAR, 2, 1), agenda=[first, second, third]
    )
    first.refresh_from_db()
    assert first.state == ChallengeState.ON_AGENDA
    decisions = services.decide(
        team=team,
        by=org.parent_head,
        meeting=meeting,
        decided_on=meeting.held_on,
        decisions=[
            DecisionInput(
                challenge=first,
                kind=DecisionKind.ASSIGN,
                rationale="Worth it",
                unit=org.unit,
                lead=org.head,
                goals=[cascade.goal_1],
                expected_version=first.version,
            ),
            DecisionInput(
                challenge=second,
                kind=DecisionKind.PARK,
                rationale="After the new system",
                parked_until=date(YEAR, 9, 1),
            ),
            DecisionInput(
                challenge=third, kind=DecisionKind.MERGE, rationale="Same", merged_into=first
            ),
        ],
    )
    assert len(decisions) == 3
    states = {c.title: c.state for c in (first, second, third)}
    assert states == {
        "One": ChallengeState.ASSIGNED,
        "Two": ChallengeState.PARKED,
        "Three": ChallengeState.MERGED,
    }
    assignment = Assignment.objects.get(decision__challenge=first)
    assert assignment.stage == Stage.EXPLORE and assignment.lead == org.head
    # The parent head may write the unit's draft agreement: the assignment joins it.
    assert assignment.initiative is not None
    assert assignment.initiative.agreement.unit == org.unit
    assert list(assignment.initiative.goals.all()) == [cascade.goal_1]


def test_a_field_problem_saves_nothing(org: Org, team) -> None:
    first, second = challenge(org, title="One"), challenge(org, title="Two")
    with pytest.raises(ValidationError) as error:
        services.decide(
            team=team,
            by=org.head,
            decided_on=date(YEAR, 2, 1),
            decisions=[
                DecisionInput(challenge=first, kind=DecisionKind.REJECT, rationale="No"),
                DecisionInput(challenge=second, kind=DecisionKind.ASSIGN, rationale="Yes"),
            ],
        )
    assert f"{second.pk}-unit" in error.value.message_dict
    first.refresh_from_db()
    assert first.state == ChallengeState.SUBMITTED


def test_only_team_members_decide(org: Org, team) -> None:
    with pytest.raises(PermissionDenied):
        services.decide(
            team=team,
            by=org.office,
            decided_on=date(YEAR, 2, 1),
            decisions=[DecisionInput(challenge=challenge(org), kind="reject", rationale="x")],
        )


def test_the_second_decider_sees_the_first_decision(org: Org, team) -> None:
    item = challenge(org)
    loaded = item.version
    services.decide(
        team=team,
        by=org.head,
        decided_on=date(YEAR, 2, 1),
        decisions=[
            DecisionInput(
                challenge=item, kind=DecisionKind.REJECT, rationale="No", expected_version=loaded
            )
        ],
    )
    stale = type(item).objects.get(pk=item.pk)
    stale.version = loaded
    with pytest.raises(DecisionConflict) as error:
        services.decide(
            team=team,
            by=org.parent_head,
            decided_on=date(YEAR, 2, 1),
            decisions=[
                DecisionInput(
                    challenge=stale,
                    kind=DecisionKind.PARK,
                    rationale="Later",
                    parked_until=date(YEAR, 6, 1),
                    expected_version=loaded,
                )
            ],
        )
    assert error.value.decision is not None and error.value.decision.kind == DecisionKind.REJECT
    assert "Hanna Head" in error.value.messages[0]
    assert item.decisions.count() == 1


def test_stages_move_forward_in_date_order(org: Org, team) -> None:
    assignment = assign(org, team, challenge(org))
    with pytest.raises(ValidationError) as error:
        services.assignment_advance(
            assignment=assignment,
            by=org.head,
            to=Stage.DEVELOP,
            data=StageInput(started_on=date(YEAR, 3, 1)),
            previous_ended_on=date(YEAR, 3, 10),
            expected_version=assignment.version,
        )
    assert "started_on" in error.value.message_dict
    assignment = Assignment.objects.get(pk=assignment.pk)  # a refused save changes nothing
    assert assignment.stage == Stage.EXPLORE
    services.assignment_advance(
        assignment=assignment,
        by=org.head,
        to=Stage.TEST,
        data=StageInput(
            started_on=date(YEAR, 4, 1),
            tested_what="A one-click report",
            tested_where="Björkgården",
            learnt="Half the time",
        ),
        expected_version=assignment.version,
    )
    with pytest.raises(ValidationError):
        services.assignment_advance(
            assignment=assignment,
            by=org.head,
            to=Stage.DEVELOP,
            data=StageInput(started_on=date(YEAR, 5, 1)),
            expected_version=assignment.version,
        )
    assignment = Assignment.objects.get(pk=assignment.pk)
    stale = assignment.version - 1
    with pytest.raises(ConcurrentEditError):
        services.assignment_advance(
            assignment=Assignment.objects.get(pk=assignment.pk),
            by=org.head,
            to=Stage.IMPLEMENT,
            data=StageInput(started_on=date(YEAR, 5, 1)),
            expected_version=stale,
        )
    services.assignment_advance(
        assignment=assignment,
        by=org.head,
        to=Stage.IMPLEMENT,
        data=StageInput(started_on=date(YEAR, 5, 1)),
        expected_version=assignment.version,
    )
    records = list(assignment.stages.order_by("started_on"))
    assert [r.stage for r in records] == [Stage.EXPLORE, Stage.TEST, Stage.IMPLEMENT]
    assert records[1].ended_on == date(YEAR, 5, 1) and records[1].learnt == "Half the time"
    assert assignment.initiative is not None
    assignment.initiative.refresh_from_db()
    assert assignment.initiative.status == InitiativeStatus.STARTED
    with pytest.raises(PermissionDenied):
        services.assignment_stop(
            assignment=assignment,
            by=org.employee,
            reason="x",
            on=date(YEAR, 6, 1),
            expected_version=None,
        )


def test_the_initiative_is_the_one_copy_of_title_and_goals(org: Org, team, cascade) -> None:
    assignment = assign(org, team, challenge(org), cascade)
    initiative = assignment.initiative
    assert initiative is not None
    initiative_update(
        initiative=initiative, by=org.head, title="Renamed in the agreement", goals=[cascade.goal_2]
    )
    assignment = Assignment.objects.get(pk=assignment.pk)
    assert assignment.shown_title == "Renamed in the agreement"
    assert assignment.shown_goals() == [cascade.goal_2]
    services.assignment_update(
        assignment=assignment,
        by=org.head,
        title="Renamed in the portfolio",
        description="",
        lead=org.head,
        goals=[cascade.goal_1],
        due_date=None,
        expected_version=assignment.version,
    )
    initiative.refresh_from_db()
    assert initiative.title == "Renamed in the portfolio"
    assert list(initiative.goals.all()) == [cascade.goal_1]


def test_a_published_agreement_is_not_changed_behind_its_back(org: Org, team) -> None:
    AgreementFactory(unit=org.unit, year=YEAR, state=AgreementState.PUBLISHED)
    assignment = assign(org, team, challenge(org))
    assert assignment.initiative is None
    blocker = services.link_blocker(assignment, org.head)
    assert blocker is not None and "revision" in blocker
    with pytest.raises(ValidationError):
        services.assignment_link(assignment=assignment, by=org.head)


def test_top_down_assignments_come_from_the_board(org: Org) -> None:
    assignment = services.assignment_give(
        by=org.executive,
        issued_by="Kommunstyrelsen",
        title="Investigate night-time digital supervision",
        unit=org.unit,
        lead=org.head,
        goals=[],
        due_date=date(YEAR, 4, 30),
        given_on=date(YEAR, 1, 15),
    )
    assert assignment.origin == "top_down" and assignment.decision is None
    with pytest.raises(PermissionDenied):
        services.assignment_give(
            by=org.head,
            issued_by="Me",
            title="x",
            unit=org.unit,
            lead=None,
            goals=[],
            due_date=None,
            given_on=date(YEAR, 1, 15),
        )


def test_freed_capacity_is_placed_but_never_twice(org: Org, team) -> None:
    assignment = assign(org, team, challenge(org))
    benefit = freed_hours(org, assignment, "800")
    place = PlacementInput(
        year=YEAR,
        placement=Placement.REINVESTED,
        amount=Decimal("500"),
        unit=org.sibling,
        purpose="More time with residents",
        decided_on=date(YEAR, 10, 1),
        decided_by="Care leadership team",
    )
    services.capacity_place(benefit=benefit, by=org.head, data=place)
    assert unplaced_amount(benefit=benefit, year=YEAR) == Decimal("300")
    with pytest.raises(ValidationError) as error:
        services.capacity_place(benefit=benefit, by=org.head, data=place)
    assert "300" in str(error.value)
    with pytest.raises(ValidationError):
        services.benefit_set_year(
            benefit=benefit,
            by=org.head,
            data=YearInput(year=YEAR, realised=Decimal("400"), realised_source="x"),
        )
    with pytest.raises(PermissionDenied):
        services.capacity_place(benefit=benefit, by=org.employee, data=place)


def test_the_funnel_counts_how_far_challenges_got(org: Org, team) -> None:
    assign(org, team, challenge(org, title="A"))
    challenge(org, title="B")
    funnel = challenge_funnel()
    assert [(s.key, s.count) for s in funnel.steps][:3] == [
        ("submitted", 2),
        ("considered", 1),
        ("assigned", 1),
    ]
