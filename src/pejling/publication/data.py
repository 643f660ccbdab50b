"""Open data under ``/open/data/``: the public site's content as JSON and CSV, and the
datasets the DCAT-AP catalogue describes (``catalog.py``). Every file is built from
``publication.selectors``, like the pages. The scheme is documented in docs/open-data.md.

CSV: RFC 4180, comma-separated, UTF-8, a header row of stable English names, numbers with a
decimal point, dates as ISO 8601; a text cell that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from pejling.publication import selectors
from pejling.publication.web import data_view

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Distribution:
    filename: str
    format: str  # JSON or CSV (the EU file-type authority's code)
    title: Any

    @property
    def media_type(self) -> str:
        return "application/json" if self.format == "JSON" else "text/csv"


@dataclass(frozen=True)
class Dataset:
    key: str
    title: Any
    description: Any
    keywords: Any  # a translated, comma-separated list
    landing: str  # the public page's URL name
    distributions: tuple[Distribution, ...]


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "strategies",
        _("Strategies"),
        _(
            "The organisation's published strategies as a cascade: future narrative, bearings, "
            "themes and goals, with each goal's baseline and target."
        ),
        _("strategy, goals, governance"),
        "home",
        (
            Distribution("strategies.json", "JSON", _("Strategies and their elements (JSON)")),
            Distribution("strategy-elements.csv", "CSV", _("Elements of the strategies (CSV)")),
        ),
    ),
    Dataset(
        "goals",
        _("Goals and how they stand"),
        _(
            "Every goal of the strategies in force: its status, value, baseline and target, "
            "and its values per period."
        ),
        _("goals, follow-up, key figures"),
        "home",
        (
            Distribution("goals.json", "JSON", _("Goals with values per period (JSON)")),
            Distribution("goals.csv", "CSV", _("Goals and their status (CSV)")),
            Distribution("goal-values.csv", "CSV", _("Goal values per period (CSV)")),
        ),
    ),
    Dataset(
        "indicators",
        _("Indicators"),
        _("The published indicators (key figures) and their series for the whole organisation."),
        _("indicators, key figures, statistics"),
        "indicator_list",
        (
            Distribution("indicators.json", "JSON", _("Indicators and their series (JSON)")),
            Distribution("indicators.csv", "CSV", _("Indicators (CSV)")),
            Distribution("indicator-values.csv", "CSV", _("Indicator values per period (CSV)")),
        ),
    ),
    Dataset(
        "agreements",
        _("Annual agreements and initiatives"),
        _(
            "The published annual agreements of the organisation's units and their "
            "initiatives, with the goals each initiative serves."
        ),
        _("annual agreements, initiatives, activity plans"),
        "agreement_list",
        (
            Distribution("agreements.json", "JSON", _("Annual agreements with initiatives (JSON)")),
            Distribution("agreements.csv", "CSV", _("Annual agreements (CSV)")),
            Distribution("initiatives.csv", "CSV", _("Initiatives (CSV)")),
        ),
    ),
)


# Content --------------------------------------------------------------------------------------


def _number(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def strategies_content() -> list[dict[str, Any]]:
    strategies = list(selectors.public_strategies())
    result = []
    for strategy in strategies:
        levels = {lv.pk: lv for lv in strategy.levels.all()}
        elements = []
        codes = {e.pk: e.code for e in strategy.elements.all()}
        for e in strategy.elements.all().order_by("level__depth", "position", "code"):
            elements.append(
                {
                    "code": e.code,
                    "parent": codes.get(e.parent_id) if e.parent_id else None,
                    "level": levels[e.level_id].name if e.level_id in levels else "",
                    "is_goal": bool(levels[e.level_id].holds_goals)
                    if e.level_id in levels
                    else False,
                    "title": e.title,
                    "description": e.description,
                    "measured_as": e.measure_kind or None,
                    "baseline": _number(e.baseline_value),
                    "baseline_date": e.baseline_date.isoformat() if e.baseline_date else None,
                    "target": _number(e.target_value),
                    "target_text": e.target_text,
                    "target_date": e.target_date.isoformat() if e.target_date else None,
                    "unit_of_measure": e.measure_unit,
                    "source": e.source,
                }
            )
        result.append(
            {
                "code": strategy.code,
                "title": strategy.title,
                "summary": strategy.summary,
                "first_year": strategy.start_year,
                "last_year": strategy.end_year,
                "status": strategy.status,
                "serves": strategy.parent.code
                if strategy.parent is not None and strategy.parent in strategies
                else None,
                "elements": elements,
            }
        )
    return result


def goals_content() -> list[dict[str, Any]]:
    """Every goal of the public strategies in force, judged for its strategy's year."""
    strategies = list(selectors.public_strategies())
    by_year: dict[int, list[Any]] = {}
    for strategy in strategies:
        by_year.setdefault(selectors.year_for(strategy), []).append(strategy)
    evaluations: dict[int, selectors.PublicEvaluation] = {}
    for year, group in by_year.items():
        evaluations |= selectors.goal_evaluations(group, year)
    result = []
    for goal in selectors.public_goals(strategies):
        evaluation = evaluations.get(goal.pk) or selectors.unmeasured(goal)
        result.append({**evaluation.as_dict(), "year": selectors.year_for(goal.strategy)})
    return result


