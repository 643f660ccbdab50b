"""Analyses per goal and period: a unit's list, the editor (previous period beside it,
optimistic locking, history) and the roll-up a centre reads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from pejling.core.forms import add_validation_error
from pejling.core.history import ConcurrentEditError, entries_for
from pejling.followup.models import Deadline
from pejling.organisation.models import Unit
from pejling.organisation.permissions import home_unit, memberships_of
from pejling.reports import services
from pejling.reports.forms import AnalysisForm
from pejling.reports.markdown import render_markdown
from pejling.reports.permissions import can_read_analysis, can_write_analysis
from pejling.reports.selectors import (
    analyses_for_unit,
    analyses_under,
    analysis_of,
    goal_evaluation,
    goals_of_unit,
    previous_analysis,
    report_periods,
)
from pejling.strategy.models import Element, StrategyStatus


def _unit(code: str) -> Unit:
    return get_object_or_404(Unit.objects.select_related("level"), code=code)


def _period(pk: int) -> Deadline:
    period = report_periods().filter(pk=pk).first()
    if period is None:
        raise Http404
    return period


def _goal(pk: int) -> Element:
    return get_object_or_404(
        Element.objects.select_related("strategy", "level", "parent"),
        pk=pk,
        level__holds_goals=True,
        strategy__status=StrategyStatus.PUBLISHED,
    )


def analysis_start(request: HttpRequest) -> HttpResponse:
    """Where the person works, and the latest period that has started."""
    unit = _readable_unit(request.user)
    periods = list(report_periods())
    if unit is None or not periods:
        return render(request, "reports/analysis_none.html", {"no_unit": unit is None})
    from django.utils import timezone

    today = timezone.localdate()
    started = [p for p in periods if (p.period_start or p.due_date) <= today] or periods[:1]
    return redirect("board_reports:analysis_list", unit_code=unit.code, period_id=started[-1].pk)


def _readable_unit(user: Any) -> Unit | None:
    """Where to start: the person's own unit when they may read its analyses, else the
    deepest unit of their roles that they may read, else (office, executive) the top."""
    home = home_unit(user)
    if home is not None and can_read_analysis(user, home):
        return home
    units = [m.unit for m in memberships_of(user) if can_read_analysis(user, m.unit)]
    if units:
        return max(units, key=lambda u: u.depth)
    root = Unit.objects.filter(depth=1).order_by("path").first()
    return root if root is not None and can_read_analysis(user, root) else None


def analysis_list(request: HttpRequest, unit_code: str, period_id: int) -> HttpResponse:
    unit = _unit(unit_code)
    if not can_read_analysis(request.user, unit):
        raise Http404
    period = _period(period_id)
    analyses = analyses_for_unit(unit, period)
    goals = goals_of_unit(unit, period)
    return render(
        request,
        "reports/analysis_list.html",
        {
            "unit": unit,
            "period": period,
            "periods": list(report_periods()),
            "rows": [{"goal": g, "analysis": analyses.get(g.pk)} for g in goals],
            "can_write": can_write_analysis(request.user, unit),
            "written": sum(1 for g in goals if g.pk in analyses),
        },
    )


def analysis_edit(
    request: HttpRequest, unit_code: str, period_id: int, goal_id: int
) -> HttpResponse:
    unit = _unit(unit_code)
    if not can_read_analysis(request.user, unit):
        raise Http404
    period = _period(period_id)
    goal = _goal(goal_id)
    analysis = analysis_of(goal=goal, unit=unit, period=period)
    evaluation = goal_evaluation(goal, period)
    computed = evaluation.status if evaluation is not None else ""
    may_write = can_write_analysis(request.user, unit)
    initial = (
        {
            "assessment": analysis.assessment,
            "deviation_reason": analysis.deviation_reason,
            "body": analysis.body,
        }
        if analysis
        else {
            "assessment": computed
            if computed in ("on_track", "at_risk", "off_track", "achieved")
            else ""
        }
    )
    form = AnalysisForm(
        request.POST or None, initial=initial, version=analysis.version if analysis else None
    )
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.analysis_save(
                    goal=goal,
                    unit=unit,
                    period=period,
                    by=request.user,
                    body=data["body"],
                    assessment=data["assessment"],
                    deviation_reason=data["deviation_reason"],
                    computed_status=computed,
                    expected_version=form.loaded_version(),
                )
            except ConcurrentEditError as exc:
                add_validation_error(form, exc)
                form.show_current_version(exc.current_version)
            except ValidationError as exc:
                add_validation_error(form, exc)
            else:
                messages.success(request, _("The analysis was saved."))
                return redirect(
                    "board_reports:analysis_edit",
                    unit_code=unit.code,
                    period_id=period.pk,
                    goal_id=goal.pk,
                )
    previous = previous_analysis(goal=goal, unit=unit, period=period)
    return render(
        request,
        "reports/analysis_edit.html",
        {
            "unit": unit,
            "period": period,
            "goal": goal,
            "analysis": analysis,
            "evaluation": evaluation,
            "form": form if may_write else None,
            "body_html": render_markdown(analysis.body) if analysis else "",
            "previous": previous,
            "previous_html": render_markdown(previous.body) if previous else "",
            "history": entries_for(list(analysis.history.select_related("history_user")[:20]))
            if analysis
            else [],
            "has_units_below": Unit.objects.filter(
                path__startswith=unit.path, depth=unit.depth + 1
            ).exists(),
        },
    )


def analysis_rollup(
    request: HttpRequest, unit_code: str, period_id: int, goal_id: int
) -> HttpResponse:
    unit = _unit(unit_code)
    if not can_read_analysis(request.user, unit):
        raise Http404
    period = _period(period_id)
    goal = _goal(goal_id)
    rows = analyses_under(user=request.user, unit=unit, goal=goal, period=period)
    return render(
        request,
        "reports/analysis_rollup.html",
        {
            "unit": unit,
            "period": period,
            "goal": goal,
            "evaluation": goal_evaluation(goal, period),
            "rows": [
                {"unit": r.unit, "analysis": r.analysis, "html": render_markdown(r.analysis.body)}
                for r in rows
            ],
        },
    )
