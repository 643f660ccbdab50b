"""The portfolio through /api/v1: the same services and permission home as the pages."""

from __future__ import annotations

from typing import Any

import pytest

from pejling.portfolio.models import ChallengeState, Stage
from tests.conftest import Org
from tests.factories import YEAR
from tests.portfolio.conftest import assign, challenge, freed_hours, with_journey
from tests.portfolio.conftest import team as team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english(settings: Any) -> Any:
    """The messages are checked in the English source texts."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def test_an_employee_submits_a_challenge_with_a_journey(api, org: Org) -> None:
    client = api(org.employee)
    response = client.post(
        "/portfolio/challenges",
        {"title": "Reports get lost", "unit": org.unit.code, "links": ["https://example.org/x"]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    step = client.post(
        f"/portfolio/challenges/{body['id']}/journey",
        {"actor": "Care worker", "action": "Looks for the form", "feeling": 1},
    )
    assert step.status_code == 201
    assert step.json()["journey"][0]["feeling"] == 1
    bad = client.post(
        f"/portfolio/challenges/{body['id']}/journey",
        {"actor": "x", "action": "y", "feeling": 7},
    )
    assert bad.status_code == 422
    assert (
        api(org.outsider)
        .post("/portfolio/challenges", {"title": "x", "unit": org.unit.code})
        .status_code
        == 403
    )


def test_lists_page_with_cursors(api, org: Org) -> None:
    for n in range(5):
        challenge(org, title=f"C{n}")
    items = api(org.employee).walk("/portfolio/challenges", limit=2)
    assert [i["title"] for i in items] == [f"C{n}" for n in range(5)]


def test_a_team_decides_in_one_pass_and_a_late_decision_gets_409(api, org: Org, team) -> None:
    one, two = challenge(org, title="One"), challenge(org, title="Two")
    body = {
        "decided_on": f"{YEAR}-02-01",
        "decisions": [
            {
                "challenge": one.pk,
                "kind": "assign",
                "rationale": "Go",
                "unit": org.unit.code,
                "lead": "head",
                "edit_version": one.version,
            },
            {"challenge": two.pk, "kind": "reject", "rationale": "No"},
        ],
    }
    response = api(org.head).post(f"/portfolio/teams/{team.pk}/decisions", body)
    assert response.status_code == 201, response.content
    states = [c["state"] for c in response.json()["challenges"]]
    assert states == [ChallengeState.ASSIGNED, ChallengeState.REJECTED]
    late = {
        "decided_on": f"{YEAR}-02-02",
        "decisions": [
            {"challenge": one.pk, "kind": "reject", "rationale": "No", "edit_version": one.version}
        ],
    }
    response = api(org.parent_head).post(f"/portfolio/teams/{team.pk}/decisions", late)
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert api(org.employee).post(f"/portfolio/teams/{team.pk}/decisions", late).status_code == 403


def test_an_assignment_advances_and_a_stale_edit_version_gets_409(api, org: Org, team) -> None:
    assignment = assign(org, team, with_journey(org, challenge(org)))
    client = api(org.head)
    url = f"/portfolio/assignments/{assignment.pk}/advance"
    current = client.get(f"/portfolio/assignments/{assignment.pk}").json()["edit_version"]
    ok = client.post(
        url,
        {
            "to": "test",
            "started_on": f"{YEAR}-03-01",
            "tested_what": "A one-click form",
            "edit_version": current,
        },
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["stage"] == Stage.TEST
    stale = client.post(
        url, {"to": "implement", "started_on": f"{YEAR}-04-01", "edit_version": current}
    )
    assert stale.status_code == 409 and stale.json()["code"] == "edit_conflict"
    backwards = client.post(url, {"to": "explore", "started_on": f"{YEAR}-04-01"})
    assert backwards.status_code == 400


def test_benefits_and_the_ledger(api, org: Org, team) -> None:
    assignment = assign(org, team, challenge(org))
    benefit = freed_hours(org, assignment, "800")
    client = api(org.head)
    placed = client.post(
        f"/portfolio/benefits/{benefit.pk}/placements",
        {
            "year": YEAR,
            "placement": "reinvested",
            "amount": "500",
            "unit": org.sibling.code,
            "purpose": "Outdoor walks",
            "decided_on": f"{YEAR}-10-01",
            "decided_by": "Team",
        },
    )
    assert placed.status_code == 201, placed.content
    too_much = client.post(
        f"/portfolio/benefits/{benefit.pk}/placements",
        {
            "year": YEAR,
            "placement": "returned",
            "amount": "301",
            "decided_on": f"{YEAR}-10-01",
            "decided_by": "Team",
        },
    )
    assert too_much.status_code == 400 and "amount" in too_much.json()["fields"]
    ledger = api(org.employee).get("/portfolio/ledger", within=org.root.code).json()["items"]
    assert [(r["freed"], r["reinvested"], r["unplaced"]) for r in ledger] == [
        ("800.00", "500.00", "300.00")
    ]
    detail = api(org.employee).get(f"/portfolio/assignments/{assignment.pk}").json()
    assert detail["benefits"][0]["years"][0]["realised"] == "800.00"
