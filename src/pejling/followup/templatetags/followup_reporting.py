"""Follow-up on pages of other apps: the agreement page's report links and comment thread.

Usage::

    {% load followup_reporting %}
    {% reporting_links agreement as reporting %}
    {% comment_thread_for agreement as thread %}
    {% include "followup/reporting/_comments.html" with thread=thread %}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone

from pejling.agreements.models import Agreement
from pejling.followup.reporting_views import Period, Thread, comment_thread, unit_periods
from pejling.organisation import permissions

register = template.Library()


@dataclass
class ReportingLinks:
    can_report: bool
    list_url: str
    next_period: Period | None = None
    next_url: str = ""


@register.simple_tag(takes_context=True)
def reporting_links(context: template.Context, agreement: Agreement) -> ReportingLinks:
    """For people who can write the agreement: the unit's follow-up reports and the first
    period still to report (if the agreement is agreed)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    unit = agreement.unit
    list_url = reverse("reports:unit_reports", args=[unit.code]) + f"?year={agreement.year}"
    if user is None or not permissions.can_write_agreement(user, unit):
        return ReportingLinks(False, list_url)
    _agreement, periods = unit_periods(unit=unit, year=agreement.year, today=timezone.localdate())
    upcoming = next((p for p in periods if p.is_open), None)
    next_url = (
        reverse("reports:report_period", args=[unit.code, upcoming.deadline.pk]) if upcoming else ""
    )
    return ReportingLinks(True, list_url, upcoming, next_url)


@register.simple_tag(takes_context=True)
def comment_thread_for(context: template.Context, agreement: Agreement) -> Thread:
    """The comment thread on ``agreement``, as the current person may see it."""
    request = context.get("request")
    user: Any = getattr(request, "user", None)
    next_url = request.get_full_path() if request is not None else agreement.get_absolute_url()
    return comment_thread(user=user, agreement=agreement, next_url=next_url)
