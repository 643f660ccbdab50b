"""One chart definition (a Vega-Lite specification) rendered on the server to SVG.

The same specification serves the web page and printed reports: no JavaScript, nothing inline
that a strict Content-Security-Policy would block. Every chart comes with a title, a
description and a data table (see the ``indicators/_chart.html`` template).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import vl_convert
from django.core.cache import cache
from django.utils.translation import get_language, gettext

from pejling.core.caching import cache_key
from pejling.indicators.completeness import PeriodCompleteness
from pejling.indicators.evaluation import Evaluation
from pejling.indicators.rollups import Point

CHART_CACHE_SECONDS = 7 * 24 * 3600

COLORS = {
    "value": "#1e5aa8",
    "trend": "#6b4fa1",
    "target": "#0f7a3a",
    "baseline": "#555555",
    "band": "#c9b8e8",
    "incomplete": "#b35900",
}


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    spec: dict[str, Any]
    rows: list[tuple[str, str]]  # data table: (period, value)
    # period → why it is marked (an incomplete period: "values from 3 of 12 units")
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def svg(self) -> str:
        """The chart in the active language: its numbers' separators, months and dates.

        Cached by content (the specification with its data, and the language) in the shared
        cache: the same figures are drawn once for every reader and every server process, and
        new figures make a new key, so nothing needs invalidating."""
        spec_json = json.dumps(self.spec, sort_keys=True, default=str)
        language = get_language() or "en"
        key = cache_key("chart-svg", language, spec_json)
        svg = cache.get(key)
        if svg is None:
            svg = render_svg(spec_json, language)
            cache.set(key, svg, timeout=CHART_CACHE_SECONDS)
        return str(svg)


# Vega's number format (d3-format) and time format (d3-time-format) locales per UI language:
# "1 800,5" and "maj" in Swedish, "1.800,5" and "maj" in Danish, "1 800,5" and "mai" in Bokmål.
NBSP = "\u00a0"
FORMAT_LOCALES: dict[str, dict[str, Any]] = {
    "sv": {"decimal": ",", "thousands": NBSP, "grouping": [3], "currency": ["", f"{NBSP}kr"]},
    "da": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", f"{NBSP}kr."]},
    "nb": {"decimal": ",", "thousands": NBSP, "grouping": [3], "currency": ["kr ", ""]},
    "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["", ""]},
}
TIME_FORMAT_LOCALES: dict[str, Any] = {"sv": "sv-SE", "da": "da-DK", "nb": "nb-NO", "en": "en-GB"}


@lru_cache(maxsize=256)
def render_svg(spec_json: str, language: str = "en") -> str:
    language = language.split("-")[0] if language.split("-")[0] in FORMAT_LOCALES else "en"
    svg: str = vl_convert.vegalite_to_svg(
        json.loads(spec_json),
        format_locale=FORMAT_LOCALES[language],
        time_format_locale=TIME_FORMAT_LOCALES[language],
    )
    # The chart is decorative for assistive technology: the figure's caption and table carry it.
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)


def _base(title: str, unit_label: str) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": 560,
        "height": 240,
        "title": {"text": title, "anchor": "start", "fontSize": 14},
        "config": {
            "font": "DejaVu Sans",
            "axis": {"labelFontSize": 11, "titleFontSize": 12},
            "view": {"stroke": None},
        },
        "encoding": {"y": {"title": unit_label}},
    }


def incomplete_notes(incomplete: dict[str, PeriodCompleteness]) -> dict[str, str]:
    """The data table's note for each incomplete period."""
    return {
        period: gettext("Incomplete: values from %(reported)s of %(expected)s units")
        % {"reported": c.reported, "expected": c.expected}
        for period, c in incomplete.items()
    }


def _incomplete_layers(
    points: list[Point], incomplete: dict[str, PeriodCompleteness], x: Any, y: Any
) -> list[dict[str, Any]]:
    """Incomplete periods are not drawn as a cliff: the line to them is dashed, they get a
    hollow orange triangle and the count of units with values ("3/12") above it."""
    if not incomplete:
        return []
    marked = [
        {
            "date": p.period_start.isoformat(),
            "value": float(p.value),
            "label": f"{incomplete[p.period].reported}/{incomplete[p.period].expected}",
        }
        for p in points
        if p.period in incomplete
    ]
    return [
        {
            "mark": {
                "type": "point",
                "shape": "triangle-down",
                "size": 110,
                "filled": False,
                "strokeWidth": 2,
                "color": COLORS["incomplete"],
            },
            "data": {"values": marked},
            "encoding": {"x": x, "y": y},
        },
        {
            "mark": {
                "type": "text",
                "dy": -14,
                "align": "right",
                "dx": 4,
                "fontSize": 11,
                "fontWeight": "bold",
                "color": COLORS["incomplete"],
            },
            "data": {"values": marked},
            "encoding": {"x": x, "y": y, "text": {"field": "label"}},
        },
    ]


