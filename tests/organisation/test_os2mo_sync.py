"""Syncing the organisation from OS2mo, over HTTP, against OS2mo's recorded responses."""

from __future__ import annotations

import socket
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from django.utils import timezone, translation

from pejling.agreements.models import Agreement
from pejling.organisation.models import Unit, UnitLevel
from pejling.organisation.sync import OS2moClient, OS2moError, sync_from_os2mo
from pejling.organisation.sync.os2mo import ORG_UNITS_QUERY
from tests.factories import AgreementFactory, UnitFactory, UserFactory
from tests.organisation.fake_os2mo import TOKEN, FakeOS2mo, query_errors

pytestmark = pytest.mark.django_db

KOLDING_KOMMUNE = UUID("f06ee470-9f17-566f-acbe-e938112d46d9")
LOENORGANISATION = UUID("fb2d158f-114e-5f67-8365-2c520cf10b58")


def client_for(server: FakeOS2mo, *, page_size: int = 25, token: str = TOKEN) -> OS2moClient:
    return OS2moClient(server.url, token=token, page_size=page_size)


def tree_is_sound() -> None:
    assert all(not problems for problems in Unit.objects.find_problems())


def parent_external_ids() -> dict[UUID, UUID | None]:
    by_path = {u.path: u for u in Unit.objects.all()}
    return {
        u.external_id: (by_path[u.path[: -Unit.steplen]].external_id if u.depth > 1 else None)
        for u in by_path.values()
    }


def os2mo_parents(server: FakeOS2mo) -> dict[UUID, UUID | None]:
    return {
        UUID(o["uuid"]): UUID(o["current"]["parent"]["uuid"]) if o["current"]["parent"] else None
        for o in server.objects()
    }


def test_our_query_is_valid_against_os2mo_v29_schema() -> None:
    assert query_errors(ORG_UNITS_QUERY) == []
    assert query_errors("query { org_units { objects { no_such_field } } }") != []


def test_a_full_sync_creates_the_84_kolding_units_under_their_two_roots(
    kolding: FakeOS2mo,
) -> None:
    office = UserFactory(username="office")

    report = sync_from_os2mo(client=client_for(kolding), by=office)

    assert (report.created, report.updated, report.moved, report.closed) == (84, 0, 0, 0)
    assert report.fetched == 84
    assert Unit.objects.count() == 84
    roots = Unit.objects.filter(depth=1)
    assert {u.name for u in roots} == {"Kolding Kommune", "Lønorganisation"}
    assert {u.external_id for u in roots} == {KOLDING_KOMMUNE, LOENORGANISATION}
    # Every unit hangs under the unit OS2mo says is its parent.
    assert parent_external_ids() == os2mo_parents(kolding)
    tree_is_sound()
    # Paging: four requests, each passing back the cursor of the page before.
    assert len(kolding.requests) == 4
    cursors = [r["body"]["variables"]["cursor"] for r in kolding.requests]
    assert cursors[0] is None and len(set(cursors)) == 4
    assert all(r["authorization"] == f"Bearer {TOKEN}" for r in kolding.requests)
    assert kolding.invalid_queries == []
    # Levels N1..N7 became our levels by depth, named as in OS2mo; unit types are kept.
    assert list(UnitLevel.objects.values_list("depth", "name")) == [
        (d, f"N{d}") for d in range(1, 8)
    ]
    assert report.levels_created == 7
    viuf = Unit.objects.get(external_id=UUID("08eaf849-e9f9-53e0-b6b9-3cd45763ecbb"))
    assert (viuf.level.name, viuf.unit_type) == ("N5", "Afdeling")
    # OS2mo's user keys are not unique ("Viuf skole" twice): codes are, and readable.
    codes = sorted(Unit.objects.filter(name="Viuf skole").values_list("code", flat=True))
    assert len(codes) == 2 and all(c.startswith("Viuf skole-") for c in codes)
    assert Unit.objects.get(external_id=KOLDING_KOMMUNE).code == "Kolding Kommune"
    # One history row per unit, by the person syncing, with the reason.
    assert report.history_rows == 84
    first = Unit.history.filter(external_id=KOLDING_KOMMUNE).get()
    assert (first.history_user, first.history_change_reason) == (office, "OS2mo sync")