def indicators_content() -> list[dict[str, Any]]:
    result = []
    for indicator in selectors.public_indicators():
        points = selectors.indicator_series(indicator)
        result.append(
            {
                "code": indicator.code,
                "name": indicator.name,
                "description": indicator.description,
                "unit_of_measure": str(indicator.get_measure_unit_display()),
                "direction": indicator.direction,
                "periodicity": indicator.periodicity,
                "source": indicator.source,
                "values": [
                    {
                        "period": p.period,
                        "period_start": p.period_start.isoformat(),
                        "value": float(p.value),
                    }
                    for p in points
                ],
            }
        )
    return result


def agreements_content() -> list[dict[str, Any]]:
    return [a.as_dict() for a in selectors.published_agreements()]


# Answers --------------------------------------------------------------------------------------


def _json(content: Any) -> HttpResponse:
    body = json.dumps(content, ensure_ascii=False, indent=1, sort_keys=False)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8; header=present")


def _strategy_elements_csv() -> HttpResponse:
    headers = [
        "strategy",
        "code",
        "parent",
        "level",
        "is_goal",
        "title",
        "description",
        "measured_as",
        "baseline",
        "baseline_date",
        "target",
        "target_text",
        "target_date",
        "unit_of_measure",
    ]
    return _csv(
        headers,
        (
            [s["code"], *[e[h] for h in headers[1:]]]
            for s in strategies_content()
            for e in s["elements"]
        ),
    )


def _goals_csv() -> HttpResponse:
    headers = [
        "strategy",
        "code",
        "title",
        "year",
        "measured_as",
        "status",
        "status_label",
        "value",
        "latest_period",
        "baseline",
        "baseline_date",
        "target",
        "target_text",
        "target_date",
        "unit_of_measure",
        "indicator",
        "reason",
    ]
    return _csv(headers, ([g[h] for h in headers] for g in goals_content()))


def _goal_values_csv() -> HttpResponse:
    return _csv(
        ["strategy", "goal", "period", "value"],
        (
            [g["strategy"], g["code"], v["period"], v["value"]]
            for g in goals_content()
            for v in g["values"]
        ),
    )


def _indicators_csv() -> HttpResponse:
    headers = [
        "code",
        "name",
        "description",
        "unit_of_measure",
        "direction",
        "periodicity",
        "source",
    ]
    return _csv(headers, ([i[h] for h in headers] for i in indicators_content()))


def _indicator_values_csv() -> HttpResponse:
    return _csv(
        ["indicator", "period", "period_start", "value"],
        (
            [i["code"], v["period"], v["period_start"], v["value"]]
            for i in indicators_content()
            for v in i["values"]
        ),
    )


def _agreements_csv() -> HttpResponse:
    return _csv(
        [
            "unit",
            "unit_name",
            "year",
            "state",
            "version",
            "agreed_at",
            "published_at",
            "initiatives",
            "summary",
        ],
        (
            [
                a["unit"],
                a["unit_name"],
                a["year"],
                a["state"],
                a["version"],
                a["agreed_at"],
                a["published_at"],
                len(a["initiatives"]),
                a["summary"],
            ]
            for a in agreements_content()
        ),
    )


def _initiatives_csv() -> HttpResponse:
    return _csv(
        [
            "unit",
            "year",
            "title",
            "description",
            "status",
            "start_date",
            "end_date",
            "owner",
            "goals",
        ],
        (
            [
                a["unit"],
                a["year"],
                i["title"],
                i["description"],
                i["status"],
                i["start_date"],
                i["end_date"],
                i["owner"],
                " ".join(f"{g['strategy']}/{g['code']}" for g in i["goals"]),
            ]
            for a in agreements_content()
            for i in a["initiatives"]
        ),
    )


FILES: dict[str, Callable[[], HttpResponse]] = {
    "strategies.json": lambda: _json(strategies_content()),
    "strategy-elements.csv": _strategy_elements_csv,
    "goals.json": lambda: _json(goals_content()),
    "goals.csv": _goals_csv,
    "goal-values.csv": _goal_values_csv,
    "indicators.json": lambda: _json(indicators_content()),
    "indicators.csv": _indicators_csv,
    "indicator-values.csv": _indicator_values_csv,
    "agreements.json": lambda: _json(agreements_content()),
    "agreements.csv": _agreements_csv,
    "initiatives.csv": _initiatives_csv,
}


@data_view
def data_file(request: HttpRequest, filename: str) -> HttpResponse:
    from django.http import Http404

    build = FILES.get(filename)
    if build is None:
        raise Http404
    response = build()
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
