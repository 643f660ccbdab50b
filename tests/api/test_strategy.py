"""Strategies, levels, elements and agreement rules over the API."""

from __future__ import annotations

from typing import Any

from pejling.strategy.models import Element, Strategy, StrategyStatus
from tests.api.helpers import assert_error
from tests.factories import AgreementRuleFactory, StrategyFactory

NEW = {"code": "digital", "title": "Digitalisation", "start_year": 2026, "end_year": 2028}


def test_strategies_are_listed_without_drafts_for_employees(
    api: Any, org: Any, cascade: Any
) -> None:
    StrategyFactory(code="secret", title="Draft plan", status=StrategyStatus.DRAFT)
    employee = {s["code"] for s in api(org.employee).walk("/strategies")}
    office = {s["code"] for s in api(org.office).walk("/strategies")}
    assert employee == {"narrative", "group", "old"}
    assert office == employee | {"secret"}
    assert_error(api(org.employee).get("/strategies/secret"), 404, "not_found")


def test_strategies_in_force_in_a_year(api: Any, org: Any, cascade: Any) -> None:
    assert {s["code"] for s in api(org.employee).walk("/strategies", year=2021)} == {"old"}


def test_a_strategy_in_detail_has_its_levels_and_the_strategies_serving_it(
    api: Any, org: Any, cascade: Any
) -> None:
    body = api(org.employee).get("/strategies/narrative").json()
    assert body["children"] == ["group"]
    group = api(org.employee).get("/strategies/group").json()
    assert group["parent"] == "narrative"
    assert [(lv["name"], lv["holds_goals"]) for lv in group["levels"]] == [
        ("Theme", False),
        ("Common goal", True),
    ]


def test_the_strategy_office_creates_and_changes_a_strategy(
    api: Any, org: Any, cascade: Any
) -> None:
    client = api(org.office)
    response = client.post("/strategies", {**NEW, "parent": "narrative"})
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "draft"
    strategy = Strategy.objects.get(code="digital")
    assert strategy.parent == cascade.narrative
    assert strategy.history.first().history_user == org.office
    response = client.patch(
        "/strategies/digital",
        {"title": "Digital first", "status": "published", "edit_version": strategy.version},
    )
    assert response.status_code == 200, response.content
    strategy.refresh_from_db()
    assert (strategy.title, strategy.status) == ("Digital first", "published")


def test_a_strategy_with_a_taken_code_is_a_409(api: Any, org: Any, cascade: Any) -> None:
    assert_error(api(org.office).post("/strategies", {**NEW, "code": "group"}), 409, "conflict")


def test_a_strategy_ending_before_it_starts_is_a_400_on_the_field(api: Any, org: Any) -> None:
    body = assert_error(
        api(org.office).post("/strategies", {**NEW, "end_year": 2020}), 400, "invalid"
    )
    assert "end_year" in body["fields"]


def test_a_malformed_strategy_is_a_422_naming_the_fields(api: Any, org: Any) -> None:
    body = assert_error(
        api(org.office).post("/strategies", {"code": "has space", "start_year": "soon"}),
        422,
        "invalid_request",
    )
    assert {"code", "title", "start_year", "end_year"} <= set(body["fields"])


def test_only_the_strategy_office_writes_strategies(api: Any, org: Any, cascade: Any) -> None:
    assert_error(api(org.executive).post("/strategies", NEW), 403, "forbidden")
    assert_error(
        api(org.head).patch("/strategies/group", {"title": "Mine", "edit_version": 1}),
        403,
        "forbidden",
    )
    assert not Strategy.objects.filter(code="digital").exists()


def test_the_strategy_office_sets_levels_and_adds_elements(api: Any, org: Any) -> None:
    client = api(org.office)
    assert client.post("/strategies", NEW).status_code == 201
    levels = client.put(
        "/strategies/digital/levels",
        [{"name": "Area", "name_plural": "Areas"}, {"name": "Goal", "holds_goals": True}],
    )
    assert levels.status_code == 200, levels.content
    assert [lv["depth"] for lv in levels.json()] == [1, 2]
    area = client.post("/strategies/digital/elements", {"code": "A", "title": "Data"})
    assert area.status_code == 201, area.content
    goal = client.post(
        "/strategies/digital/elements",
        {
            "code": "A.1",
            "title": "Open data",
            "parent": area.json()["id"],
            "measure_kind": "assessed",
        },
    )
    assert goal.status_code == 201, goal.content
    assert (goal.json()["level"], goal.json()["is_goal"]) == (2, True)
    changed = client.put(
        f"/elements/{goal.json()['id']}",
        {
            "code": "A.1",
            "title": "Open data by default",
            "target_value": "80.5",
            "edit_version": goal.json()["edit_version"],
        },
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["target_value"] == 80.5
    elements = client.walk("/strategies/digital/elements", limit=1)
    assert [e["code"] for e in elements] == ["A", "A.1"]
    assert [e["code"] for e in client.walk("/strategies/digital/elements", goals_only=True)] == [
        "A.1"
    ]


def test_an_element_needs_its_level_named_first(api: Any, org: Any) -> None:
    client = api(org.office)
    client.post("/strategies", NEW)
    body = assert_error(
        client.post("/strategies/digital/elements", {"code": "A", "title": "X"}), 400
    )
    assert "parent" in body["fields"]


def test_an_element_with_a_taken_code_is_a_409(api: Any, org: Any, cascade: Any) -> None:
    response = api(org.office).post("/strategies/group/elements", {"code": "T1", "title": "Again"})
    assert_error(response, 409, "conflict")


def test_deleting_a_goal_linked_to_initiatives_is_refused(
    api: Any, org: Any, agreement: Any, cascade: Any
) -> None:
    assert_error(api(org.office).delete(f"/elements/{cascade.goal_1.pk}"), 400, "invalid")
    assert api(org.office).delete(f"/elements/{cascade.goal_3.pk}").status_code == 204
    assert not Element.objects.filter(pk=cascade.goal_3.pk).exists()


def test_an_element_is_read_by_id(api: Any, org: Any, cascade: Any) -> None:
    body = api(org.employee).get(f"/elements/{cascade.goal_1.pk}").json()
    assert (body["code"], body["strategy"], body["baseline_value"]) == ("T1.1", "group", 14.9)
    assert_error(api(org.employee).get("/elements/999999"), 404, "not_found")


def test_agreement_rules_are_listed_and_the_office_adds_them(
    api: Any, org: Any, cascade: Any
) -> None:
    AgreementRuleFactory(strategy=cascade.group, name="Each theme")
    assert [r["name"] for r in api(org.employee).walk("/agreement-rules")] == ["Each theme"]
    response = api(org.office).post(
        "/agreement-rules",
        {"strategy": "group", "name": "Any goal", "kind": "any_goal", "unit_level": 4},
    )
    assert response.status_code == 201, response.content
    rule_id = response.json()["id"]
    assert api(org.employee).get(f"/agreement-rules/{rule_id}").json()["unit_level"] == 4
    assert_error(
        api(org.head).post(
            "/agreement-rules",
            {"strategy": "group", "name": "Mine", "kind": "any_goal", "unit_level": 4},
        ),
        403,
        "forbidden",
    )
