"""The start page as each person's inbox: what waits for me, my units, my part of the whole."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.test import Client
from django.urls import reverse

from pejling.agreements.models import AgreementState
from pejling.overview.inbox import INBOX_SOURCES, inbox
from tests.factories import (
    YEAR,
    AgreementFactory,
    CommentFactory,
    InitiativeFactory,
    ReportDeadlineFactory,
)


def _page(user: Any) -> str:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    response = client.get(reverse("home") + f"?year={YEAR}")
    assert response.status_code == 200
    return response.content.decode()


def test_a_submitted_agreement_waits_for_the_head_above_not_for_the_unit_head(org: Any) -> None:
    AgreementFactory(unit=org.unit, state=AgreementState.SUBMITTED)
    today = date(YEAR, 2, 1)
    waiting = inbox(org.parent_head, year=YEAR, today=today)
    assert [i.kind for i in waiting] == ["agreement"]
    assert waiting[0].url == reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])
    assert inbox(org.head, year=YEAR, today=today) == []
    assert inbox(org.employee, year=YEAR, today=today) == []
    page = _page(org.parent_head)
    assert "Agree or return" in page and org.unit.name in page


def test_an_open_report_period_links_straight_to_the_report_form(org: Any) -> None:
    agreement = AgreementFactory(unit=org.unit, state=AgreementState.AGREED)
    InitiativeFactory(agreement=agreement)
    deadline = ReportDeadlineFactory(due_date=date(YEAR, 5, 15))
    before = inbox(org.head, year=YEAR, today=date(YEAR, 5, 1))
    assert [(i.kind, i.due, i.overdue) for i in before] == [("report", deadline.due_date, False)]
    assert before[0].url == reverse("reports:report_period", args=[org.unit.code, deadline.pk])
    after = inbox(org.head, year=YEAR, today=date(YEAR, 6, 1))
    assert after[0].overdue
    assert inbox(org.employee, year=YEAR, today=date(YEAR, 5, 1)) == []


def test_a_comment_that_mentions_me_waits_for_me(org: Any) -> None:
    agreement = AgreementFactory(unit=org.unit, state=AgreementState.PUBLISHED)
    comment = CommentFactory(agreement=agreement, author=org.head, body="@employee look")
    comment.mentions.set([org.employee])
    today = comment.created_at.date()
    items = inbox(org.employee, year=YEAR, today=today)
    assert [i.kind for i in items] == ["mention"]
    assert items[0].url.endswith(f"#comment-{comment.pk}")
    assert inbox(org.head, year=YEAR, today=today) == []


def test_my_units_show_their_agreement_state(org: Any) -> None:
    AgreementFactory(unit=org.unit, state=AgreementState.DRAFT)
    page = _page(org.head)
    assert "Finish and submit" in page
    assert 'data-testid="my-units"' in page
    assert "Draft" in page
    assert 'data-testid="my-units"' not in _page(org.employee)


def test_the_inbox_sources_are_an_extension_point() -> None:
    assert [s.__name__ for s in INBOX_SOURCES] == [
        "agreements_to_decide",
        "agreements_to_submit",
        "reports_due",
        "report_sections",
        "portfolio_decisions",
        "mentions",
    ]


def test_a_department_head_sees_compliance_for_her_own_units_only(org: Any) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(org.parent_head)
    response = client.get(reverse("followup:compliance") + f"?year={YEAR}&unit={org.dept_b1.code}")
    assert response.status_code == 200
    assert response.context["within"] == org.dept_a1  # not someone else's department
    client.force_login(org.employee)
    forbidden = client.get(reverse("followup:compliance") + f"?year={YEAR}")
    assert forbidden.status_code == 403
    assert "heads of units" in forbidden.content.decode()


def test_a_draft_waits_for_its_own_unit_head_with_the_levels_deadline(org: Any) -> None:
    from pejling.followup.models import DeadlineKind
    from tests.factories import DeadlineFactory

    AgreementFactory(unit=org.unit, state=AgreementState.DRAFT)
    DeadlineFactory(
        kind=DeadlineKind.AGREEMENT, unit_level=org.unit.level, due_date=date(YEAR, 3, 1)
    )
    items = inbox(org.head, year=YEAR, today=date(YEAR, 3, 2))
    assert [(i.kind, i.due, i.overdue) for i in items] == [("submit", date(YEAR, 3, 1), True)]
    assert inbox(org.parent_head, year=YEAR, today=date(YEAR, 3, 2)) == []
