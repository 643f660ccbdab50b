from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from pejling.core.http import HtmxHttpRequest, render_panel
from pejling.indicators import charts, rollups
from pejling.indicators.evaluation import evaluate_kpi
from pejling.indicators.forms import ImportForm
from pejling.indicators.imports import (
    PREVIEW_ROWS,
    batch_errors,
    confirm_import,
    preview_upload,
    read_and_check,
)
from pejling.indicators.models import ImportBatch, ImportStatus, Indicator, KpiGoal
from pejling.indicators.tasks import run_import
from pejling.organisation.models import Unit
from pejling.organisation.permissions import is_strategy_office
from pejling.organisation.selectors import unit_ancestors
from pejling.strategy.models import Element

# Uploads with more rows than this are written by the background worker.
INLINE_IMPORT_ROWS = 20_000


def _root() -> Unit | None:
    return Unit.objects.filter(depth=1).order_by("path").first()


def indicator_list(request: HttpRequest) -> HttpResponse:
    indicators = list(Indicator.objects.select_related("numerator", "denominator", "weight"))
    return render(request, "indicators/indicator_list.html", {"indicators": indicators})


def indicator_detail(request: HttpRequest, code: str) -> HttpResponse:
    indicator = get_object_or_404(
        Indicator.objects.select_related("numerator", "denominator", "weight"), code=code
    )
    unit_code = request.GET.get("unit")
    unit = get_object_or_404(Unit, code=unit_code) if unit_code else _root()
    points = rollups.series(indicator, unit) if unit else []
    periods = [p.period for p in reversed(points)]
    period = (
        request.GET.get("period")
        if request.GET.get("period") in periods
        else (periods[0] if periods else None)
    )
    breakdown = rollups.breakdown(indicator, unit, period) if unit and period else None
    chart = None
    if points and unit:
        chart = charts.series_chart(
            title=f"{indicator.name} – {unit.name}",
            description=indicator.get_aggregation_display(),
            points=points,
            unit_label=indicator.get_measure_unit_display(),
        )
    context = {
        "indicator": indicator,
        "unit": unit,
        "ancestors": unit_ancestors(unit) if unit else [],
        "chart": chart,
        "period": period,
        "periods": periods[:36],
        "breakdown": breakdown,
    }
    return render(request, "indicators/indicator_detail.html", context)


def goal_panel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The measurement of one KPI goal: status, reason, chart with target and forecast."""
    goal = get_object_or_404(Element.objects.select_related("strategy", "level"), pk=pk)
    kpi = (
        KpiGoal.objects.select_related("indicator__numerator", "indicator__denominator", "unit")
        .filter(goal=goal)
        .first()
    )
    evaluation = evaluate_kpi(goal, kpi, _root())
    chart = None
    if evaluation.points and evaluation.indicator is not None:
        chart = charts.goal_chart(
            evaluation=evaluation,
            title=goal.title,
            description=evaluation.reason,
            unit_label=evaluation.indicator.get_measure_unit_display(),
        )
    return render_panel(
        request,
        "indicators/goal_panel.html",
        goal.title,
        {"goal": goal, "evaluation": evaluation, "chart": chart},
    )


# The unit panel draws this many charts at once; the rest are fetched as they scroll into view.
INLINE_CHARTS = 2


def _unit_chart(indicator: Indicator, unit: Unit) -> charts.Chart | None:
    points = rollups.series(indicator, unit)
    if not points:
        return None
    return charts.series_chart(
        title=indicator.name,
        description=f"{unit.name}: {indicator.get_aggregation_display()}",
        points=points[-24:],
        unit_label=indicator.get_measure_unit_display(),
    )


def unit_panel(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Every indicator with values in the unit's subtree: the first charts drawn, the others
    loaded as they scroll into view. Which indicators have data is read from the roll-up cache
    (one indexed query), so the cost does not grow with the subtree or the indicators."""
    unit = get_object_or_404(Unit, code=code)
    with_data = rollups.indicator_ids_with_data(unit)
    indicators = [
        indicator
        for indicator in Indicator.objects.order_by("code")
        if with_data and set(rollups.base_ids(indicator)) <= with_data
    ]
    items = [
        (indicator, _unit_chart(indicator, unit) if n < INLINE_CHARTS else None)
        for n, indicator in enumerate(indicators)
    ]
    return render_panel(
        request, "indicators/unit_panel.html", unit.name, {"unit": unit, "items": items}
    )


def unit_chart(request: HtmxHttpRequest, code: str, indicator: str) -> HttpResponse:
    """One indicator's chart for a unit's subtree (the unit panel loads it lazily)."""
    unit = get_object_or_404(Unit, code=code)
    found = get_object_or_404(Indicator, code=indicator)
    chart = _unit_chart(found, unit)
    if chart is None:
        raise Http404
    return render_panel(
        request,
        "indicators/_unit_chart.html",
        f"{found.name} – {unit.name}",
        {"unit": unit, "indicator": found, "chart": chart},
    )


def _require_office(request: HttpRequest) -> None:
    if not is_strategy_office(request.user):
        raise PermissionDenied


def import_list(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    batches = ImportBatch.objects.select_related("created_by", "default_indicator").defer(
        "payload"
    )[:50]
    return render(request, "indicators/import_list.html", {"batches": batches})


def import_new(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch, _checked = preview_upload(
            data=upload.read(),
            filename=upload.name,
            by=request.user,
            indicator=form.cleaned_data["indicator"],
        )
        return redirect("indicators:import_detail", pk=batch.pk)
    return render(request, "indicators/import_new.html", {"form": form})


def import_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    batch = get_object_or_404(
        ImportBatch.objects.select_related("created_by", "default_indicator"), pk=pk
    )
    preview = []
    if batch.status == ImportStatus.PREVIEW and batch.payload is not None:
        _rows, checked = read_and_check(
            bytes(batch.payload), batch.filename, indicator=batch.default_indicator
        )
        preview = checked.preview
    context = {
        "batch": batch,
        "errors": batch_errors(batch),
        "preview": preview[:PREVIEW_ROWS],
        "running": batch.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
    }
    if request.htmx:
        return render(request, "indicators/import_detail.html#status", context)
    return render(request, "indicators/import_detail.html", context)


@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    batch = get_object_or_404(ImportBatch, pk=pk)
    if batch.status != ImportStatus.PREVIEW:
        return redirect("indicators:import_detail", pk=batch.pk)
    if batch.rows_total > INLINE_IMPORT_ROWS:
        batch.status = ImportStatus.QUEUED
        batch.save(update_fields=["status"])
        user_id = request.user.pk
        transaction.on_commit(lambda: run_import.enqueue(batch.pk, user_id))
    else:
        confirm_import(batch=batch, by=request.user)
    return redirect("indicators:import_detail", pk=batch.pk)
