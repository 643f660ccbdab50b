"""The public site's pages: what ``publication.selectors`` says is public, nothing else.

URLs by codes, stable over years: ``/open/<lang>/strategies/<strategy>/<element>/``,
``/open/<lang>/agreements/<year>/<unit>/``, ``/open/<lang>/indicators/<code>/``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _

from pejling.publication import selectors
from pejling.publication.accessibility import statement
from pejling.publication.web import (
    LANGUAGES,
    PREVIEW,
    guard,
    namespace_of,
    not_found,
    public_page,
)

SEARCH_MIN, SEARCH_MAX = 2, 100


def _this_year() -> int:
    return timezone.localdate().year


def _language(request: HttpRequest) -> str:
    lang = translation.get_language_from_request(request)
    return lang if lang in LANGUAGES else settings.LANGUAGE_CODE


def _redirect(request: HttpRequest, name: str) -> HttpResponse:
    namespace = namespace_of(request)
    response = HttpResponseRedirect(
        reverse(f"{namespace}:{name}", kwargs={"lang": _language(request)})
    )
    if namespace == PREVIEW:
        patch_cache_control(response, private=True, no_store=True)
    else:
        patch_cache_control(response, public=True, max_age=settings.PEJLING_PUBLIC_MAX_AGE)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


@login_not_required
def root(request: HttpRequest) -> HttpResponse:
    """``/open/``: the start page in the reader's language."""
    try:
        refused = guard(request)
    except Http404:
        return not_found(request)
    return refused if isinstance(refused, HttpResponse) else _redirect(request, "home")


@login_not_required
def accessibility_root(request: HttpRequest) -> HttpResponse:
    """``/open/accessibility/``: the statement in the reader's language (never switched off)."""
    refused = guard(request, always=True)
    return refused if isinstance(refused, HttpResponse) else _redirect(request, "accessibility")


@public_page()
def home(request: HttpRequest, lang: str) -> tuple[str, dict[str, Any]]:
    year = _this_year()
    strategies = selectors.public_strategies_in_force(year)
    goals = list(selectors.public_goals(strategies))
    evaluations = selectors.goal_evaluations(strategies, year)
    by_strategy: dict[int, list[Any]] = {}
    for goal in goals:
        by_strategy.setdefault(goal.strategy_id, []).append(
            evaluations.get(goal.pk) or selectors.unmeasured(goal)
        )
    entries = [
        {"entry": e, "goals": by_strategy.get(e.strategy.pk, [])}
        for e in selectors.cascade(strategies)
    ]
    return "publication/home.html", {
        "year": year,
        "entries": entries,
        "agreement_years": selectors.agreement_years()[:1],
        "page_title": _("Strategies and goals"),
    }


@public_page()
def strategy_detail(request: HttpRequest, lang: str, code: str) -> tuple[str, dict[str, Any]]:
    strategy = selectors.public_strategy(code)
    if strategy is None:
        raise Http404
    year = selectors.year_for(strategy)
    evaluations = selectors.goal_evaluations([strategy], year)
    return "publication/strategy.html", {
        "strategy": strategy,
        "parent": selectors.public_parent(strategy),
        "children": selectors.public_children(strategy),
        "levels": selectors.levels_of(strategy),
        "tree": selectors.element_tree(strategy),
        "evaluations": evaluations,
        "year": year,
        "page_title": strategy.title,
    }


@public_page()
def element_detail(
    request: HttpRequest, lang: str, code: str, element: str
) -> tuple[str, dict[str, Any]]:
    strategy = selectors.public_strategy(code)
    item = selectors.public_element(strategy, element) if strategy is not None else None
    if strategy is None or item is None:
        raise Http404
    context: dict[str, Any] = {
        "strategy": strategy,
        "element": item,
        "chain": selectors.element_chain(item),
        "children": list(item.children.select_related("level").order_by("position", "code")),
        "page_title": item.title,
    }
    if item.level.holds_goals:
        year = selectors.year_for(strategy)
        evaluation = selectors.goal_evaluations([strategy], year).get(item.pk)
        if evaluation is None:
            evaluation = selectors.unmeasured(item)
        context |= {
            "year": year,
            "evaluation": evaluation,
            "chart": evaluation.chart(),
            "analyses": selectors.published_analyses([item]).get(item.pk, []),
            "initiatives": [
                (a, i)
                for a in selectors.published_agreements(year=year)
                for i in a.initiatives
                if item in i.goals
            ],
        }
    return "publication/element.html", context


@public_page()
def agreement_list(
    request: HttpRequest, lang: str, year: int | None = None
) -> tuple[str, dict[str, Any]]:
    years = selectors.agreement_years()
    if year is None:
        year = years[0] if years else _this_year()
    elif year not in years:
        raise Http404
    tree = selectors.agreement_tree(year)
    return "publication/agreements.html", {
        "year": year,
        "years": years,
        "tree": tree,
        "count": sum(1 for _a in selectors.published_agreements(year=year)),
        "page_title": _("Annual agreements %(year)s") % {"year": year},
    }


@public_page()
def agreement_detail(
    request: HttpRequest, lang: str, year: int, unit: str
) -> tuple[str, dict[str, Any]]:
    where = selectors.public_unit(unit)
    agreements = selectors.published_agreements(year=year, unit=where) if where else []
    if not agreements:
        raise Http404
    agreement = agreements[0]
    return "publication/agreement.html", {
        "agreement": agreement,
        "page_title": _("Annual agreement %(year)s: %(unit)s")
        % {"year": year, "unit": agreement.unit.name},
    }


@public_page()
def indicator_list(request: HttpRequest, lang: str) -> tuple[str, dict[str, Any]]:
    return "publication/indicators.html", {
        "indicators": list(selectors.public_indicators()),
        "page_title": _("Indicators"),
    }


@public_page()
def indicator_detail(request: HttpRequest, lang: str, code: str) -> tuple[str, dict[str, Any]]:
    indicator = selectors.public_indicator(code)
    if indicator is None:
        raise Http404
    points = selectors.indicator_series(indicator)
    return "publication/indicator.html", {
        "indicator": indicator,
        "points": points,
        "chart": selectors.indicator_chart(indicator, points) if points else None,
        "page_title": indicator.name,
    }


@public_page()
def search(request: HttpRequest, lang: str) -> tuple[str, dict[str, Any]]:
    query = request.GET.get("q", "").strip()
    problem = ""
    results = None
    if query and len(query) < SEARCH_MIN:
        problem = _("Write at least %(n)s characters.") % {"n": SEARCH_MIN}
    elif len(query) > SEARCH_MAX:
        problem = _("Write at most %(n)s characters.") % {"n": SEARCH_MAX}
    elif query:
        years = selectors.agreement_years()
        results = selectors.search(query, year=years[0] if years else None)
    return "publication/search.html", {
        "query": query,
        "problem": problem,
        "results": results,
        "page_title": _("Search"),
    }


@public_page()
def open_data(request: HttpRequest, lang: str) -> tuple[str, dict[str, Any]]:
    from pejling.publication.data import DATASETS

    return "publication/open_data.html", {
        "datasets": DATASETS,
        "page_title": _("Open data"),
    }


@public_page(always=True)
def accessibility(request: HttpRequest, lang: str) -> tuple[str, dict[str, Any]]:
    row = selectors.publication_settings()
    return "publication/accessibility.html", {
        "statement": statement(row),
        "page_title": _("Accessibility statement"),
    }
