"""A board-report chapter assigned to me waits in my start page's inbox."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse

from pejling.overview.inbox import inbox
from pejling.reports import services as report_services
from pejling.reports.models import SectionState
from tests.factories import YEAR


def test_a_chapter_assigned_to_me_waits_for_me_until_it_is_approved(org: Any, report: Any) -> None:
    section = report.sections.order_by("position").first()
    report_services.section_assign(
        section=section, by=org.office, unit=org.unit, assignee=org.head, due_date=date(YEAR, 5, 1)
    )
    items = [
        i for i in inbox(org.head, year=YEAR, today=date(YEAR, 5, 2)) if i.kind == "board-report"
    ]
    assert len(items) == 1
    assert items[0].overdue and items[0].due == date(YEAR, 5, 1)
    assert items[0].url == reverse("board_reports:section_detail", args=[report.pk, section.pk])
    assert not [
        i
        for i in inbox(org.employee, year=YEAR, today=date(YEAR, 5, 2))
        if i.kind == "board-report"
    ]
    section.refresh_from_db()
    section.state = SectionState.APPROVED
    section.save(update_fields=["state"])
    assert not [
        i for i in inbox(org.head, year=YEAR, today=date(YEAR, 5, 2)) if i.kind == "board-report"
    ]
