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
from pejling.followup.evaluation import readable_evaluations
from pejling.followup.forms import AssessmentForm
from pejling.followup.models import CalendarFeed, Deadline, GoalAssessment
from pejling.followup.selectors import (
    compliance_matrix,
    overdue_agreements,
    overdue_reports,
    unit_overdue,
)
from pejling.organisation.models import Unit, UnitLevel
from pejling.organisation.permissions import can_see_overview
from pejling.strategy.goal_status import status_counts
from pejling.strategy.models import AgreementRule, Element, MeasureKind, Strategy


def _require_overview(request: HttpRequest) -> None:
    if not can_see_overview(request.user):
        raise PermissionDenied


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def dashboard(request: HttpRequest) -> HttpResponse:
    """The executive board's page: every goal's status by theme, compliance, what is overdue."""
    _require_overview(request)
    year = requested_year(request)
    today = timezone.localdate()
    within = Unit.objects.filter(code=request.GET.get("unit", "")).first()
    theme_id = _int(request.GET.get("theme"))
    evaluations = readable_evaluations(request.user, year=year, today=today)
    groups: dict[int, tuple[Element | None, list]] = {}
    for evaluation in evaluations:
        theme = evaluation.goal.parent
        if theme_id and (theme is None or theme.pk != theme_id):
            continue
        key = theme.pk if theme else 0
        groups.setdefault(key, (theme, []))[1].append(evaluation)
    rule = (
        AgreementRule.objects.filter(
            active=True, strategy__start_year__lte=year, strategy__end_year__gte=year
        )
        .select_related("strategy", "unit_level")
        .first()
    )
    levels = list(UnitLevel.objects.all())
    level = next(
        (lv for lv in levels if lv.pk == _int(request.GET.get("level"))),
        rule.unit_level if rule else None,
    )
    strategy = (
        rule.strategy
        if rule
        else Strategy.objects.filter(start_year__lte=year, end_year__gte=year).first()
    )
    matrix = compliance_matrix(
        year=year,
        strategy=strategy,
        level=level,
        within=within,
        columns_filter=[theme_id] if theme_id else None,
    )
    themes = (
        list(Element.objects.filter(strategy=strategy, parent__isnull=True)) if strategy else []
    )
    counts = status_counts(e.status for e in evaluations)
    context = {
        "year": year,
        "within": within,
        "groups": list(groups.values()),
        "counts": counts,
        "matrix": matrix,
        "levels": levels,
        "level": level,
        "themes": themes,
        "theme_id": theme_id,
        "late_agreements": [
            o for o in overdue_agreements(year=year, today=today, within=within) if o.units
        ],
        "late_reports": [
            o for o in overdue_reports(year=year, today=today, within=within) if o.units
        ],
    }
    return render(request, "followup/dashboard.html", context)


def compliance(request: HttpRequest) -> HttpResponse:
    """The strategy office's matrix of units × themes, with filters."""
    _require_overview(request)
    year = requested_year(request)
    strategies = list(Strategy.objects.filter(start_year__lte=year, end_year__gte=year))
    strategy = next((s for s in strategies if s.pk == _int(request.GET.get("strategy"))), None)
    rule = (
        AgreementRule.objects.filter(active=True, strategy__in=strategies)
        .select_related("strategy", "unit_level")
        .first()
    )
    strategy = strategy or (rule.strategy if rule else (strategies[0] if strategies else None))
    levels = list(UnitLevel.objects.all())
    level = next(
        (lv for lv in levels if lv.pk == _int(request.GET.get("level"))),
        rule.unit_level if rule else None,
    )
    within = Unit.objects.filter(code=request.GET.get("unit", "")).first()
    matrix = compliance_matrix(year=year, strategy=strategy, level=level, within=within)
    only_gaps = request.GET.get("gaps") == "1"
    rows = [r for r in matrix.rows if not r.complete] if only_gaps else matrix.rows
    context = {
        "year": year,
        "matrix": matrix,
        "rows": rows,
        "strategies": strategies,
        "strategy": strategy,
        "levels": levels,
        "level": level,
        "only_gaps": only_gaps,
        "within": within,
    }
    return render(request, "followup/compliance.html", context)


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
    CalendarFeed.objects.filter(user=request.user).delete()
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
