"""The agreements list: waiting for me, state, level and subtree filters, deadline order, pages,
and the same rows as Excel and CSV."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import openpyxl
from django.test import Client
from django.urls import reverse

from pejling.agreements.models import AgreementState, AgreementVersion
from pejling.followup.models import DeadlineKind
from tests.factories import YEAR, AgreementFactory, DeadlineFactory, InitiativeFactory

URL = reverse("agreements:agreement_list")


def _get(user: Any, **query: Any) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(URL, {"year": YEAR, **query})


def test_filters_and_deadline_order(org: Any) -> None:
    late = AgreementFactory(unit=org.unit, state=AgreementState.SUBMITTED)
    InitiativeFactory(agreement=late)
    InitiativeFactory(agreement=late)
    AgreementFactory(unit=org.dept_a1, state=AgreementState.DRAFT)
    AgreementFactory(unit=org.unit_b1a, state=AgreementState.PUBLISHED)
    DeadlineFactory(
        kind=DeadlineKind.AGREEMENT, unit_level=org.unit.level, due_date=date(YEAR, 2, 1)
    )
    DeadlineFactory(
        kind=DeadlineKind.AGREEMENT, unit_level=org.dept_a1.level, due_date=date(YEAR, 3, 1)
    )
    rows = list(_get(org.office).context["agreements"])
    assert [a.unit for a in rows][:2] == [org.unit, org.unit_b1a]  # both due 1 Feb, by path
    assert rows[0].n_initiatives == 2
    assert [a.unit for a in _get(org.office, state="draft").context["agreements"]] == [org.dept_a1]
    level = [a.unit for a in _get(org.office, level=org.dept_a1.level.pk).context["agreements"]]
    assert level == [org.dept_a1]
    within = [a.unit for a in _get(org.office, unit=org.dept_b1.code).context["agreements"]]
    assert within == [org.unit_b1a]
    # Waiting for me: the head above may agree or return; the unit's own head may not.
    assert [a.unit for a in _get(org.parent_head, mine="1").context["agreements"]] == [org.unit]
    assert list(_get(org.head, mine="1").context["agreements"]) == []


def test_pages_of_fifty(org: Any) -> None:
    for year in range(YEAR, YEAR + 1):
        AgreementFactory(unit=org.unit, year=year)
    response = _get(org.office, page="9")
    assert response.status_code == 200  # a page beyond the last shows the last


def test_downloads_hold_every_filtered_row_with_numbers_as_numbers(org: Any) -> None:
    agreement = AgreementFactory(unit=org.unit, state=AgreementState.PUBLISHED)
    InitiativeFactory(agreement=agreement)
    AgreementFactory(unit=org.sibling, state=AgreementState.DRAFT)
    response = _get(org.office, format="xlsx", state="published")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][0] == org.unit.name and rows[1][5] == 1
    csv = _get(org.office, format="csv").content.decode("utf-8-sig")
    assert org.unit.name in csv and org.sibling.name in csv


def test_the_figures_and_the_readers_rows_are_read_without_a_join_per_version(org: Any) -> None:
    """Each agreement once, however many versions it has (an EXISTS, not a join); no
    initiatives is 0; the deadline is the level's earliest agreement deadline of the year."""
    revised = AgreementFactory(unit=org.unit_b1a, state=AgreementState.DRAFT)
    for number in (1, 2):
        AgreementVersion.objects.create(
            agreement=revised, number=number, state=AgreementState.PUBLISHED, content={}
        )
    AgreementFactory(unit=org.sibling, state=AgreementState.DRAFT)  # not readable for her
    for due in (date(YEAR, 4, 1), date(YEAR, 2, 15)):
        DeadlineFactory(kind=DeadlineKind.AGREEMENT, unit_level=org.unit_b1a.level, due_date=due)
    DeadlineFactory(
        kind=DeadlineKind.AGREEMENT,
        unit_level=org.unit_b1a.level,
        due_date=date(YEAR - 1, 1, 1),
        year=YEAR - 1,
    )
    response = _get(org.employee)
    rows = list(response.context["agreements"])
    assert [a.unit for a in rows] == [org.unit_b1a]
    assert response.context["page"].paginator.count == 1
    assert (rows[0].n_initiatives, rows[0].deadline) == (0, date(YEAR, 2, 15))
