"""The portfolio's pages, each step through the web: what the forms post and what shows."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from pejling.portfolio import services
from pejling.portfolio.models import (
    Assignment,
    Challenge,
    ChallengeState,
    LedgerEntry,
    Stage,
    Workshop,
)
from tests.conftest import Org
from tests.factories import YEAR
from tests.portfolio.conftest import assign, challenge, freed_hours, with_journey

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_page_renders_for_an_employee(org: Org, team, cascade) -> None:
    item = with_journey(org, challenge(org, goals=[cascade.goal_1]))
    assignment = assign(org, team, item, cascade)
    benefit = freed_hours(org, assignment)
    meeting = services.meeting_create(
        team=team, by=org.head, held_on=date(YEAR, 3, 1), agenda=[challenge(org, title="Next")]
    )
    client = client_for(org.employee)
    for url in (
        reverse("portfolio:challenge_list"),
        reverse("portfolio:challenge_list") + f"?unit={org.unit.code}&goal={cascade.theme_1.pk}",
        reverse("portfolio:challenge_detail", args=[item.pk]),
        reverse("portfolio:workshop_list"),
        reverse("portfolio:team_list"),
        reverse("portfolio:team_detail", args=[team.pk]),
        reverse("portfolio:meeting_detail", args=[meeting.pk]),
        reverse("portfolio:assignment_list"),
        reverse("portfolio:assignment_list") + f"?goal={cascade.theme_1.pk}&stage=explore",
        reverse("portfolio:assignment_detail", args=[assignment.pk]),
        reverse("portfolio:benefit_overview"),
        reverse("portfolio:ledger"),
        reverse("portfolio:unit_panel", args=[org.unit.code]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("portfolio:challenge_detail", args=[item.pk])).content.decode()
    assert "Searches for the right form" in page and "Feels 1 of 5" in page
    assert (
        benefit.description
        in client.get(reverse("portfolio:assignment_detail", args=[assignment.pk])).content.decode()
    )


def test_an_employee_submits_supports_and_comments(org: Org) -> None:
    client = client_for(org.employee)
    response = client.post(
        reverse("portfolio:challenge_create"),
        {"kind": "idea", "title": "Care plans on a tablet", "unit": org.unit.pk, "links": ""},
    )
    item = Challenge.objects.get(title="Care plans on a tablet")
    assert response.status_code == 302
    client.post(reverse("portfolio:challenge_support", args=[item.pk]))
    client.post(reverse("portfolio:challenge_support", args=[item.pk]))
    assert item.supports.count() == 1
    client.post(reverse("portfolio:challenge_comment", args=[item.pk]), {"body": "Yes please"})
    assert item.comments.get().body == "Yes please"
    bad = client.post(
        reverse("portfolio:challenge_create"),
        {"kind": "idea", "title": "x", "unit": org.unit.pk, "links": "javascript:alert(1)"},
    )
    assert bad.status_code == 200 and "Not a web address" in bad.content.decode()


def test_journey_steps_are_added_and_reordered_without_javascript(org: Org) -> None:
    item = challenge(org)
    client = client_for(org.employee)
    for action in ("First", "Second"):
        client.post(
            reverse("portfolio:step_add", args=[item.pk]),
            {"actor": "Care worker", "action": action, "feeling": "2"},
        )
    second = item.journey_steps.get(action="Second")
    client.post(reverse("portfolio:step_move", args=[item.pk, second.pk]), {"up": "1"})
    assert list(item.journey_steps.values_list("action", flat=True)) == ["Second", "First"]
    bad = client.post(
        reverse("portfolio:step_add", args=[item.pk]),
        {"actor": "x", "action": "y", "feeling": "9"},
    )
    assert bad.status_code == 200 and item.journey_steps.count() == 2


def test_a_facilitator_records_a_workshop_with_several_challenges(org: Org) -> None:
    client = client_for(org.head)
    data = {
        "title": "Home care kick-off",
        "held_on": f"{YEAR}-01-20",
        "place": "Town hall",
        "units": [org.unit.pk],
        "challenges-TOTAL_FORMS": "3",
        "challenges-INITIAL_FORMS": "0",
        "challenges-0-title": "Next nursing home",
        "challenges-0-kind": "idea",
        "challenges-0-unit": org.unit.pk,
        "challenges-1-title": "Wheelchair reports",
        "challenges-1-kind": "challenge",
        "challenges-1-unit": org.unit.pk,
        "challenges-2-kind": "challenge",
    }
    response = client.post(reverse("portfolio:workshop_create"), data)
    assert response.status_code == 302
    workshop = Workshop.objects.get()
    assert workshop.challenges.count() == 2
    assert client_for(org.employee).get(reverse("portfolio:workshop_create")).status_code == 403


def test_a_team_decides_in_one_pass_and_a_late_second_sees_the_first(org: Org, team) -> None:
    one, two = challenge(org, title="One"), challenge(org, title="Two")
    meeting = services.meeting_create(
        team=team, by=org.head, held_on=date(YEAR, 3, 1), agenda=[one, two]
    )
    one.refresh_from_db()
    two.refresh_from_db()
    page = client_for(org.head).get(reverse("portfolio:meeting_detail", args=[meeting.pk]))
    assert "Record the decisions" in page.content.decode()
    posted = {
        f"c{one.pk}-version": one.version,
        f"c{one.pk}-kind": "assign",
        f"c{one.pk}-rationale": "Do it",
        f"c{one.pk}-unit": org.unit.pk,
        f"c{one.pk}-lead": org.head.pk,
        f"c{two.pk}-version": two.version,
        f"c{two.pk}-kind": "park",
        f"c{two.pk}-rationale": "Later",
        f"c{two.pk}-parked_until": f"{YEAR}-09-01",
    }
    response = client_for(org.head).post(
        reverse("portfolio:meeting_detail", args=[meeting.pk]), posted
    )
    assert response.status_code == 302
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.state, two.state) == (ChallengeState.ASSIGNED, ChallengeState.PARKED)
    # Another member had the page open and decides on "Two" with the old version.
    late = {
        f"c{two.pk}-version": two.version - 1,
        f"c{two.pk}-kind": "reject",
        f"c{two.pk}-rationale": "No",
    }
    response = client_for(org.parent_head).post(
        reverse("portfolio:meeting_detail", args=[meeting.pk]), late
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "in the meantime" in page and "Later" in page
    two.refresh_from_db()
    assert two.state == ChallengeState.PARKED and two.decisions.count() == 1
    # Not a member: refused.
    assert (
        client_for(org.employee)
        .post(reverse("portfolio:meeting_detail", args=[meeting.pk]), late)
        .status_code
        == 403
    )


def test_an_assignment_moves_through_test_to_operation_on_its_page(org: Org, team) -> None:
    assignment = assign(org, team, challenge(org))
    client = client_for(org.head)
    url = reverse("portfolio:assignment_advance", args=[assignment.pk])
    client.post(
        url,
        {
            "version": assignment.version,
            "to": "test",
            "started_on": f"{YEAR}-03-01",
            "tested_what": "One-click report",
            "tested_where": "Björkgården",
            "learnt": "Works",
        },
    )
    assignment.refresh_from_db()
    assert assignment.stage == Stage.TEST
    response = client.post(
        url, {"version": assignment.version - 1, "to": "implement", "started_on": f"{YEAR}-04-01"}
    )
    assert Assignment.objects.get(pk=assignment.pk).stage == Stage.TEST
    for stage in ("implement", "in_operation"):
        assignment.refresh_from_db()
        response = client.post(
            url, {"version": assignment.version, "to": stage, "started_on": f"{YEAR}-05-01"}
        )
        assert response.status_code == 302
    assert Assignment.objects.get(pk=assignment.pk).stage == Stage.IN_OPERATION
    page = client.get(reverse("portfolio:assignment_detail", args=[assignment.pk])).content
    assert "Björkgården" in page.decode()
    assert client_for(org.employee).post(url, {}).status_code == 403


def test_a_benefit_is_added_and_its_capacity_reinvested(org: Org, team) -> None:
    assignment = assign(org, team, challenge(org))
    client = client_for(org.head)
    response = client.post(
        reverse("portfolio:benefit_create", args=[assignment.pk]),
        {
            "description": "Fewer hours on reports",
            "stakeholder": "Care workers",
            "benefit_class": "freed_capacity",
            "measure": "hours",
            "owner": org.head.pk,
            "years-TOTAL_FORMS": "2",
            "years-INITIAL_FORMS": "0",
            "years-0-year": YEAR,
            "years-0-expected": "1000",
            "years-0-pessimistic": "600",
            "years-0-optimistic": "1200",
            "years-0-realised": "700",
            "years-0-realised_source": "Time study",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    benefit = assignment.benefits.get()
    response = client.post(
        reverse("portfolio:capacity_place", args=[benefit.pk]),
        {
            "year": YEAR,
            "placement": "reinvested",
            "amount": "400",
            "unit": org.sibling.pk,
            "purpose": "More outdoor walks",
            "decided_on": f"{YEAR}-11-01",
            "decided_by": "Care leadership team",
        },
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    assert entry.unit == org.sibling and entry.amount == Decimal("400")
    page = client.get(reverse("portfolio:ledger")).content.decode()
    assert "More outdoor walks" in page and "<svg" in page
    too_much = client.post(
        reverse("portfolio:capacity_place", args=[benefit.pk]),
        {
            "year": YEAR,
            "placement": "returned",
            "amount": "400",
            "decided_on": f"{YEAR}-11-01",
            "decided_by": "Board",
        },
    )
    assert too_much.status_code == 200 and LedgerEntry.objects.count() == 1


def test_lists_download_as_excel_with_real_numbers_and_dates(org: Org, team) -> None:
    assignment = assign(org, team, challenge(org))
    freed_hours(org, assignment)
    client = client_for(org.employee)
    for name in ("challenge_list", "assignment_list", "benefit_overview", "ledger"):
        response = client.get(reverse(f"portfolio:{name}") + "?format=xlsx")
        assert response["Content-Type"].startswith("application/vnd.openxml"), name
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet.freeze_panes == "A2"
        assert sheet.max_row >= 2, name
    sheet = load_workbook(
        io.BytesIO(client.get(reverse("portfolio:ledger") + "?format=xlsx").content)
    ).active
    assert sheet.cell(row=2, column=1).value == YEAR
    assert sheet.cell(row=2, column=4).value == 800
    sheet = load_workbook(
        io.BytesIO(client.get(reverse("portfolio:challenge_list") + "?format=xlsx").content)
    ).active
    assert sheet.cell(row=2, column=6).is_date


def test_the_dashboard_fragment_is_for_the_overview_only(org: Org, team) -> None:
    assign(org, team, challenge(org))
    url = reverse("portfolio:dashboard_panel")
    assert client_for(org.executive).get(url, HTTP_HX_REQUEST="true").status_code == 200
    assert client_for(org.employee).get(url).status_code == 403


def test_lists_take_a_fixed_number_of_queries(
    org: Org, team, cascade, django_assert_max_num_queries
) -> None:
    client = client_for(org.employee)
    for n in range(3):
        assign(org, team, challenge(org, title=f"C{n}", goals=[cascade.goal_1]), cascade)
    client.get(reverse("portfolio:assignment_list"))  # warm caches
    cache.clear()  # counted as right after a write: nothing from the shared cache
    with django_assert_max_num_queries(40) as small:
        client.get(reverse("portfolio:assignment_list"))
        client.get(reverse("portfolio:challenge_list"))
    for n in range(6):
        assign(org, team, challenge(org, title=f"D{n}", goals=[cascade.goal_1]), cascade)
    cache.clear()
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("portfolio:assignment_list"))
        client.get(reverse("portfolio:challenge_list"))


def test_an_assignment_is_stopped_with_a_reason(org: Org, team) -> None:
    assignment = assign(org, team, challenge(org))
    client = client_for(org.head)
    url = reverse("portfolio:assignment_stop", args=[assignment.pk])
    client.post(url, {"stop-version": assignment.version, "stop-on": f"{YEAR}-03-01"})
    assert Assignment.objects.get(pk=assignment.pk).stage == Stage.EXPLORE  # no reason
    client.post(
        url,
        {
            "stop-version": assignment.version,
            "stop-reason": "The supplier solves it",
            "stop-on": f"{YEAR}-03-01",
        },
    )
    stopped = Assignment.objects.get(pk=assignment.pk)
    assert stopped.stage == Stage.STOPPED and stopped.stopped_reason == "The supplier solves it"