def _axes(unit_label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The time axis and the value axis of every chart."""
    x = {"field": "date", "type": "temporal", "title": None}
    y = {"field": "value", "type": "quantitative", "title": unit_label, "scale": {"zero": False}}
    return x, y


def _layered(
    title: str,
    description: str,
    unit_label: str,
    layers: list[dict[str, Any]],
    points: list[Point],
    incomplete: dict[str, PeriodCompleteness],
) -> Chart:
    """A chart of ``layers``: its data table a row a point, a note a period not complete."""
    spec = _base(title, unit_label) | {"layer": layers}
    rows = [(p.period, str(p.value)) for p in points]
    return Chart(title, description, spec, rows, incomplete_notes(incomplete))


def series_chart(
    *,
    title: str,
    description: str,
    points: list[Point],
    unit_label: str,
    incomplete: dict[str, PeriodCompleteness] | None = None,
) -> Chart:
    incomplete = {p: c for p, c in (incomplete or {}).items() if not c.complete}
    x, y = _axes(unit_label)
    values = [
        {"date": p.period_start.isoformat(), "period": p.period, "value": float(p.value)}
        for p in points
    ]
    if not incomplete:
        spec = _base(title, unit_label) | {
            "data": {"values": values},
            "mark": {"type": "line", "point": True, "color": COLORS["value"]},
            "encoding": {"x": x, "y": y},
        }
        return Chart(title, description, spec, [(p.period, str(p.value)) for p in points])
    complete = [v for v in values if v["period"] not in incomplete]
    layers = [
        {
            "data": {"values": values},
            "mark": {"type": "line", "strokeDash": [4, 4], "color": COLORS["incomplete"]},
            "encoding": {"x": x, "y": y},
        },
        {
            "data": {"values": complete},
            "mark": {"type": "line", "point": True, "color": COLORS["value"]},
            "encoding": {"x": x, "y": y},
        },
        *_incomplete_layers(points, incomplete, x, y),
    ]
    return _layered(title, description, unit_label, layers, points, incomplete)


def goal_chart(*, evaluation: Evaluation, title: str, description: str, unit_label: str) -> Chart:
    """Values, the smoothed trend, the target line, the baseline and the forecast band."""
    goal = evaluation.goal
    points = evaluation.points
    layers: list[dict[str, Any]] = []
    x, y = _axes(unit_label)
    if evaluation.forecast is not None and evaluation.smoothed:
        last_day, last_value = evaluation.smoothed[-1]
        band = [
            {
                "date": last_day.isoformat(),
                "low": last_value,
                "high": last_value,
                "value": last_value,
            },
            {
                "date": evaluation.forecast.date.isoformat(),
                "low": evaluation.forecast.low,
                "high": evaluation.forecast.high,
                "value": evaluation.forecast.value,
            },
        ]
        layers.append(
            {
                "data": {"values": band},
                "mark": {"type": "area", "color": COLORS["band"], "opacity": 0.6},
                "encoding": {
                    "x": x,
                    "y": {"field": "low", "type": "quantitative"},
                    "y2": {"field": "high"},
                },
            }
        )
        layers.append(
            {
                "data": {"values": band},
                "mark": {"type": "line", "strokeDash": [6, 4], "color": COLORS["trend"]},
                "encoding": {"x": x, "y": y},
            }
        )
    if evaluation.smoothed:
        layers.append(
            {
                "data": {
                    "values": [{"date": d.isoformat(), "value": v} for d, v in evaluation.smoothed]
                },
                "mark": {"type": "line", "color": COLORS["trend"], "strokeWidth": 2},
                "encoding": {"x": x, "y": y},
            }
        )
    incomplete = {c.period: c for c in evaluation.incomplete}
    layers.append(
        {
            "data": {
                "values": [
                    {"date": p.period_start.isoformat(), "value": float(p.value)}
                    for p in points
                    if p.period not in incomplete
                ]
            },
            "mark": {"type": "line", "point": True, "color": COLORS["value"]},
            "encoding": {"x": x, "y": y},
        }
    )
    if incomplete:
        tail = [p for p in points if p.period in incomplete]
        before = [p for p in points if p.period not in incomplete][-1:]
        layers.append(
            {
                "data": {
                    "values": [
                        {"date": p.period_start.isoformat(), "value": float(p.value)}
                        for p in before + tail
                    ]
                },
                "mark": {"type": "line", "strokeDash": [4, 4], "color": COLORS["incomplete"]},
                "encoding": {"x": x, "y": y},
            }
        )
        layers.extend(_incomplete_layers(points, incomplete, x, y))
    if evaluation.target is not None:
        layers.append(
            {
                "data": {"values": [{"value": evaluation.target}]},
                "mark": {
                    "type": "rule",
                    "color": COLORS["target"],
                    "strokeDash": [2, 2],
                    "strokeWidth": 2,
                },
                "encoding": {"y": {"field": "value", "type": "quantitative"}},
            }
        )
    if evaluation.baseline is not None and goal.baseline_date:
        layers.append(
            {
                "data": {
                    "values": [
                        {"date": goal.baseline_date.isoformat(), "value": evaluation.baseline}
                    ]
                },
                "mark": {
                    "type": "point",
                    "shape": "diamond",
                    "size": 90,
                    "filled": True,
                    "color": COLORS["baseline"],
                },
                "encoding": {"x": x, "y": y},
            }
        )
    return _layered(title, description, unit_label, layers, points, incomplete)
