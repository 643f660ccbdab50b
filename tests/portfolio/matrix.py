"""The portfolio's rows of the permission matrix (tests/test_permission_matrix.py) and the part
of its scene they need: kept here so that the matrix module only lists them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from pejling.portfolio import services
from pejling.portfolio.models import BenefitClass, Measure
from pejling.portfolio.services import BenefitInput, ChallengeInput, StepInput, YearInput

EMPLOYEES = "YYYYYNN"  # anyone with a role on a unit
EDIT_CHALLENGE = "YNYNYNN"  # its submitter (the employee), the unit's head, the office
FACILITATORS = "YYYYNNN"  # office, unit heads, leadership-team members
OFFICE = "YNNNNNN"
OVERVIEW = "YYNNNNN"
TEAM = "NYYNNNN"  # the team's members (head chairs it, the executive sits in it)
PLAN_MEETING = "YYYNNNN"  # its members, or the office for it
UPDATE_ASSIGNMENT = "YNYNNNN"  # the owner unit's head (and the office)
PLACE = "YYYNNNN"  # those who update the benefit, or the executive board


def portfolio_scene(users: dict[str, Any], units: dict[str, Any]) -> dict[str, Any]:
    unit_a = units["unit-a1a"]
    item = services.challenge_submit(
        by=users["employee"],
        data=ChallengeInput(title="Wheelchair reports get lost", unit=unit_a),
    )
    step = services.journey_step_add(
        challenge=item,
        by=users["employee"],
        data=StepInput(actor="Care worker", action="Searches for the form", feeling=1),
    )
    team = services.team_save(
        by=users["office"], name="Care team", chair=users["head"], members=[users["executive"]]
    )
    meeting = services.meeting_create(
        team=team, by=users["head"], held_on=date(2026, 2, 1), agenda=[item]
    )
    workshop = services.workshop_record(
        by=users["office"],
        title="Dialogue",
        held_on=date(2026, 1, 20),
        challenges=[ChallengeInput(title="Plans in the rooms", unit=unit_a)],
    )
    assignment = services.assignment_give(
        by=users["office"],
        issued_by="Executive committee",
        title="Investigate night-time supervision",
        unit=unit_a,
        lead=None,
        goals=[],
        due_date=None,
        # A year without an agreement of unit A: the assignment stays out of the matrix's own
        # draft agreement (whose initiatives other rows count).
        given_on=date(2030, 1, 10),
    )
    benefit = services.benefit_create(
        assignment=assignment,
        by=users["office"],
        data=BenefitInput(
            description="Hours freed",
            stakeholder="Staff",
            benefit_class=BenefitClass.FREED_CAPACITY,
            measure=Measure.HOURS,
        ),
        years=[YearInput(year=2026, realised=Decimal(100), realised_source="Study")],
    )
    return {
        "p_challenge": item,
        "p_step": step,
        "p_team": team,
        "p_meeting": meeting,
        "p_workshop": workshop,
        "p_assignment": assignment,
        "p_stage": assignment.stages.get(),
        "p_benefit": benefit,
    }


def portfolio_cases(case: Callable[..., Any]) -> list[Any]:
    """The rows; ``case`` is the matrix's ``Case``."""

    def ch(w: Any) -> dict[str, Any]:
        return {"pk": w.p_challenge.pk}

    def asg(w: Any) -> dict[str, Any]:
        return {"pk": w.p_assignment.pk}

    return [
        case("portfolio:challenge_list", "GET", EMPLOYEES),
        case("portfolio:challenge_list", "GET", EMPLOYEES, query="format=xlsx", note="xlsx"),
        case("portfolio:challenge_create", "GET", EMPLOYEES),
        case("portfolio:challenge_create", "POST", EMPLOYEES, data=lambda w: {}),
        case("portfolio:challenge_detail", "GET", EMPLOYEES, ch),
        case("portfolio:challenge_edit", "GET", EDIT_CHALLENGE, ch),
        case("portfolio:challenge_edit", "POST", EDIT_CHALLENGE, ch, data=lambda w: {}),
        case("portfolio:challenge_support", "POST", EMPLOYEES, ch),
        case("portfolio:challenge_comment", "POST", EMPLOYEES, ch, data=lambda w: {"body": "Yes"}),
        case("portfolio:step_add", "POST", EDIT_CHALLENGE, ch, data=lambda w: {}),
        case(
            "portfolio:step_edit",
            "GET",
            EDIT_CHALLENGE,
            lambda w: {"pk": w.p_challenge.pk, "step_pk": w.p_step.pk},
        ),
        case(
            "portfolio:step_move",
            "POST",
            EDIT_CHALLENGE,
            lambda w: {"pk": w.p_challenge.pk, "step_pk": w.p_step.pk},
            data=lambda w: {"up": "1"},
        ),
        case("portfolio:workshop_list", "GET", EMPLOYEES),
        case("portfolio:workshop_create", "GET", FACILITATORS),
        case("portfolio:workshop_detail", "GET", EMPLOYEES, lambda w: {"pk": w.p_workshop.pk}),
        case("portfolio:team_list", "GET", EMPLOYEES),
        case("portfolio:team_create", "GET", OFFICE),
        case("portfolio:team_detail", "GET", EMPLOYEES, lambda w: {"pk": w.p_team.pk}),
        case(
            "portfolio:team_detail",
            "POST",
            PLAN_MEETING,
            lambda w: {"pk": w.p_team.pk},
            data=lambda w: {},
            note="plan a meeting",
        ),
        case("portfolio:team_edit", "GET", OFFICE, lambda w: {"pk": w.p_team.pk}),
        case("portfolio:meeting_detail", "GET", EMPLOYEES, lambda w: {"pk": w.p_meeting.pk}),
        case(
            "portfolio:meeting_detail",
            "POST",
            TEAM,
            lambda w: {"pk": w.p_meeting.pk},
            data=lambda w: {},
            note="decide",
        ),
        case("portfolio:assignment_list", "GET", EMPLOYEES),
        case("portfolio:assignment_give", "GET", OVERVIEW),
        case("portfolio:assignment_detail", "GET", EMPLOYEES, asg),
        case("portfolio:assignment_edit", "GET", UPDATE_ASSIGNMENT, asg),
        case("portfolio:assignment_advance", "POST", UPDATE_ASSIGNMENT, asg, data=lambda w: {}),
        case("portfolio:assignment_stop", "POST", UPDATE_ASSIGNMENT, asg, data=lambda w: {}),
        case("portfolio:assignment_link", "POST", UPDATE_ASSIGNMENT, asg),
        case(
            "portfolio:stage_edit",
            "GET",
            UPDATE_ASSIGNMENT,
            lambda w: {"pk": w.p_assignment.pk, "stage_pk": w.p_stage.pk},
        ),
        case("portfolio:benefit_create", "GET", UPDATE_ASSIGNMENT, asg),
        case(
            "portfolio:benefit_edit",
            "GET",
            UPDATE_ASSIGNMENT,
            lambda w: {"pk": w.p_assignment.pk, "benefit_pk": w.p_benefit.pk},
        ),
        case("portfolio:benefit_overview", "GET", EMPLOYEES),
        case("portfolio:ledger", "GET", EMPLOYEES),
        case(
            "portfolio:capacity_place",
            "GET",
            PLACE,
            lambda w: {"benefit_pk": w.p_benefit.pk},
        ),
        case("portfolio:unit_panel", "GET", EMPLOYEES, lambda w: {"code": "unit-a1a"}),
        case("portfolio:dashboard_panel", "GET", OVERVIEW),
    ]


