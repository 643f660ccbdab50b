from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pejling.core.http import HtmxHttpRequest, render_panel
from pejling.indicators import charts, completeness, rollups
from pejling.indicators.evaluation import evaluate_kpi
from pejling.indicators.forms import ImportForm
from pejling.indicators.imports import batch_errors, interrupted_while_checking
from pejling.indicators.models import ImportBatch, ImportStatus, Indicator, IndicatorValue, KpiGoal
from pejling.indicators.tasks import confirm_upload, submit_upload
from pejling.indicators.uploads import limited_handler
from pejling.organisation.models import Unit
from pejling.organisation.permissions import is_strategy_office
from pejling.organisation.selectors import unit_ancestors
from pejling.strategy.models import Element


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
        "preview", "incomplete", "errors"
    )[:50]
    return render(request, "indicators/import_list.html", {"batches": batches})


def import_new(request: HttpRequest) -> HttpResponse:
    """Upload a file: streamed to storage (``uploads.LimitedUploadHandler``, refused at the
    size limit while it arrives), then checked by the worker while its page waits."""
    _require_office(request)
    posted = request.method == "POST"
    data, files = (request.POST, request.FILES) if posted else (None, None)
    handler = limited_handler(request)  # after the body was read: it says what it refused
    refused = handler.refused if handler is not None else None
    form = ImportForm(data, files, refused=refused) if posted else ImportForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = submit_upload(
            upload=upload,
            filename=upload.name,
            by=request.user,
            indicator=form.cleaned_data["indicator"],
            user_agent=request.headers.get("User-Agent", ""),
        )
        return redirect("indicators:import_detail", pk=batch.pk)
    return render(
        request, "indicators/import_new.html", {"form": form}, status=413 if refused else 200
    )


# The worker's phases as the page names them.
PHASES = {
    "queued": gettext_lazy("Waiting for the background worker…"),
    "reading": gettext_lazy("Reading the file…"),
    "checking": gettext_lazy("Checking the values…"),
    "writing": gettext_lazy("Writing the values…"),
}


def import_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """An import's page: what the worker's check found (kept on the batch: the page never
    reads the file) and, while the worker checks or writes, its progress, polled with htmx."""
    _require_office(request)
    batch = get_object_or_404(
        ImportBatch.objects.select_related("created_by", "default_indicator"), pk=pk
    )
    errors = batch_errors(batch)
    interrupted = batch.status == ImportStatus.INTERRUPTED
    checking = batch.status == ImportStatus.CHECKING
    writing = batch.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    context = {
        "batch": batch,
        "errors": [] if interrupted else errors,
        "errors_total": max(batch.errors_total, len(errors)),
        "interruption": errors[0].message if interrupted and errors else "",
        "preview": _shown_preview(batch),
        "incomplete": _incomplete(batch) if batch.status == ImportStatus.PREVIEW else [],
        "checking": checking,
        "running": checking or writing,
        "phase": PHASES.get(batch.phase, PHASES["reading"] if checking else PHASES["writing"]),
        "retry": interrupted and bool(batch.file),
        "retry_check": interrupted_while_checking(batch),
        "seen": f"{batch.status}:{batch.phase}",
    }
    if request.htmx:
        # The live region (outside the polled part) is told when the phase or state changed.
        if request.GET.get("seen") != context["seen"]:
            context["announce"] = _announcement(batch, context)
        return render(request, "indicators/import_detail.html#status", context)
    return render(request, "indicators/import_detail.html", context)


def _announcement(batch: ImportBatch, context: dict[str, Any]) -> str:
    if context["running"]:
        return str(context["phase"])
    if batch.status == ImportStatus.PREVIEW:
        return _("The file is valid: %(rows)s rows.") % {"rows": batch.rows_total}
    return ""  # the outcome's alert (role="alert") speaks for itself


def _incomplete(batch: ImportBatch) -> list[tuple[Indicator | None, dict[str, Any]]]:
    """The periods the upload would leave incomplete (found by the worker's check)."""
    names = Indicator.objects.in_bulk({c["indicator"] for c in batch.incomplete})
    return [(names.get(c["indicator"]), c) for c in batch.incomplete]


@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm an upload (or retry an interrupted one): the worker writes it (or checks it
    again) once, however often and however concurrently this is posted; a second
    confirmation is told where the import is."""
    _require_office(request)
    batch = get_object_or_404(ImportBatch.objects.only("pk"), pk=pk)
    batch, queued = confirm_upload(batch_id=batch.pk, by=request.user)
    if not queued:
        messages.info(request, _already_confirmed(batch))
    return redirect("indicators:import_detail", pk=batch.pk)


def _shown_preview(batch: ImportBatch) -> list[dict[str, Any]]:
    """The stored preview rows with each value as a number, so that the page writes it in the
    reader's language (17,5 in Swedish, 17.5 in English)."""
    rows = batch.preview if batch.status == ImportStatus.PREVIEW else []
    return [{**row, "value": _as_number(str(row.get("value", "")))} for row in rows]


def _as_number(text: str) -> Decimal | str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()


def _already_confirmed(batch: ImportBatch) -> str:
    if batch.status == ImportStatus.CHECKING:
        return _("The file is being checked.")
    if batch.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return _("This import was already confirmed and is running.")
    if batch.status == ImportStatus.DONE:
        return _("This import was already confirmed and is done.")
    return _("This import is not waiting for confirmation.")
