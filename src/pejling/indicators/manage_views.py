"""The strategy office's pages for indicators: create, edit and archive indicators, link a goal
to the indicator that measures it, and fetch series of national statistics (search, pick,
map areas to units, preview, fetch now or on a schedule)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pejling.core.export import Table, table_download
from pejling.core.forms import add_validation_error
from pejling.core.history import ConcurrentEditError, StateConflictError
from pejling.core.http import HtmxHttpRequest
from pejling.indicators import fetching, national, services
from pejling.indicators.forms import (
    GoalMeasureForm,
    IndicatorForm,
    SeriesForm,
    SourceSearchForm,
)
from pejling.indicators.models import (
    AreaMapping,
    FetchStatus,
    Indicator,
    KpiGoal,
    SourceFetch,
    StatisticsSource,
)
from pejling.organisation.models import Unit
from pejling.organisation.permissions import is_strategy_office
from pejling.strategy.selectors import readable_goals


def _require_office(request: HttpRequest) -> None:
    if not is_strategy_office(request.user):
        raise PermissionDenied


def indicator_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    _require_office(request)
    indicator = get_object_or_404(Indicator, code=code) if code else Indicator()
    form = IndicatorForm(request.POST or None, instance=indicator)
    if request.method == "POST" and form.is_valid():
        try:
            services.indicator_save(indicator=form.instance, by=request.user)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(
                request, _("“%(name)s” was saved.") % {"name": form.instance.display_name}
            )
            return redirect(form.instance.get_absolute_url())
    return render(request, "indicators/indicator_form.html", {"form": form, "indicator": indicator})


@require_POST
def indicator_archive(request: HttpRequest, code: str) -> HttpResponse:
    _require_office(request)
    indicator = get_object_or_404(Indicator, code=code)
    archived = request.POST.get("archived") != "0"
    services.indicator_archive(indicator=indicator, by=request.user, archived=archived)
    messages.success(
        request,
        (_("“%(name)s” was archived.") if archived else _("“%(name)s” is in use again."))
        % {"name": indicator.display_name},
    )
    return redirect(indicator.get_absolute_url())


@require_POST
def indicator_delete(request: HttpRequest, code: str) -> HttpResponse:
    _require_office(request)
    indicator = get_object_or_404(Indicator, code=code)
    try:
        services.indicator_delete(indicator=indicator, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(indicator.get_absolute_url())
    messages.success(request, _("“%(name)s” was removed.") % {"name": indicator.display_name})
    return redirect("indicators:indicator_list")


def goal_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link a goal to the indicator that measures it, with baseline and target."""
    _require_office(request)
    goal = get_object_or_404(readable_goals(request.user).select_related("strategy"), pk=pk)
    kpi = KpiGoal.objects.filter(goal=goal).first()
    initial = {
        "indicator": kpi.indicator_id if kpi else None,
        "unit": kpi.unit_id if kpi else None,
        "baseline_value": goal.baseline_value,
        "baseline_date": goal.baseline_date,
        "target_value": goal.target_value,
        "target_date": goal.target_date,
    }
    form = GoalMeasureForm(request.POST or None, initial=initial, version=goal.version)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.goal_measure_save(
                goal=goal,
                indicator=data["indicator"],
                unit=data["unit"],
                baseline_value=data["baseline_value"],
                baseline_date=data["baseline_date"],
                target_value=data["target_value"],
                target_date=data["target_date"],
                by=request.user,
                expected_version=form.loaded_version(),
            )
        except ConcurrentEditError as exc:
            add_validation_error(form, exc)
            form.show_current_version(exc.current_version)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The goal is measured by the indicator."))
            return redirect("strategy:element_detail", code=goal.strategy.code, pk=goal.pk)
    return render(request, "indicators/goal_link.html", {"form": form, "goal": goal})


def import_template(request: HttpRequest) -> HttpResponse:
    """A file to fill in: the column names in the reader's language and two example rows."""
    _require_office(request)
    indicator = (
        Indicator.objects.filter(archived_at__isnull=True).exclude(aggregation="ratio").first()
    )
    unit = Unit.objects.order_by("path").first()
    month = timezone.localdate().replace(day=1)
    table = Table(
        title=_("KPI values"),
        headers=[_("indicator"), _("unit"), _("period"), _("value")],
        rows=[
            [
                indicator.code if indicator else "SICKDAYS",
                unit.code if unit else "unit",
                f"{month:%Y-%m}",
                12.5,
            ],
            [
                indicator.code if indicator else "SICKDAYS",
                unit.code if unit else "unit",
                f"{month.year - 1}",
                140,
            ],
        ],
    )
    return table_download(request, table, request.GET.get("format") or "csv")


# National statistics ---------------------------------------------------------------------------


def _fetch_target(code: str) -> Indicator:
    indicator = get_object_or_404(Indicator, code=code)
    if indicator.is_derived or indicator.is_archived:
        raise Http404
    return indicator