def portfolio_api_cases(api: Callable[..., Any]) -> list[Any]:
    """The API rows; ``api`` is the matrix's ``_api``."""

    def ch(w: Any) -> dict[str, Any]:
        return {"challenge_id": w.p_challenge.pk}

    def asg(w: Any) -> dict[str, Any]:
        return {"assignment_id": w.p_assignment.pk}

    return [
        api("GET", "/portfolio/challenges", "list_challenges", EMPLOYEES),
        api(
            "POST",
            "/portfolio/challenges",
            "create_challenge",
            EMPLOYEES,
            data=lambda w: {"title": "Via the API", "unit": "unit-a1a"},
        ),
        api("GET", "/portfolio/challenges/{challenge_id}", "get_challenge", EMPLOYEES, ch),
        api(
            "POST",
            "/portfolio/challenges/{challenge_id}/support",
            "support_challenge",
            EMPLOYEES,
            ch,
        ),
        api(
            "POST",
            "/portfolio/challenges/{challenge_id}/journey",
            "add_journey_step",
            EDIT_CHALLENGE,
            ch,
            data=lambda w: {"actor": "Rehab", "action": "Calls back", "feeling": 2},
        ),
        api("GET", "/portfolio/teams", "list_teams", EMPLOYEES),
        api(
            "POST",
            "/portfolio/teams/{team_id}/decisions",
            "decide",
            TEAM,
            lambda w: {"team_id": w.p_team.pk},
            data=lambda w: {
                "decided_on": "2026-02-01",
                "decisions": [{"challenge": w.p_challenge.pk, "kind": "reject", "rationale": "No"}],
            },
        ),
        api("GET", "/portfolio/assignments", "list_assignments", EMPLOYEES),
        api(
            "POST",
            "/portfolio/assignments",
            "give_assignment",
            OVERVIEW,
            data=lambda w: {
                "issued_by": "Executive committee",
                "title": "Report on it",
                "unit": "unit-a1a",
                "given_on": "2026-03-01",
            },
        ),
        api("GET", "/portfolio/assignments/{assignment_id}", "get_assignment", EMPLOYEES, asg),
        api(
            "POST",
            "/portfolio/assignments/{assignment_id}/advance",
            "advance_assignment",
            UPDATE_ASSIGNMENT,
            asg,
            data=lambda w: {"to": "develop", "started_on": "2030-02-01"},
        ),
        api(
            "POST",
            "/portfolio/assignments/{assignment_id}/benefits",
            "create_benefit",
            UPDATE_ASSIGNMENT,
            asg,
            data=lambda w: {
                "description": "Better",
                "stakeholder": "Residents",
                "benefit_class": "quality",
                "measure": "other",
                "measure_label": "points",
            },
        ),
        api(
            "POST",
            "/portfolio/benefits/{benefit_id}/placements",
            "place_capacity",
            PLACE,
            lambda w: {"benefit_id": w.p_benefit.pk},
            data=lambda w: {
                "year": 2026,
                "placement": "returned",
                "amount": "10",
                "decided_on": "2026-06-01",
                "decided_by": "Board",
            },
        ),
        api("GET", "/portfolio/ledger", "get_ledger", EMPLOYEES),
    ]
