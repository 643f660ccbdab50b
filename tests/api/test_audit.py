"""The audit trail over the API: history rows of the domain models."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import assert_error


def test_the_audit_trail_shows_who_changed_what_and_when(api: Any, org: Any, cascade: Any) -> None:
    office = api(org.office)
    office.patch(
        "/strategies/group",
        {"title": "Group strategy 2025–2026", "edit_version": cascade.group.version},
    )
    rows = office.walk("/audit", model="strategy.strategy", object_id=cascade.group.pk)
    change = rows[-1]
    assert (change["what"], change["who"], change["model"]) == (
        "changed",
        "office",
        "strategy.strategy",
    )
    assert change["object_id"] == cascade.group.pk
    assert {"field": "title", "old": "Group strategy", "new": "Group strategy 2025–2026"} in change[
        "changes"
    ]


def test_the_audit_trail_filters_by_person_and_time(api: Any, org: Any, agreement: Any) -> None:
    head = api(org.head)
    head.patch(
        "/agreements/unit-a1a/2026", {"summary": "New summary", "edit_version": agreement.version}
    )
    rows = api(org.office).walk("/audit", person="head")
    # The agreement head changed, and the API token head made to do it (tokens are audited).
    assert {r["model"] for r in rows} == {"agreements.agreement", "api.apitoken"}
    assert api(org.office).walk("/audit", since="2999-01-01T00:00:00Z") == []


def test_the_audit_trail_pages_through_every_model_exactly_once(
    api: Any, org: Any, agreement: Any
) -> None:
    office = api(org.office)
    everything = office.get("/audit", limit=500).json()
    assert everything["next"] is None
    paged = office.walk("/audit", limit=3)
    key = [(r["model"], r["history_id"]) for r in paged]
    assert key == [(r["model"], r["history_id"]) for r in everything["items"]]
    assert len(set(key)) == len(key) > 10
    assert [r["when"] for r in paged] == sorted(r["when"] for r in paged)


def test_only_the_strategy_office_reads_the_audit_trail(api: Any, org: Any) -> None:
    assert_error(api(org.executive).get("/audit"), 403, "forbidden")
    assert_error(api(org.office).get("/audit", model="nothing.here"), 400, "invalid")


def test_times_with_any_offset_or_none_are_read_correctly(
    api: Any, org: Any, agreement: Any
) -> None:
    office = api(org.office)
    assert office.get("/audit", since="2000-01-01T00:00:00+22:54").status_code == 200
    assert office.get("/audit", since="2000-01-01T00:00:00").json()["items"]
    assert_error(office.get("/audit", until="9999-12-31T23:59:00-05:00"), 400, "invalid")
