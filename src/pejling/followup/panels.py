"""Follow-up on the agreement page, served as htmx fragments by followup's own URLs.

The agreement page (agreements, a lower app) loads its comment thread and its report links
from here with ``hx-get`` and shows a plain link to the same URL without JavaScript, so
agreements never imports followup nor loads its template tags. Without htmx each URL answers
a whole page around the fragment (``core.http.render_panel``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pejling.agreements.models import Agreement
from pejling.core.http import HtmxHttpRequest, render_panel
from pejling.followup.permissions import can_read_subject
from pejling.followup.reporting_views import Period, comment_thread, unit_periods
from pejling.organisation import permissions


@dataclass
class ReportingLinks:
    can_report: bool
    list_url: str
    next_period: Period | None = None
    next_url: str = ""


def reporting_links(user: object, agreement: Agreement) -> ReportingLinks:
    """For people who can write the agreement: the unit's follow-up reports and the first
    period still to report (if the agreement is agreed)."""
    unit = agreement.unit
    list_url = reverse("reports:unit_reports", args=[unit.code]) + f"?year={agreement.year}"
    if not permissions.can_write_agreement(user, unit):
        return ReportingLinks(False, list_url)
    _agreement, periods = unit_periods(unit=unit, year=agreement.year, today=timezone.localdate())
    upcoming = next((p for p in periods if p.is_open), None)
    next_url = (
        reverse("reports:report_period", args=[unit.code, upcoming.deadline.pk]) if upcoming else ""
    )
    return ReportingLinks(True, list_url, upcoming, next_url)


def _readable(request: HtmxHttpRequest, unit_code: str, year: int) -> Agreement:
    """The agreement, or 404 alike for "does not exist" and "not yours"."""
    agreement = get_object_or_404(
        Agreement.objects.select_related("unit"), unit__code=unit_code, year=year
    )
    if not can_read_subject(request.user, agreement=agreement):
        raise Http404
    return agreement


def agreement_comments(request: HtmxHttpRequest, unit_code: str, year: int) -> HttpResponse:
    """The comment thread on an agreement (shown on the agreement's page)."""
    agreement = _readable(request, unit_code, year)
    thread = comment_thread(
        user=request.user, agreement=agreement, next_url=agreement.get_absolute_url()
    )
    title = _("Comments") + f" – {agreement.unit.name} {agreement.year}"
    return render_panel(request, "followup/reporting/_comments.html", title, {"thread": thread})


def agreement_reporting(request: HtmxHttpRequest, unit_code: str, year: int) -> HttpResponse:
    """Links to the unit's follow-up reports (shown on the agreement's page to its writers)."""
    agreement = _readable(request, unit_code, year)
    context: dict[str, object] = {"reporting": reporting_links(request.user, agreement)}
    title = _("Follow-up reports") + f" – {agreement.unit.name} {agreement.year}"
    return render_panel(request, "followup/reporting/_agreement_links.html", title, context)