def test_a_second_sync_changes_nothing_and_writes_no_history(kolding: FakeOS2mo) -> None:
    sync_from_os2mo(client=client_for(kolding))
    paths = dict(Unit.objects.values_list("pk", "path"))
    history = Unit.history.count()

    report = sync_from_os2mo(client=client_for(kolding))

    assert report.counts() == {
        "created": 0,
        "updated": 0,
        "moved": 0,
        "closed": 0,
        "unchanged": 84,
        "levels_created": 0,
        "history_rows": 0,
    }
    assert Unit.history.count() == history
    assert dict(Unit.objects.values_list("pk", "path")) == paths


def test_older_offset_cursors_page_on_until_an_empty_page(kolding_57: FakeOS2mo) -> None:
    report = sync_from_os2mo(client=client_for(kolding_57))

    assert report.created == 84
    assert len(kolding_57.requests) == 5  # the fifth page is empty, with a null cursor
    assert parent_external_ids() == os2mo_parents(kolding_57)


def test_a_unit_moved_in_os2mo_moves_with_its_subtree_and_keeps_its_agreements(
    kolding: FakeOS2mo,
) -> None:
    sync_from_os2mo(client=client_for(kolding))
    moving = kolding.find("Christiansfeld børnehus")
    new_parent = kolding.find("Renovation")
    unit = Unit.objects.get(external_id=UUID(moving["uuid"]))
    children = list(Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1))
    assert {c.name for c in children} == {"Teknisk Support", "Administration"}
    agreement = AgreementFactory(unit=unit)
    child_agreement = AgreementFactory(unit=children[0])
    history = Unit.history.count()

    kolding.move(moving["uuid"], new_parent["uuid"])
    report = sync_from_os2mo(client=client_for(kolding))

    assert (report.moved, report.created, report.updated, report.closed) == (1, 0, 0, 0)
    assert report.unchanged == 83
    unit.refresh_from_db()
    parent = Unit.objects.get(external_id=UUID(new_parent["uuid"]))
    assert unit.path.startswith(parent.path) and unit.depth == parent.depth + 1
    for child in children:
        child.refresh_from_db()
        assert child.path.startswith(unit.path) and child.depth == unit.depth + 1
    assert Agreement.objects.get(pk=agreement.pk).unit_id == unit.pk
    assert Agreement.objects.get(pk=child_agreement.pk).unit_id == children[0].pk
    assert parent_external_ids() == os2mo_parents(kolding)
    tree_is_sound()
    assert Unit.history.count() == history + 1
    assert report.changes[0].action == "moved"


def test_a_unit_gone_from_os2mo_is_end_dated_not_deleted(kolding: FakeOS2mo) -> None:
    sync_from_os2mo(client=client_for(kolding))
    gone = kolding.find("Kolding børnehus")
    unit = Unit.objects.get(external_id=UUID(gone["uuid"]))
    agreement = AgreementFactory(unit=unit)

    kolding.remove(gone["uuid"])
    report = sync_from_os2mo(client=client_for(kolding))

    assert (report.closed, report.unchanged) == (1, 83)
    unit.refresh_from_db()
    assert unit.closed_on == timezone.localdate()
    assert Unit.objects.count() == 84
    assert Agreement.objects.get(pk=agreement.pk).unit_id == unit.pk
    assert Unit.history.filter(id=unit.pk).first().closed_on == timezone.localdate()

    # Closing is idempotent, and a unit that comes back is reopened.
    assert sync_from_os2mo(client=client_for(kolding)).counts()["history_rows"] == 0
    kolding.pages[None]["body"]["data"]["org_units"]["objects"].append(gone)
    report = sync_from_os2mo(client=client_for(kolding))
    unit.refresh_from_db()
    assert (report.updated, unit.closed_on) == (1, None)


def test_a_rename_in_os2mo_renames_the_unit_and_keeps_siblings_in_name_order(
    kolding: FakeOS2mo,
) -> None:
    sync_from_os2mo(client=client_for(kolding))
    target = kolding.find("Erhverv")
    target["current"]["name"] = "Aarhus-kontoret"  # sorts first among its siblings

    report = sync_from_os2mo(client=client_for(kolding))

    assert (report.updated, report.moved, report.unchanged) == (1, 0, 83)
    unit = Unit.objects.get(external_id=UUID(target["uuid"]))
    assert unit.name == "Aarhus-kontoret"
    assert unit.code == "Erhverv"  # the code follows the user key, which did not change
    siblings = Unit.objects.filter(path__startswith=unit.path[: -Unit.steplen], depth=unit.depth)
    names = [s.name for s in siblings.order_by("path")]
    assert names == sorted(names)
    tree_is_sound()


