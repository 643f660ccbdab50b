from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language

from pejling.core.generation import cached
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
    """A unit: where it sits in the tree, the units below it, its people and roles, and the
    panels (agreements, indicators, portfolio, line of sight) that load after the page. What
    the page itself shows is the same for every reader, so it is rendered once per unit, year
    and language and kept under the data generation (any write of the tree, its memberships or
    a person's name renders it again)."""
    year = requested_year(request)
    page = cached(
        ("organisation:unit_page", code, year, get_language()), lambda: _unit_page(code, year)
    )
    if page is None:
        raise Http404
    name, body = page
    return render(request, "organisation/unit_detail.html", {"name": name, "body": body})


def _unit_page(code: str, year: int) -> tuple[str, str] | None:
    unit = Unit.objects.select_related("level").filter(code=code).first()
    if unit is None:
        return None
    context = {
        "unit": unit,
        "year": year,
        "ancestors": unit_ancestors(unit),
        "children": list(unit_children(unit)),
        "people": list(unit_people(unit)),
    }
    return unit.name, render_to_string("organisation/_unit_page.html", context)


RUNS_SHOWN = 100


def sync_runs(request: HttpRequest) -> HttpResponse:
    """The latest organisation sync runs: source, who, when, how it ended, what it changed and,
    for a failed run, its first errors."""
    if not can_see_sync_runs(request.user):
        raise PermissionDenied
    runs = list(SyncRun.objects.select_related("by")[:RUNS_SHOWN])
    rows = [(run, person_name(run.by), run_errors(run)[:3]) for run in runs]
    return render(request, "organisation/sync_runs.html", {"rows": rows})
