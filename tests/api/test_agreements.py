"""Annual agreements, initiatives and the workflow over the API; drafts never leak."""

from __future__ import annotations

from typing import Any

from pejling.agreements.models import Agreement, AgreementState, Initiative
from tests.api.helpers import assert_error
from tests.factories import YEAR, AgreementFactory, AgreementRuleFactory, InitiativeFactory

URL = f"/agreements/unit-a1a/{YEAR}"


def _published(org: Any, cascade: Any) -> Any:
    agreement = AgreementFactory(unit=org.sibling, year=YEAR, state=AgreementState.PUBLISHED)
    InitiativeFactory(agreement=agreement, title="Open house", goals=[cascade.goal_2])
    return agreement


def test_a_draft_is_listed_for_those_who_may_read_it_and_for_nobody_else(
    api: Any, org: Any, agreement: Any, cascade: Any
) -> None:
    _published(org, cascade)

    def units(user: Any) -> set[str]:
        return {a["unit"] for a in api(user).walk("/agreements", year=YEAR)}

    assert units(org.head) == {"unit-a1a", "unit-a1b"}
    assert units(org.parent_head) == {"unit-a1a", "unit-a1b"}
    assert units(org.office) == {"unit-a1a", "unit-a1b"}
    assert units(org.employee) == {"unit-a1b"}
    assert units(org.colleague) == {"unit-a1b"}
    assert units(org.outsider) == {"unit-a1b"}


def test_a_draft_in_detail_is_a_404_for_those_who_may_not_read_it(
    api: Any, org: Any, agreement: Any
) -> None:
    for user in (org.employee, org.colleague, org.outsider):
        assert_error(api(user).get(URL), 404, "not_found")
    assert api(org.head).get(URL).status_code == 200


def test_an_agreement_in_detail_has_its_initiatives_and_goal_links(
    api: Any, org: Any, agreement: Any, cascade: Any
) -> None:
    body = api(org.head).get(URL).json()
    assert (body["unit"], body["year"], body["state"], body["live"]) == (
        "unit-a1a",
        YEAR,
        "draft",
        True,
    )
    [initiative] = body["initiatives"]
    assert initiative["title"] == "Early health talks"
    assert initiative["goals"] == [
        {"id": cascade.goal_1.pk, "code": "T1.1", "title": "Sick leave falls", "strategy": "group"}
    ]


def test_agreements_are_filtered_by_state_and_subtree(
    api: Any, org: Any, agreement: Any, cascade: Any
) -> None:
    _published(org, cascade)
    AgreementFactory(unit=org.unit_b1a, year=YEAR, state=AgreementState.PUBLISHED)
    client = api(org.office)
    assert {a["unit"] for a in client.walk("/agreements", state="published")} == {
        "unit-a1b",
        "unit-b1a",
    }
    assert {a["unit"] for a in client.walk("/agreements", within="centre-b")} == {"unit-b1a"}
    assert client.walk("/agreements", year=YEAR + 5) == []


def test_during_a_revision_employees_read_the_published_version_not_the_draft(
    api: Any, org: Any, agreement: Any, cascade: Any
) -> None:
    head, parent = api(org.head), api(org.parent_head)
    assert head.post(f"{URL}/submit", {}).status_code == 200
    assert parent.post(f"{URL}/agree").status_code == 200
    assert head.post(f"{URL}/publish").status_code == 200
    assert head.post(f"{URL}/revise").status_code == 200
    assert (
        head.post(
            f"{URL}/initiatives", {"title": "Secret new plan", "goals": [cascade.goal_2.pk]}
        ).status_code
        == 201
    )
    seen = api(org.employee).get(URL).json()
    assert (seen["live"], seen["state"], seen["version"]) == (False, "published", 1)
    assert [i["title"] for i in seen["initiatives"]] == ["Early health talks"]
    assert "Secret new plan" not in api(org.employee).get(URL).content.decode()
    own = head.get(URL).json()
    assert (own["live"], own["state"]) == (True, "draft")
    assert [i["title"] for i in own["initiatives"]] == ["Early health talks", "Secret new plan"]


