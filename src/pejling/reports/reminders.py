"""Reminders of report chapters coming due, sent with the annual cycle's reminders
(``pejling send-reminders``, ``followup/reminders.py``), once per chapter."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from pejling.reports.models import ReportState, Section, SectionState

REMIND_DAYS_BEFORE = 7


def chapters_due(today: date) -> list[tuple[Any, str]]:
    """(person, line) for each draft chapter of an open report due within a week (or overdue
    and never reminded of), to the person it is assigned to."""
    sections = list(
        Section.objects.filter(
            reminded_at__isnull=True,
            state=SectionState.DRAFT,
            report__state=ReportState.OPEN,
            assignee__isnull=False,
            due_date__lte=today + timedelta(days=REMIND_DAYS_BEFORE),
        ).select_related("report", "assignee")
    )
    lines = [
        (
            s.assignee,
            _("The chapter “%(chapter)s” of %(report)s is due on %(date)s.")
            % {
                "chapter": s.title,
                "report": s.report.title,
                "date": s.due_date.isoformat() if s.due_date else "",
            },
        )
        for s in sections
    ]
    Section.objects.filter(pk__in=[s.pk for s in sections]).update(reminded_at=timezone.now())
    return lines
