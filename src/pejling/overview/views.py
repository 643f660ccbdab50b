"""Pages that read many apps: the home page (what is my part of the whole?), the executive
dashboard and the compliance matrix. The selectors they call stay in their own apps
(``line_of_sight`` in agreements, ``compliance_matrix`` and the evaluations in followup)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pejling.agreements.selectors import light_counts, line_of_sight, unit_statuses_by_attention
from pejling.core.generation import cached
from pejling.core.paging import page_of, pager_query
from pejling.core.utils import int_param, requested_year
from pejling.followup.evaluation import readable_evaluations
from pejling.followup.selectors import (
    ComplianceByAttention,
    compliance_matrix,
    overdue_agreements,
    overdue_reports,
)
from pejling.organisation.models import Unit, UnitLevel
from pejling.organisation.permissions import can_see_overview, compliance_subtrees
from pejling.overview.inbox import inbox, my_units
from pejling.portfolio import permissions as portfolio_permissions
from pejling.strategy.goal_status import status_counts
from pejling.strategy.models import AgreementRule, Element, Strategy
from pejling.strategy.selectors import readable_strategies

# The dashboard's tables of units show this many rows a page, those that need attention first.
DASHBOARD_ROWS = 10


def _require_overview(request: HttpRequest) -> None:
    if not can_see_overview(request.user):
        raise PermissionDenied


def home(request: HttpRequest) -> HttpResponse:
    """The person's start page: what waits for me (``overview/inbox.py``), my units and their
    state, then my part of the whole (the line of sight from my unit's work to the strategy)."""
    year = requested_year(request)
    today = timezone.localdate()
    sight = line_of_sight(user=request.user, year=year)
    context = {
        "sight": sight,
        "year": year,
        "today": today,
        "inbox": inbox(request.user, year=year, today=today),
        "my_units": my_units(request.user, year=year, today=today),
        "can_overview": can_see_overview(request.user),
        "cycle_url": reverse("followup:cycle") + f"?year={year}",
    }
    return render(request, "overview/home.html", context)


def dashboard(request: HttpRequest) -> HttpResponse:
    """The executive board's page: every goal's status by theme, compliance, what is overdue.

    Its figures (all but the page's frame) are rendered once per data generation
    (``core/generation.py``: raised by every write of what they are made of) and kept in the
    shared cache, under what else they depend on: the address (year and filters), the day, the
    language and the strategies the reader may read."""
    _require_overview(request)
    today = timezone.localdate()
    readable = sorted(readable_strategies(request.user).values_list("pk", flat=True))
    figures = cached(
        (
            "overview:dashboard",
            request.path,
            urlencode(sorted(request.GET.lists()), doseq=True),
            today.isoformat(),
            get_language(),
            ",".join(map(str, readable)),
        ),
        lambda: render_to_string(
            "overview/_dashboard_figures.html",
            _dashboard_figures(request, today=today),
            request,
        ),
    )
    context = {
        "figures": figures,
        "show_portfolio": portfolio_permissions.sees_everything(request.user),
    }
    return render(request, "overview/dashboard.html", context)


def _dashboard_figures(request: HttpRequest, *, today: date) -> dict[str, Any]:
    year = requested_year(request)
    within = Unit.objects.filter(code=request.GET.get("unit", "")).first()
    theme_id = int_param(request.GET.get("theme"))
    evaluations = readable_evaluations(request.user, year=year, today=today)
    groups: dict[int, tuple[Element | None, list]] = {}
    for evaluation in evaluations:
        theme = evaluation.goal.parent
        if theme_id and (theme is None or theme.pk != theme_id):
            continue
        key = theme.pk if theme else 0
        groups.setdefault(key, (theme, []))[1].append(evaluation)
    rule = (
        AgreementRule.objects.filter(
            active=True, strategy__start_year__lte=year, strategy__end_year__gte=year
        )
        .select_related("strategy", "unit_level")
        .first()
    )
    levels = list(UnitLevel.objects.all())
    level = next(
        (lv for lv in levels if lv.pk == int_param(request.GET.get("level"))),
        rule.unit_level if rule else None,
    )
    strategy = (
        rule.strategy
        if rule
        else Strategy.objects.filter(start_year__lte=year, end_year__gte=year).first()
    )
    matrix = ComplianceByAttention(
        year=year,
        strategy=strategy,
        level=level,
        within=within,
        columns_filter=[theme_id] if theme_id else None,
    )
    themes = (
        list(Element.objects.filter(strategy=strategy, parent__isnull=True)) if strategy else []
    )
    counts = status_counts(e.status for e in evaluations)
    level_units = Unit.objects.filter(closed_on__isnull=True).order_by("path")
    if level is not None:
        level_units = level_units.filter(level=level)
    if within is not None:
        level_units = level_units.filter(within.subtree_q())
    unit_status = unit_statuses_by_attention(year=year, units=level_units)
    return {
        "year": year,
        "within": within,
        "groups": list(groups.values()),
        "counts": counts,
        "matrix": matrix,
        "matrix_page": page_of(request, matrix, size=DASHBOARD_ROWS, param="compliance_page"),
        "matrix_query": pager_query(request.GET, "compliance_page"),
        "levels": levels,
        "level": level,
        "themes": themes,
        "theme_id": theme_id,
        "late_agreements": [
            o for o in overdue_agreements(year=year, today=today, within=within) if o.units
        ],
        "late_reports": [
            o for o in overdue_reports(year=year, today=today, within=within) if o.units
        ],
        "unit_status": unit_status,
        "unit_lights": light_counts(unit_status),
        "unit_page": page_of(request, unit_status, size=DASHBOARD_ROWS, param="initiatives_page"),
        "unit_query": pager_query(request.GET, "initiatives_page"),
    }


def compliance(request: HttpRequest) -> HttpResponse:
    """The matrix of units × themes, with filters: every unit for the strategy office and the
    executive board, a unit head's own subtree for her (``compliance_subtrees``)."""
    subtrees = compliance_subtrees(request.user)
    if subtrees == []:
        raise PermissionDenied(
            _(
                "The compliance matrix is for the strategy office, the executive board and the "
                "heads of units (for their own units)."
            )
        )
    year = requested_year(request)
    strategies = list(Strategy.objects.filter(start_year__lte=year, end_year__gte=year))
    strategy = next((s for s in strategies if s.pk == int_param(request.GET.get("strategy"))), None)
    rule = (
        AgreementRule.objects.filter(active=True, strategy__in=strategies)
        .select_related("strategy", "unit_level")
        .first()
    )
    strategy = strategy or (rule.strategy if rule else (strategies[0] if strategies else None))
    levels = list(UnitLevel.objects.all())
    level = next(
        (lv for lv in levels if lv.pk == int_param(request.GET.get("level"))),
        rule.unit_level if rule else None,
    )
    within = Unit.objects.select_related("level").filter(code=request.GET.get("unit", "")).first()
    if subtrees is not None and not (
        within and any(within.path.startswith(top.path) for top in subtrees)
    ):
        within = subtrees[0]
    if subtrees is not None and within is not None and level is not None:
        # A head's own units: a level above (or at) her unit would show nothing; take the
        # level just below it (or her unit's own when it has none below).
        own_depth = within.level.depth
        if level.depth <= own_depth and int_param(request.GET.get("level")) is None:
            below = [lv for lv in levels if lv.depth > own_depth]
            level = min(below, key=lambda lv: lv.depth) if below else within.level
    matrix = compliance_matrix(year=year, strategy=strategy, level=level, within=within)
    only_gaps = request.GET.get("gaps") == "1"
    rows = [r for r in matrix.rows if not r.complete] if only_gaps else matrix.rows
    context = {
        "year": year,
        "matrix": matrix,
        "rows": rows,
        "strategies": strategies,
        "strategy": strategy,
        "levels": levels,
        "level": level,
        "only_gaps": only_gaps,
        "within": within,
    }
    return render(request, "overview/compliance.html", context)
