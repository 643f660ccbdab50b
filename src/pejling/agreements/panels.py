"""Agreements on the pages of lower apps, served as htmx fragments by agreements' own URLs.

A unit's page (organisation) shows the unit's annual agreements and its line of sight; a goal's
page (strategy) shows the initiatives linked to it. Those pages load these fragments with
``hx-get`` and show a plain link to the same URL without JavaScript, so organisation and
strategy never import agreements. Without htmx each URL answers a whole page around the
fragment (``core.http.render_panel``).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from pejling.agreements.models import AgreementState
from pejling.agreements.selectors import agreements_readable_by, line_of_sight
from pejling.core.http import HtmxHttpRequest, render_panel
from pejling.core.utils import requested_year
from pejling.organisation.models import Unit
from pejling.organisation.permissions import can_read_unpublished
from pejling.strategy.selectors import readable_elements


def unit_agreements(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """The unit's annual agreements the person may read, and the link to this year's."""
    unit = get_object_or_404(Unit, code=code)
    year = requested_year(request)
    agreements = list(agreements_readable_by(request.user).filter(unit=unit).order_by("-year"))
    context = {"unit": unit, "year": year, "agreements": agreements}
    title = _("Annual agreements") + f" – {unit.name}"
    return render_panel(request, "agreements/_unit_agreements.html", title, context)


def unit_sight(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """The line of sight from the unit's work to the strategy."""
    unit = get_object_or_404(Unit, code=code)
    year = requested_year(request)
    sight = line_of_sight(user=request.user, year=year, unit=unit)
    context = {"unit": unit, "year": year, "sight": sight}
    title = _("Line of sight") + f" – {unit.name}"
    return render_panel(request, "agreements/_line_of_sight.html", title, context)


def goal_initiatives(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The initiatives linked to a goal, of agreements the person may read."""
    element = get_object_or_404(readable_elements(request.user), pk=pk)
    linked = (
        element.initiatives.filter(agreement__in=agreements_readable_by(request.user))
        .select_related("agreement__unit", "status_reported_by")
        .order_by("agreement__year", "agreement__unit__path")
    )
    # An agreement may be readable only through its last published version (during a
    # revision): its live initiatives are then drafts, not for this reader.
    links = [
        i
        for i in linked
        if i.agreement.state == AgreementState.PUBLISHED
        or can_read_unpublished(request.user, i.agreement.unit)
    ]
    context = {"element": element, "initiatives": links}
    title = _("Initiatives linked to it") + f" – {element.title}"
    return render_panel(request, "agreements/_goal_initiatives.html", title, context)
