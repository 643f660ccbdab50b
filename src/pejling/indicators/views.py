from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pejling.core.http import HtmxHttpRequest, render_panel
from pejling.indicators import charts, completeness, rollups
from pejling.indicators.evaluation import evaluate_kpi
from pejling.indicators.forms import ImportForm
from pejling.indicators.imports import (
    PREVIEW_ROWS,
    batch_errors,
    preview_upload,
    queue_import,
    read_and_check,
    start_import,
)
from pejling.indicators.models import ImportBatch, ImportStatus, Indicator, IndicatorValue, KpiGoal
from pejling.indicators.tasks import run_import, run_started_import
from pejling.organisation.models import Unit
from pejling.organisation.permissions import is_strategy_office
from pejling.organisation.selectors import unit_ancestors
from pejling.strategy.models import Element

# Uploads with more rows than this are written by the background worker.
INLINE_IMPORT_ROWS = 20_000


def _root() -> Unit | None:
    return Unit.objects.filter(depth=1).order_by("path").first()


def indicator_list(request: HttpRequest) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    indicators = list(
        Indicator.objects.select_related("numerator", "denominator", "weight").filter(
            archived_at__isnull=not archived
        )
    )
    outdated = completeness.outdated_ids(indicators, timezone.localdate())
    return render(
        request,
        "indicators/indicator_list.html",
        {"indicators": indicators, "outdated": outdated, "archived": archived},
    )


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
    judged = completeness.completeness(indicator, unit) if points and unit else {}
    chart = None
    if points and unit:
        chart = charts.series_chart(
            title=f"{indicator.display_name} – {unit.name}",
            description=indicator.get_aggregation_display(),
            points=points,
            unit_label=indicator.get_measure_unit_display(),
            incomplete=judged,
        )
    office = is_strategy_office(request.user)
    context = {
        "indicator": indicator,
        "unit": unit,
        "ancestors": unit_ancestors(unit) if unit else [],
        "chart": chart,
        "period": period,
        "periods": periods[:36],
        "breakdown": breakdown,
        "period_completeness": judged.get(period) if period else None,
        "missing_units": (
            Unit.objects.filter(pk__in=judged[period].missing).order_by("name")[:20]
            if period in judged and not judged[period].complete
            else []
        ),
        "outdated": completeness.outdated(indicator, timezone.localdate()),
        "fetches": list(indicator.fetches.all()) if office else [],
        "has_values": IndicatorValue.objects.filter(indicator=indicator).exists(),
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
    period_completeness: list[tuple[Any, completeness.PeriodCompleteness]] = []
    if batch.status == ImportStatus.PREVIEW and batch.payload is not None:
        _rows, checked = read_and_check(
            bytes(batch.payload), batch.filename, indicator=batch.default_indicator
        )
        preview = checked.preview
        if not checked.errors:
            period_completeness = _upload_completeness(checked)
    errors = batch_errors(batch)
    interrupted = batch.status == ImportStatus.INTERRUPTED
    context = {
        "batch": batch,
        "errors": [] if interrupted else errors,
        "interruption": errors[0].message if interrupted and errors else "",
        "preview": preview[:PREVIEW_ROWS],
        "incomplete": [c for c in period_completeness if not c[1].complete],
        "running": batch.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
        "retry": interrupted and batch.payload is not None,
    }
    if request.htmx:
        return render(request, "indicators/import_detail.html#status", context)
    return render(request, "indicators/import_detail.html", context)


def _upload_completeness(checked: Any) -> list[tuple[Any, completeness.PeriodCompleteness]]:
    """How complete each indicator's periods will be with the upload: (indicator, result)."""
    judged = completeness.of_upload(completeness.incoming_units(checked))
    names = Indicator.objects.in_bulk({indicator_id for indicator_id, _p in judged})
    return [(names[indicator_id], c) for (indicator_id, _p), c in judged.items()]


@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm an upload (or retry an interrupted one): it runs once, however often and
    however concurrently this is posted; a second confirmation is told where the import is."""
    _require_office(request)
    batch = get_object_or_404(ImportBatch.objects.defer("payload"), pk=pk)
    batch, queued = queue_import(batch_id=batch.pk, by=request.user)
    if not queued:
        messages.info(request, _already_confirmed(batch))
        return redirect("indicators:import_detail", pk=batch.pk)
    user_id = request.user.pk
    if batch.rows_total > INLINE_IMPORT_ROWS:
        transaction.on_commit(lambda: run_import.enqueue(batch.pk, user_id))
    elif start_import(batch_id=batch.pk):
        run_started_import(batch.pk, user_id)
    return redirect("indicators:import_detail", pk=batch.pk)


def _already_confirmed(batch: ImportBatch) -> str:
    if batch.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return _("This import was already confirmed and is running.")
    if batch.status == ImportStatus.DONE:
        return _("This import was already confirmed and is done.")
    return _("This import is not waiting for confirmation.")
