"""One status vocabulary: an initiative's status is what its latest follow-up report says,
shown with its date and reporter on the agreement, the unit's line of sight and the start page."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from pejling.agreements.models import Agreement, AgreementState, InitiativeStatus
from pejling.followup import services
from pejling.followup.models import ReportStatus
from pejling.followup.services import ReportEntry
from tests.factories import YEAR, AgreementFactory, InitiativeFactory, ReportDeadlineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreed(org: Any) -> Agreement:
    agreement = AgreementFactory(unit=org.unit, state=AgreementState.PUBLISHED)
    InitiativeFactory(agreement=agreement, title="Mentors", status=InitiativeStatus.STARTED)
    return agreement


def test_the_report_vocabulary_is_part_of_the_initiatives_one() -> None:
    for value, label in ReportStatus.choices:
        assert InitiativeStatus(value).label == label


def test_a_report_becomes_the_initiatives_status_with_date_and_reporter(
    org: Any, agreed: Agreement
) -> None:
    t1 = ReportDeadlineFactory(period="T1", due_date=date(YEAR, 5, 15))
    t2 = ReportDeadlineFactory(period="T2", due_date=date(YEAR, 9, 15))
    initiative = agreed.initiatives.get()
    services.report_period(
        unit=org.unit, deadline=t2, by=org.head, entries=[ReportEntry(initiative.pk, "at_risk")]
    )
    initiative.refresh_from_db()
    assert initiative.status == InitiativeStatus.AT_RISK
    assert initiative.status_reported_by == org.head
    assert initiative.status_reported_at is not None
    # A late correction of the earlier period does not overwrite the newer report.
    services.report_period(
        unit=org.unit, deadline=t1, by=org.head, entries=[ReportEntry(initiative.pk, "done")]
    )
    initiative.refresh_from_db()
    assert initiative.status == InitiativeStatus.AT_RISK

    client = Client(headers={"accept-language": "en"})
    client.force_login(org.employee)
    for url in (
        reverse("agreements:agreement_detail", args=[org.unit.code, YEAR]),
        reverse("home") + f"?year={YEAR}",
    ):
        page = client.get(url).content.decode()
        assert 'data-status="at_risk"' in page, url
        assert "At risk" in page and "reported" in page and "Hanna Head" in page, url
