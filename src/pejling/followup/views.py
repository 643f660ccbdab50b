from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from icalendar import Calendar, Event

from pejling.core.http import AuthenticatedHttpRequest, HtmxHttpRequest, render_panel
from pejling.core.utils import requested_year
from pejling.followup.forms import AssessmentForm
from pejling.followup.models import CalendarFeed, Deadline, GoalAssessment
from pejling.followup.selectors import unit_overdue
from pejling.followup.services import calendar_feed_reset
from pejling.organisation.models import Unit
from pejling.organisation.permissions import can_see_overview
from pejling.strategy.models import Element, MeasureKind


def _require_overview(request: HttpRequest) -> None:
    if not can_see_overview(request.user):
        raise PermissionDenied


def cycle(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The annual cycle (årshjul): deadlines of the year and the person's calendar address."""
    year = requested_year(request)
    feed, _created = CalendarFeed.objects.get_or_create(user=request.user)
    deadlines = list(Deadline.objects.filter(year=year).select_related("unit_level"))
    feed_url = request.build_absolute_uri(feed.get_absolute_url())
    return render(
        request,
        "followup/cycle.html",
        {"year": year, "deadlines": deadlines, "feed_url": feed_url, "today": timezone.localdate()},
    )


@require_POST
def calendar_reset(request: AuthenticatedHttpRequest) -> HttpResponse:
    calendar_feed_reset(user=request.user)
    messages.success(request, _("Your calendar address was replaced; the old one no longer works."))
    return redirect("followup:cycle")


@login_not_required
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The annual cycle as iCalendar, authenticated by the secret in the address."""
    feed = CalendarFeed.objects.filter(token=token).select_related("user").first()
    if feed is None or not feed.user.is_active:
        raise Http404
    calendar = Calendar()
    calendar.add("prodid", "-//Pejling//Annual cycle//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Pejling annual cycle"))
    this_year = timezone.localdate().year
    stamp = timezone.now()
    for deadline in Deadline.objects.filter(year__gte=this_year - 1, year__lte=this_year + 1):
        event = Event()
        event.add("uid", f"deadline-{deadline.pk}@pejling")
        event.add("summary", deadline.title)
        event.add("dtstart", deadline.due_date)
        event.add("dtend", deadline.due_date + timedelta(days=1))
        event.add("dtstamp", stamp)
        event.add("description", str(deadline.get_kind_display()))
        event.add(
            "url", request.build_absolute_uri(reverse("followup:cycle") + f"?year={deadline.year}")
        )
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="pejling.ics"'
    # A person's own calendar, by a secret address: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


def assess(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The goal's owner (strategy office or executive board) sets the status of an assessed goal."""
    _require_overview(request)
    goal = get_object_or_404(
        Element.objects.select_related("strategy"), pk=pk, measure_kind=MeasureKind.ASSESSED
    )
    year = requested_year(request)
    form = AssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assessment = GoalAssessment(
            goal=goal, year=year, created_by=request.user, **form.cleaned_data
        )
        assessment._history_user = request.user  # type: ignore[attr-defined]
        assessment.save()
        messages.success(request, _("The assessment was saved."))
        return redirect(reverse("followup:dashboard") + f"?year={year}")
    history = GoalAssessment.objects.filter(goal=goal).select_related("created_by")[:10]
    return render(
        request,
        "followup/assess.html",
        {"goal": goal, "form": form, "year": year, "history": history},
    )


def unit_overdue_panel(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """What a unit has not yet delivered of the annual cycle (shown on the unit's page)."""
    unit = get_object_or_404(Unit.objects.select_related("level"), code=code)
    year = requested_year(request)
    missing = unit_overdue(unit, year=year, today=timezone.localdate())
    context = {"unit": unit, "missing": missing, "year": year}
    return render_panel(request, "followup/_unit_overdue.html", unit.name, context)