def test_the_unit_head_starts_an_agreement(api: Any, org: Any, cascade: Any) -> None:
    response = api(org.head).post(
        "/agreements", {"unit": "unit-a1a", "year": YEAR, "summary": "Ours"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["summary"] == "Ours"
    agreement = Agreement.objects.get(unit=org.unit, year=YEAR)
    assert agreement.history.first().history_user == org.head


def test_an_agreement_that_exists_is_a_409(api: Any, org: Any, agreement: Any) -> None:
    assert_error(
        api(org.head).post("/agreements", {"unit": "unit-a1a", "year": YEAR}), 409, "conflict"
    )


def test_outsiders_and_read_only_tokens_cannot_start_an_agreement(api: Any, org: Any) -> None:
    payload = {"unit": "unit-a1a", "year": YEAR}
    assert_error(api(org.outsider).post("/agreements", payload), 403, "forbidden")
    assert_error(api(org.employee).post("/agreements", payload), 403, "forbidden")
    assert_error(api(org.head, scope="read").post("/agreements", payload), 403, "read_only_token")
    assert not Agreement.objects.exists()


def test_initiatives_are_added_changed_and_removed(
    api: Any, org: Any, agreement: Any, cascade: Any
) -> None:
    client = api(org.head)
    created = client.post(
        f"{URL}/initiatives",
        {
            "title": "Mentoring",
            "goals": [cascade.goal_2.pk, cascade.goal_3.pk],
            "owner": "employee",
            "start_date": f"{YEAR}-02-01",
            "end_date": f"{YEAR}-06-30",
        },
    )
    assert created.status_code == 201, created.content
    initiative = Initiative.objects.get(title="Mentoring")
    assert initiative.owner == org.employee
    assert {g.code for g in initiative.goals.all()} == {"T2.1", "T3.1"}
    changed = client.put(
        f"{URL}/initiatives/{initiative.pk}",
        {
            "title": "Mentoring for all",
            "goals": [cascade.goal_2.pk],
            "status": "started",
            "edit_version": initiative.version,
        },
    )
    assert changed.status_code == 200, changed.content
    initiative.refresh_from_db()
    assert (initiative.title, initiative.status, initiative.owner) == (
        "Mentoring for all",
        "started",
        None,
    )
    assert client.delete(f"{URL}/initiatives/{initiative.pk}").status_code == 204
    assert not Initiative.objects.filter(pk=initiative.pk).exists()


def test_an_initiative_linked_to_an_expired_goal_is_a_400_on_goals(
    api: Any, org: Any, agreement: Any, cascade: Any
) -> None:
    response = api(org.head).post(
        f"{URL}/initiatives", {"title": "Old", "goals": [cascade.old_goal.pk]}
    )
    body = assert_error(response, 400, "invalid")
    assert "goals" in body["fields"]


def test_an_initiative_ending_before_it_starts_is_a_400_on_the_end(
    api: Any, org: Any, agreement: Any, cascade: Any
) -> None:
    response = api(org.head).post(
        f"{URL}/initiatives",
        {
            "title": "Backwards",
            "goals": [cascade.goal_1.pk],
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
        },
    )
    assert "end_date" in assert_error(response, 400, "invalid")["fields"]


def test_others_cannot_change_initiatives(api: Any, org: Any, agreement: Any, cascade: Any) -> None:
    initiative = agreement.initiatives.get()
    payload = {"title": "Hijacked", "goals": [cascade.goal_1.pk], "edit_version": 1}
    assert_error(api(org.colleague).put(f"{URL}/initiatives/{initiative.pk}", payload), 404)
    assert_error(api(org.employee).delete(f"{URL}/initiatives/{initiative.pk}"), 404)
    assert_error(
        api(org.executive).put(f"{URL}/initiatives/{initiative.pk}", payload), 403, "forbidden"
    )
    initiative.refresh_from_db()
    assert initiative.title == "Early health talks"


def test_the_workflow_runs_through_the_same_services_as_the_pages(
    api: Any, org: Any, agreement: Any
) -> None:
    head, parent = api(org.head), api(org.parent_head)
    assert_error(head.post(f"{URL}/agree"), 403, "forbidden")  # nobody agrees their own
    assert head.post(f"{URL}/submit", {}).json()["state"] == "submitted"
    assert_error(head.post(f"{URL}/initiatives", {"title": "Late", "goals": [1]}), 409, "conflict")
    returned = parent.post(f"{URL}/return", {"comment": "Add a goal for theme 2"})
    assert returned.json()["state"] == "draft"
    assert head.post(f"{URL}/submit", {}).status_code == 200
    assert parent.post(f"{URL}/agree").json()["state"] == "agreed"
    assert head.post(f"{URL}/publish").json()["state"] == "published"
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.PUBLISHED
    assert agreement.versions.count() == 1
    reasons = [h.history_change_reason for h in agreement.history.order_by("history_date")]
    assert "agreed" in reasons and "published" in reasons


def test_a_step_the_state_does_not_allow_is_a_409(api: Any, org: Any, agreement: Any) -> None:
    assert_error(api(org.parent_head).post(f"{URL}/agree"), 409, "conflict")
    assert_error(api(org.head).post(f"{URL}/publish"), 409, "conflict")
    assert_error(api(org.head).post(f"{URL}/revise"), 409, "conflict")


def test_returning_needs_a_comment(api: Any, org: Any, agreement: Any) -> None:
    api(org.head).post(f"{URL}/submit", {})
    body = assert_error(api(org.parent_head).post(f"{URL}/return", {"comment": ""}), 422)
    assert "comment" in body["fields"]


def test_submitting_an_agreement_that_breaks_a_rule_needs_a_justification(
    api: Any, org: Any, agreement: Any, cascade: Any
) -> None:
    rule = AgreementRuleFactory(
        strategy=cascade.group, unit_level=org.unit.level, name="Each theme"
    )
    head = api(org.head)
    body = assert_error(head.post(f"{URL}/submit", {}), 400, "invalid")
    assert "justification" in body["fields"]
    response = head.post(
        f"{URL}/submit", {"justifications": {str(rule.pk): "Themes 2 and 3 next year"}}
    )
    assert response.status_code == 200, response.content
    assert response.json()["justifications"] == [
        {"rule": rule.pk, "rule_name": "Each theme", "text": "Themes 2 and 3 next year"}
    ]


def test_an_unknown_agreement_is_a_404(api: Any, org: Any) -> None:
    assert_error(api(org.office).get("/agreements/unit-a1a/2030"), 404, "not_found")
    assert_error(api(org.office).get("/agreements/nowhere/2026"), 404, "not_found")
    assert_error(api(org.office).post("/agreements/nowhere/2026/submit", {}), 404, "not_found")