def test_the_unauthenticated_error_is_a_clear_error_and_nothing_is_written(
    kolding: FakeOS2mo,
) -> None:
    with pytest.raises(OS2moError) as raised:
        sync_from_os2mo(client=client_for(kolding, token=""))

    assert raised.value.error.code == "os2mo_token_missing"
    with translation.override("en"):
        assert str(raised.value) == (
            "OS2mo refused the request: User is not authenticated. Set PEJLING_OS2MO_TOKEN to a"
            " valid access token."
        )
    with translation.override("sv"):
        assert str(raised.value) == (
            "OS2mo avvisade begäran: User is not authenticated. Ange en giltig åtkomsttoken i"
            " PEJLING_OS2MO_TOKEN."
        )
    assert raised.value.messages == ["User is not authenticated"]
    assert kolding.requests[0]["authorization"] is None
    assert Unit.objects.count() == 0 and UnitLevel.objects.count() == 0


def test_a_refused_token_leaves_an_earlier_sync_untouched(kolding: FakeOS2mo) -> None:
    sync_from_os2mo(client=client_for(kolding))
    history = Unit.history.count()
    kolding.remove(kolding.find("Kolding børnehus")["uuid"])

    with translation.override("en"), pytest.raises(OS2moError, match="refused or has expired"):
        sync_from_os2mo(client=client_for(kolding, token="expired"))

    assert Unit.history.count() == history
    assert not Unit.objects.filter(closed_on__isnull=False).exists()


def test_http_errors_and_an_unreachable_os2mo_are_clear_errors(kolding: FakeOS2mo) -> None:
    kolding.fail_with_status = 500
    with pytest.raises(OS2moError) as raised:
        sync_from_os2mo(client=client_for(kolding))
    assert raised.value.error.code == "os2mo_http"
    with translation.override("en"):
        assert str(raised.value).startswith(f"OS2mo at {kolding.url}/graphql/v29 answered HTTP 500")
    with translation.override("da"):
        assert str(raised.value).startswith(f"OS2mo på {kolding.url}/graphql/v29 svarede HTTP 500")

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with translation.override("en"), pytest.raises(OS2moError, match="Could not reach OS2mo at"):
        sync_from_os2mo(client=OS2moClient(f"http://127.0.0.1:{port}", timeout=5))
    assert Unit.objects.count() == 0


def test_an_empty_answer_never_closes_the_organisation(kolding: FakeOS2mo) -> None:
    sync_from_os2mo(client=client_for(kolding))
    for uuid in [o["uuid"] for o in kolding.objects()]:
        kolding.remove(uuid)

    with translation.override("en"), pytest.raises(OS2moError, match="no organisation units"):
        sync_from_os2mo(client=client_for(kolding))
    assert not Unit.objects.filter(closed_on__isnull=False).exists()


def test_a_hierarchy_label_selects_the_line_organisation(sample_org: FakeOS2mo) -> None:
    report = sync_from_os2mo(
        client=client_for(sample_org, page_size=3), hierarchy="linjeorganisation"
    )

    assert report.fetched == 10 and report.created == 2
    # "Skole og Børn" is labelled, its parent is not: it becomes a root of ours.
    assert {(u.name, u.depth) for u in Unit.objects.all()} == {
        ("Lønorganisation", 1),
        ("Skole og Børn", 1),
    }
    # Without unit levels in OS2mo, the depth in the tree decides the level.
    assert set(Unit.objects.values_list("level__depth", flat=True)) == {1}


def test_an_unknown_hierarchy_label_is_an_error_naming_the_labels(sample_org: FakeOS2mo) -> None:
    with pytest.raises(OS2moError) as raised:
        sync_from_os2mo(client=client_for(sample_org, page_size=3), hierarchy="Nope")
    with translation.override("en"):
        assert str(raised.value).startswith(
            "No unit in OS2mo has the hierarchy label 'Nope'; nothing was changed. Labels in use:"
        )
        assert "Linjeorganisation" in str(raised.value)
    assert Unit.objects.count() == 0


