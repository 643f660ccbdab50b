from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from pejling.core.http import HtmxHttpRequest
from pejling.core.utils import requested_year
from pejling.organisation.models import Unit
from pejling.organisation.selectors import (
    unit_ancestors,
    unit_children,
    unit_people,
    units_in_tree_order,
)


def unit_list(request: HtmxHttpRequest) -> HttpResponse:
    """The organisation tree; with ``q`` (htmx search) only the matching units."""
    query = request.GET.get("q", "").strip()
    units = units_in_tree_order()
    if query:
        units = units.filter(Q(name__icontains=query) | Q(code__icontains=query))
    context = {"units": list(units), "query": query}
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