def fetch_new(request: HttpRequest, code: str) -> HttpResponse:
    """Search a source, pick a series, choose its values, map its areas, preview, save."""
    _require_office(request)
    indicator = _fetch_target(code)
    params = request.POST if request.method == "POST" else request.GET
    search_form = SourceSearchForm(
        {"source": params.get("source") or StatisticsSource.KOLADA, "q": params.get("q", "")}
    )
    source = str(params.get("source") or "")
    if source not in StatisticsSource.values:
        source = StatisticsSource.KOLADA
    context: dict[str, Any] = {"indicator": indicator, "search_form": search_form, "source": source}
    series = params.get("series", "").strip()
    try:
        if not series:
            if search_form.is_valid() and search_form.cleaned_data["q"]:
                context["hits"] = national.search(source, search_form.cleaned_data["q"])
                context["searched"] = True
            return render(request, "indicators/fetch_new.html", context)
        if source == StatisticsSource.KOLADA and params.get("areas") == national.KOLADA_OU:
            context |= _kolada_ou_search(params)
            info = national.describe(
                source, series, area_kind=national.KOLADA_OU, ous=context["ous"]
            )
        else:
            info = national.describe(source, series)
    except national.SourceUnavailable as exc:
        context["source_problem"] = str(exc)
        return render(request, "indicators/fetch_new.html", context)
    form = SeriesForm(
        request.POST if request.method == "POST" else None, info=info, initial_picks={}
    )
    stored = dict(AreaMapping.objects.filter(source=source).values_list("area", "unit__code"))
    area_dim, time_dim = info.dimension("area"), info.dimension("time")
    areas = list(area_dim.categories) if area_dim else []
    posted = (
        {a.code: request.POST.get(f"area-{a.code}", "").strip() for a in areas}
        if request.method == "POST"
        else {}
    )
    context |= {
        "info": info,
        "form": form,
        "series": series,
        "areas": [(a, posted.get(a.code, stored.get(a.code, ""))) for a in areas],
        "units": Unit.objects.filter(closed_on__isnull=True).order_by("path").only("code", "name"),
    }
    if request.method == "POST" and form.is_valid():
        unit_of = {u.code.casefold(): u for u in Unit.objects.filter(closed_on__isnull=True)}
        unknown = sorted(
            code for code in posted.values() if code and code.casefold() not in unit_of
        )
        if unknown:
            form.add_error(
                None, _("No unit has the code %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        else:
            picks, sums = form.picks_and_sums()
            fetch = SourceFetch(
                indicator=indicator,
                source=source,
                series=info.id,
                series_label=info.label[:300],
                area_dimension=area_dim.id if area_dim else "",
                time_dimension=time_dim.id if time_dim else "",
                picks=picks,
                sums=sums,
                labels=form.labels(),
                periods=form.cleaned_data.get("periods") or [],
                schedule=form.cleaned_data["schedule"],
                created_by=request.user if request.user.is_authenticated else None,
            )
            try:
                services.area_mappings_set(
                    source=source,
                    areas={
                        a.code: (
                            a.label,
                            unit_of.get(posted[a.code].casefold()) if posted[a.code] else None,
                        )
                        for a in areas
                        if posted.get(a.code) or a.code in stored
                    },
                    by=request.user,
                )
                if request.POST.get("action") == "preview":
                    context["preview"] = fetching.preview(fetch)
                    context["areas"] = [(a, posted.get(a.code, "")) for a in areas]
                else:
                    services.fetch_save(fetch=fetch, by=request.user)
                    messages.success(
                        request, _("The series was saved. Fetch it now or wait for the schedule.")
                    )
                    return redirect(fetch.get_absolute_url())
            except ValidationError as exc:
                add_validation_error(form, exc)
            except national.SourceUnavailable as exc:
                context["source_problem"] = str(exc)
    return render(request, "indicators/fetch_new.html", context)


def _kolada_ou_search(params: Any) -> dict[str, Any]:
    """Kolada's organisational units to map: those mapped already and those of the chosen
    municipality whose name holds the words typed."""
    municipality = str(params.get("ou_municipality", "")).strip()
    words = str(params.get("ou_q", "")).strip()
    ous = list(national.stored_ous())
    known = {c.code for c in ous}
    hits = national.search_ous(municipality, words) if municipality else []
    ous += [national.Category(h.id, h.label) for h in hits if h.id not in known]
    return {
        "area_kind": national.KOLADA_OU,
        "ou_municipality": municipality,
        "ou_q": words,
        "ou_searched": bool(municipality),
        "ou_hits": len(hits),
        "municipalities": national.kolada_municipalities(),
        "ous": tuple(ous),
    }


def fetch_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    fetch = get_object_or_404(SourceFetch.objects.select_related("indicator", "last_batch"), pk=pk)
    context = {
        "fetch": fetch,
        "indicator": fetch.indicator,
        "running": fetch.status in (FetchStatus.QUEUED, FetchStatus.RUNNING),
        # The areas of the kind this fetch asks for (Kolada: its units or its municipalities).
        "mapped": AreaMapping.objects.filter(
            source=fetch.source,
            area__in=list(national.stored_mapping(fetch.source, fetch.area_dimension)),
        ).select_related("unit"),
    }
    if request.htmx:
        return render(request, "indicators/fetch_detail.html#status", context)
    return render(request, "indicators/fetch_detail.html", context)


@require_POST
def fetch_run(request: HttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    fetch = get_object_or_404(SourceFetch, pk=pk)
    try:
        services.fetch_enqueue(fetch=fetch, by=request.user)
    except StateConflictError as exc:
        messages.error(request, " ".join(exc.messages))
        response = redirect(fetch.get_absolute_url())
        return response
    messages.success(request, _("The fetch is queued; this page shows when it is done."))
    return redirect(fetch.get_absolute_url())


@require_POST
def fetch_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    fetch = get_object_or_404(SourceFetch.objects.select_related("indicator"), pk=pk)
    services.fetch_delete(fetch=fetch, by=request.user)
    messages.success(request, _("The series is no longer fetched; its values are kept."))
    return redirect(fetch.indicator.get_absolute_url())
