"""The annual agreements list: filters, the agreement deadline of each unit's level, pages and
downloads.

It lives in overview (it reads agreements and the annual cycle's deadlines in followup) and keeps
its address and name, ``/agreements/`` and ``agreements:agreement_list``: config/urls.py mounts
``agreements_urlpatterns`` in the ``agreements`` namespace together with the agreements' own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page
from django.db.models import (
    Case,
    Count,
    DateField,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from pejling.agreements.models import Agreement, AgreementState, Initiative
from pejling.agreements.selectors import agreements_readable_by, waits_for
from pejling.core.export import Table, download_links, requested_format, table_download
from pejling.core.paging import page_of, pager_query
from pejling.core.utils import requested_year
from pejling.followup.models import Deadline, DeadlineKind
from pejling.organisation.models import Unit, UnitLevel

PAGE_SIZE = 50
SORTS = ("deadline", "unit", "updated")


@dataclass
class Filters:
    year: int
    state: str
    level: UnitLevel | None
    within: Unit | None
    mine: bool
    sort: str

    def query(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "state": self.state,
            "level": self.level.pk if self.level else "",
            "unit": self.within.code if self.within else "",
            "mine": "1" if self.mine else "",
            "sort": self.sort,
        }


def _filters(request: HttpRequest, levels: list[UnitLevel]) -> Filters:
    level_id = request.GET.get("level", "")
    state = request.GET.get("state", "")
    sort = request.GET.get("sort", "deadline")
    code = request.GET.get("unit", "").strip()
    return Filters(
        year=requested_year(request),
        state=state if state in AgreementState.values else "",
        level=next((lv for lv in levels if str(lv.pk) == level_id), None),
        within=Unit.objects.filter(code=code).first() if code else None,
        mine=request.GET.get("mine") == "1",
        sort=sort if sort in SORTS else "deadline",
    )


def listing(user: Any, filters: Filters) -> QuerySet[Agreement] | list[Agreement]:
    """The agreements ``user`` may see, filtered and sorted; each with ``deadline`` (the
    agreement deadline of its unit's level, if the annual cycle has one) and ``n_initiatives``."""
    # The first agreement deadline of each level, read once (a few levels), written into the
    # query as a CASE on the unit's level: not a subquery run for every agreement of the year.
    firsts = (
        Deadline.objects.filter(
            year=filters.year, kind=DeadlineKind.AGREEMENT, unit_level__isnull=False
        )
        .values("unit_level_id")
        .annotate(first=Min("due_date"))
        .order_by()
    )
    deadline = Case(
        *(When(unit__level_id=row["unit_level_id"], then=Value(row["first"])) for row in firsts),
        default=Value(None),
        output_field=DateField(),
    )
    # Both figures as subqueries, no join and no GROUP BY: the database counts the agreements
    # without them and works them out only for the page's rows (and sorts by the deadline).
    initiatives = (
        Initiative.objects.filter(agreement=OuterRef("pk"))
        .order_by()
        .values("agreement")
        .annotate(n=Count("pk"))
        .values("n")
    )
    agreements = (
        agreements_readable_by(user)
        .filter(year=filters.year)
        .select_related("unit", "unit__level", "submitted_by")
        .annotate(
            deadline=deadline,
            n_initiatives=Coalesce(Subquery(initiatives), 0),
        )
    )
    if filters.state:
        agreements = agreements.filter(state=filters.state)
    if filters.level is not None:
        agreements = agreements.filter(unit__level=filters.level)
    if filters.within is not None:
        agreements = agreements.filter(unit__path__startswith=filters.within.path)
    order = {
        "deadline": ("deadline", "unit__path"),
        "unit": ("unit__path",),
        "updated": ("-updated_at", "unit__path"),
    }[filters.sort]
    agreements = agreements.order_by(*order)
    if filters.mine:
        # Waiting for me: a submitted agreement I may agree or return (the workflow decides).
        submitted = agreements.filter(state=AgreementState.SUBMITTED)
        return [a for a in submitted if waits_for(user, a)]
    return agreements


def _table(agreements: Any, year: int) -> Table:
    return Table(
        title=_("Annual agreements %(year)s") % {"year": year},
        headers=[
            _("Unit"),
            _("Unit code"),
            _("Level"),
            _("State"),
            _("Deadline"),
            _("Initiatives"),
            _("Updated"),
        ],
        rows=(
            [
                a.unit.name,
                a.unit.code,
                a.unit.level.name if a.unit.level else "",
                str(a.get_state_display()),
                a.deadline,
                a.n_initiatives,
                a.updated_at.date(),
            ]
            for a in agreements
        ),
    )


def agreement_list(request: HttpRequest) -> HttpResponse:
    levels = list(UnitLevel.objects.all())
    filters = _filters(request, levels)
    agreements = listing(request.user, filters)
    if requested_format(request):
        return table_download(request, _table(agreements, filters.year))
    page: Page = page_of(request, agreements, size=PAGE_SIZE)
    return render(
        request,
        "agreements/agreement_list.html",
        {
            "page": page,
            "agreements": page.object_list,
            "filters": filters,
            "year": filters.year,
            "state": filters.state,
            "states": AgreementState.choices,
            "levels": levels,
            "sorts": [
                ("deadline", _("Deadline")),
                ("unit", _("Unit")),
                ("updated", _("Last updated")),
            ],
            "page_query": pager_query(filters.query()),
            "downloads": download_links(request),
        },
    )
