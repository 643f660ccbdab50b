"""Units, people and their roles over the API."""

from __future__ import annotations

from datetime import date
from typing import Any

from pejling.organisation.models import Membership, Role
from tests.api.helpers import assert_error


def test_units_are_listed_with_their_parent_and_level(api: Any, org: Any) -> None:
    items = api(org.employee).walk("/units")
    assert len(items) == 10
    assert next(u for u in items if u["code"] == "exec")["parent"] is None
    dept = next(u for u in items if u["code"] == "dept-a1")
    assert dept["parent"] == "centre-a"
    assert dept["level"] == {"depth": 3, "name": "Department", "name_plural": "Departments"}


def test_units_within_a_unit_are_its_subtree(api: Any, org: Any) -> None:
    items = api(org.employee).walk("/units", within="centre-a")
    assert {u["code"] for u in items} == {
        "centre-a",
        "dept-a1",
        "dept-a2",
        "unit-a1a",
        "unit-a1b",
        "unit-a2a",
    }


def test_a_within_filter_naming_no_unit_is_a_400(api: Any, org: Any) -> None:
    body = assert_error(api(org.employee).get("/units", within="nowhere"), 400, "invalid")
    assert "within" in body["fields"]


def test_a_unit_in_detail_has_its_ancestors_and_children(api: Any, org: Any) -> None:
    body = api(org.employee).get("/units/dept-a1").json()
    assert body["ancestors"] == ["exec", "centre-a"]
    assert body["children"] == ["unit-a1a", "unit-a1b"]


def test_an_unknown_unit_is_a_404(api: Any, org: Any) -> None:
    assert_error(api(org.employee).get("/units/nowhere"), 404, "not_found")


def test_people_within_a_unit_are_listed_with_their_roles(api: Any, org: Any) -> None:
    people = api(org.employee).walk("/people", within="unit-a1a")
    assert {p["username"] for p in people} == {"head", "employee"}
    head = next(p for p in people if p["username"] == "head")
    assert {(m["unit"], m["role"]) for m in head["memberships"]} == {
        ("unit-a1a", "unit_head"),
        ("unit-a1a", "member"),
    }
    assert api(org.employee).get("/people/head").json()["name"] == "Hanna Head"
    assert_error(api(org.employee).get("/people/nobody"), 404, "not_found")


def test_memberships_filter_by_subtree_role_and_person(api: Any, org: Any) -> None:
    client = api(org.employee)
    heads = client.walk("/memberships", within="centre-a", role="unit_head")
    assert {(m["person"], m["unit"]) for m in heads} == {
        ("head", "unit-a1a"),
        ("parent_head", "dept-a1"),
        ("colleague", "unit-a1b"),
    }
    assert {m["role"] for m in client.walk("/memberships", person="head")} == {
        "unit_head",
        "member",
    }


def test_the_strategy_office_gives_a_person_a_role(api: Any, org: Any) -> None:
    response = api(org.office).post(
        "/memberships",
        {"person": "outsider", "unit": "dept-a2", "role": "editor", "title": "Planner"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["person"], body["unit"], body["role"], body["current"]) == (
        "outsider",
        "dept-a2",
        "editor",
        True,
    )
    membership = Membership.objects.get(pk=body["id"])
    assert membership.history.first().history_user == org.office


def test_giving_the_same_role_twice_is_a_409(api: Any, org: Any) -> None:
    response = api(org.office).post(
        "/memberships", {"person": "head", "unit": "unit-a1a", "role": "unit_head"}
    )
    assert_error(response, 409, "conflict")


def test_a_unit_head_cannot_give_roles(api: Any, org: Any) -> None:
    response = api(org.head).post(
        "/memberships", {"person": "outsider", "unit": "unit-a1a", "role": "editor"}
    )
    assert_error(response, 403, "forbidden")
    assert not Membership.objects.filter(user=org.outsider).exists()


def test_a_read_only_token_cannot_give_roles(api: Any, org: Any) -> None:
    response = api(org.office, scope="read").post(
        "/memberships", {"person": "outsider", "unit": "unit-a1a", "role": "editor"}
    )
    assert_error(response, 403, "read_only_token")


def test_the_strategy_office_end_dates_a_role(api: Any, org: Any) -> None:
    membership = Membership.objects.get(user=org.head, role=Role.UNIT_HEAD)
    response = api(org.office).post(f"/memberships/{membership.pk}/end", {"ends_on": "2020-01-31"})
    assert response.status_code == 200, response.content
    assert response.json()["current"] is False
    membership.refresh_from_db()
    assert membership.ends_on == date(2020, 1, 31)
    # From now on the head can no longer act as head.
    assert_error(api(org.head).post("/agreements", {"unit": "unit-a1a", "year": 2026}), 403)


def test_an_outsider_cannot_end_date_a_role(api: Any, org: Any) -> None:
    membership = Membership.objects.get(user=org.head, role=Role.UNIT_HEAD)
    assert_error(api(org.outsider).post(f"/memberships/{membership.pk}/end", {}), 403, "forbidden")
    assert_error(api(org.office).post("/memberships/999999/end", {}), 404, "not_found")
