"""The audit trail page: every change, who made it, when, from where, before and after; for the
strategy office only, read-only, filtered, paged and exported; and agreed versions stay as they
were."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pejling.agreements import services
from pejling.agreements.models import Agreement
from pejling.api.tokens import token_create
from pejling.core.models import ChangeSource, ChangeVia
from pejling.strategy.models import Element
from tests.api.helpers import ApiClient
from tests.factories import YEAR

pytestmark = pytest.mark.django_db

TRAIL = "/audit/"


def session(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def entries(response: Any) -> list[Any]:
    assert response.status_code == 200
    return list(response.context["entries"])


def test_only_the_strategy_office_reads_the_audit_trail_and_finds_it_in_the_header(org):
    office = session(org.office).get(reverse("home"))
    assert reverse("audit:trail").encode() in office.content
    for person in (org.head, org.executive, org.employee):
        client = session(person)
        assert reverse("audit:trail").encode() not in client.get(reverse("home")).content
        assert client.get(TRAIL).status_code == 403
        assert client.get(reverse("audit:export")).status_code == 403


def test_the_audit_trail_is_read_only(org):
    client = session(org.office)
    assert client.post(TRAIL).status_code == 405
    assert client.post(reverse("audit:export")).status_code == 405


def test_a_change_on_a_page_shows_who_when_from_where_and_before_and_after(org, cascade):
    client = session(org.office)
    goal = cascade.goal_2
    url = reverse("strategy:element_edit", args=[cascade.group.code, goal.pk])
    form = client.get(url).context["form"]
    data = {f.html_name: f.value() for f in form if f.value() is not None}
    data["references"] = []
    data["title"] = "Competence plans in every unit"
    assert client.post(url, data, REMOTE_ADDR="192.0.2.7").status_code == 302

    found = entries(client.get(TRAIL, {"model": "strategy.element", "object_id": goal.pk}))
    change = found[0]
    assert change.kind == "~" and change.who == org.office
    assert ("Competence plans everywhere", "Competence plans in every unit") in [
        (old, new) for _name, old, new in change.shown_changes
    ]
    assert change.source.via == ChangeVia.WEB
    assert change.source.ip_address == "192.0.2.7"
    assert found[-1].kind == "+" and found[-1].source is None  # made by a fixture, not a request


def test_a_change_through_the_api_is_marked_with_the_token(org, agreement):
    new = token_create(user=org.head, name="Planning script", scope="read_write", expires_in_days=1)
    response = ApiClient(new.secret).patch(
        f"/agreements/{org.unit.code}/{YEAR}",
        {"summary": "From the script", "edit_version": agreement.version},
    )
    assert response.status_code == 200
    change = entries(session(org.office).get(TRAIL, {"model": "agreements.agreement"}))[0]
    assert change.source.via == ChangeVia.API_TOKEN
    assert "Planning script" in change.source.token_name
    assert change.who == org.head


def test_entries_stay_when_the_object_is_deleted(org, cascade):
    client = session(org.office)
    goal = cascade.goal_3
    response = client.post(reverse("strategy:element_delete", args=[cascade.group.code, goal.pk]))
    assert response.status_code == 302
    assert not Element.objects.filter(pk=goal.pk).exists()
    found = entries(client.get(TRAIL, {"model": "strategy.element", "object_id": goal.pk}))
    assert [e.kind for e in found] == ["-", "+"]
    assert found[0].object_label == "Recruitment toolbox used"
    assert found[0].who == org.office


def test_the_filters_narrow_by_model_person_object_and_date(org, agreement):
    services.agreement_update(agreement=agreement, by=org.parent_head, summary="Per was here")
    client = session(org.office)
    by_per = entries(client.get(TRAIL, {"person": "parent_head"}))
    assert by_per and all(e.who == org.parent_head for e in by_per)
    by_model = entries(client.get(TRAIL, {"model": "agreements.initiative"}))
    assert by_model and all(e.label == "agreements.initiative" for e in by_model)
    by_object = entries(
        client.get(TRAIL, {"model": "agreements.agreement", "object_id": agreement.pk})
    )
    assert {e.object_id for e in by_object} == {agreement.pk}
    assert entries(client.get(TRAIL, {"start": "2000-01-01", "end": "2000-12-31"})) == []
    assert entries(client.get(TRAIL, {"start": "2000-01-01"}))


def test_pages_follow_each_other_without_gaps_or_repeats(org, cascade, agreement):
    client = session(org.office)
    everything = [(e.label, e.history_id) for e in entries(client.get(TRAIL, {"limit": 200}))]
    assert len(everything) > 10
    seen: list[tuple[str, int]] = []
    query: dict[str, str] = {"limit": "3"}
    for _ in range(100):
        response = client.get(TRAIL, query)
        seen += [(e.label, e.history_id) for e in entries(response)]
        if not response.context["next_query"]:
            break
        query = dict(pair.split("=", 1) for pair in response.context["next_query"].split("&"))
    assert seen == everything


def test_a_page_costs_the_same_number_of_queries_whatever_its_size(org, cascade, agreement):
    client = session(org.office)
    client.get(TRAIL)  # warm the session and permission caches

    def count(limit: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(TRAIL, {"limit": limit}).status_code == 200
        return len(queries)

    assert count(5) == count(60)


def test_the_export_has_the_same_filters_and_defuses_formulas(org, agreement):
    services.agreement_update(agreement=agreement, by=org.head, summary="=HYPERLINK(1)")
    client = session(org.office)
    response = client.get(reverse("audit:export"), {"model": "agreements.agreement"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    delimiter = ";" if text.split("\r\n")[0].count(";") == 12 else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header, body = rows[0], rows[1:]
    assert len(header) == 13 and body
    assert {row[4] for row in body} == {"agreements.agreement"}
    cells = [cell for row in body for cell in row]
    assert "'=HYPERLINK(1)" in cells and "=HYPERLINK(1)" not in cells
    # The same entries as an Excel workbook: the time typed, the formula kept as text.
    response = client.get(
        reverse("audit:export"), {"model": "agreements.agreement", "format": "xlsx"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    table = list(sheet.iter_rows(values_only=True))
    assert len(table) == len(rows) and isinstance(table[1][0], datetime)
    assert "=HYPERLINK(1)" in [cell for row in table[1:] for cell in row]
    formula = [c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(1)"]
    assert formula and all(c.data_type == "s" for c in formula)


def test_a_change_source_is_kept_for_every_history_row_written_in_a_request(org, agreement):
    before = ChangeSource.objects.count()
    url = reverse("agreements:agreement_edit", args=[org.unit.code, YEAR])
    client = session(org.head)
    version = client.get(url).context["form"]["version"].value()
    client.post(url, {"summary": "Again", "version": version})
    assert ChangeSource.objects.count() == before + 1


def test_an_agreed_version_still_shows_what_was_agreed_after_a_revision_and_changes(
    org, cascade, agreement
):
    services.agreement_submit(agreement=agreement, by=org.head)
    services.agreement_agree(agreement=agreement, by=org.parent_head)
    services.agreement_publish(agreement=agreement, by=org.head)
    services.agreement_revise(agreement=agreement, by=org.head)
    services.agreement_update(agreement=agreement, by=org.head, summary="A new direction")
    initiative = agreement.initiatives.get()
    services.initiative_update(
        initiative=initiative, by=org.head, title="Renamed initiative", goals=[cascade.goal_2]
    )
    assert Agreement.objects.get(pk=agreement.pk).summary == "A new direction"

    page = session(org.employee).get(
        reverse("agreements:agreement_version", args=[org.unit.code, YEAR, 1])
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "Our year" in text and "Early health talks" in text
    assert "A new direction" not in text and "Renamed initiative" not in text
