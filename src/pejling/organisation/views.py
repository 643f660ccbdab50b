from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from pejling.core.http import HtmxHttpRequest
from pejling.core.utils import person_name, requested_year
from pejling.organisation.models import SyncRun, Unit
from pejling.organisation.permissions import can_see_sync_runs
from pejling.organisation.selectors import (
    unit_ancestors,
    unit_children,
    unit_people,
    units_in_tree_order,
)
from pejling.organisation.sync.runs import run_errors


def unit_list(request: HtmxHttpRequest) -> HttpResponse:
    """The organisation tree; with ``q`` (htmx search) only the matching units."""
    query = request.GET.get("q", "").strip()
    units = units_in_tree_order()
    if query:
        units = units.filter(Q(name__icontains=query) | Q(code__icontains=query))
    context = {
        "units": list(units),
        "query": query,
        "may_see_sync_runs": can_see_sync_runs(request.user),
    }
    if request.htmx:
        return render(request, "organisation/unit_list.html#tree", context)
    return render(request, "organisation/unit_list.html", context)


def unit_detail(request: HttpRequest, code: str) -> HttpResponse:
    unit = get_object_or_404(Unit.objects.select_related("level"), code=code)
    year = requested_year(request)
    context = {
        "unit": unit,
        "year": year,
        "ancestors": unit_ancestors(unit),
        "children": list(unit_children(unit)),
        "people": list(unit_people(unit)),
    }
    return render(request, "organisation/unit_detail.html", context)


RUNS_SHOWN = 100


def sync_runs(request: HttpRequest) -> HttpResponse:
    """The latest organisation sync runs: source, who, when, how it ended, what it changed and,
    for a failed run, its first errors."""
    if not can_see_sync_runs(request.user):
        raise PermissionDenied
    runs = list(SyncRun.objects.select_related("by")[:RUNS_SHOWN])
    rows = [(run, person_name(run.by), run_errors(run)[:3]) for run in runs]
    return render(request, "organisation/sync_runs.html", {"rows": rows})