def test_the_whole_sample_organisation_takes_tree_depth_as_level(
    sample_org: FakeOS2mo, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "en"  # new levels are named in the organisation's language
    report = sync_from_os2mo(client=client_for(sample_org, page_size=3))

    assert report.created == 10
    it_support = Unit.objects.get(code="it_sup")
    assert (it_support.depth, it_support.level.depth, it_support.level.name) == (3, 3, "Level 3")
    tree_is_sound()


def test_a_date_asks_os2mo_for_the_organisation_on_that_day(kolding: FakeOS2mo) -> None:
    sync_from_os2mo(client=client_for(kolding), at=date(2027, 1, 1))

    variables = kolding.requests[0]["body"]["variables"]
    assert variables["filter"] == {
        "from_date": "2027-01-01T00:00:00+01:00",
        "to_date": "2027-01-02T00:00:00+01:00",
    }
    assert variables["at"] == "2027-01-01T00:00:00+01:00"
    assert kolding.invalid_queries == []


def test_a_level_map_puts_os2mo_levels_on_our_levels(kolding: FakeOS2mo) -> None:
    UnitLevel.objects.create(depth=1, name="Kommune", name_plural="Kommuner")

    sync_from_os2mo(client=client_for(kolding), level_map={"N5": 4, "N6": 5, "N7": 5})

    viuf = Unit.objects.get(external_id=UUID("08eaf849-e9f9-53e0-b6b9-3cd45763ecbb"))
    assert viuf.level.depth == 4
    assert Unit.objects.get(external_id=KOLDING_KOMMUNE).level.name == "Kommune"
    assert not Unit.objects.filter(level__depth__gt=5).exists()


def test_units_typed_in_by_hand_are_linked_by_their_code_not_duplicated(
    kolding: FakeOS2mo,
) -> None:
    by_hand = UnitFactory(code="Kolding Kommune", name="Kolding")
    other = UnitFactory(code="exec", name="Not in OS2mo")

    report = sync_from_os2mo(client=client_for(kolding))

    by_hand.refresh_from_db()
    assert (by_hand.external_id, by_hand.name) == (KOLDING_KOMMUNE, "Kolding Kommune")
    assert (report.created, report.updated) == (83, 1)
    other.refresh_from_db()
    assert other.closed_on is None  # units that never came from OS2mo are left alone
    assert Unit.objects.count() == 85


def test_a_dry_run_reports_the_changes_and_writes_nothing(kolding: FakeOS2mo) -> None:
    report = sync_from_os2mo(client=client_for(kolding), dry_run=True)

    assert report.dry_run and report.created == 84 and len(report.changes) == 84
    assert Unit.objects.count() == 0 and UnitLevel.objects.count() == 0
    assert Unit.history.count() == 0


def test_user_keys_swapped_in_os2mo_swap_the_codes(kolding: FakeOS2mo) -> None:
    sync_from_os2mo(client=client_for(kolding))
    first, second = kolding.find("Erhverv"), kolding.find("Byudvikling")
    first["current"]["user_key"], second["current"]["user_key"] = "Byudvikling", "Erhverv"

    report = sync_from_os2mo(client=client_for(kolding))

    assert (report.updated, report.unchanged) == (2, 82)
    assert Unit.objects.get(external_id=UUID(first["uuid"])).code == "Byudvikling"
    assert Unit.objects.get(external_id=UUID(second["uuid"])).code == "Erhverv"


def test_a_unit_that_becomes_a_root_in_os2mo_moves_to_the_top(kolding: FakeOS2mo) -> None:
    sync_from_os2mo(client=client_for(kolding))
    unit = kolding.find("Christiansfeld børnehus")

    kolding.move(unit["uuid"], None)
    report = sync_from_os2mo(client=client_for(kolding))

    assert report.moved == 1
    moved = Unit.objects.get(external_id=UUID(unit["uuid"]))
    assert moved.depth == 1
    assert Unit.objects.filter(path__startswith=moved.path).count() == 3
    assert parent_external_ids() == os2mo_parents(kolding)
    tree_is_sound()


def test_a_number_in_an_os2mo_error_is_written_as_the_reader_writes_it() -> None:
    many = OS2moError("os2mo_too_many_pages", count=10_000, pages=10_000)
    one = OS2moError("os2mo_too_many_pages", count=1, pages=1)
    with translation.override("sv"):
        assert str(many) == "OS2mo skickade mer än 10\xa0000 sidor, så läsningen avbröts."
        assert str(one) == "OS2mo skickade mer än 1 sida, så läsningen avbröts."
    with translation.override("en"):
        assert str(many) == "OS2mo returned more than 10,000 pages, so reading stopped."
