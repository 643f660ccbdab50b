"""The web's Vega-Lite charts, drawn for print: SVG (vector) for the PDF, PNG for Word, with
numbers and dates in the document's language."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

import vl_convert

# d3's number formats (decimal mark, thousands separator) and its time-format locales.
NUMBER_LOCALES: dict[str, dict[str, Any]] = {
    "sv": {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", " kr"]},
    "da": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " kr."]},
    "nb": {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", " kr"]},
    "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["£", ""]},
}
TIME_LOCALES: dict[str, Any] = {"sv": "sv-SE", "da": "da-DK", "nb": "nb-NO", "en": "en-GB"}


def _print_spec(spec: dict[str, Any]) -> str:
    printed = copy.deepcopy(spec)
    config = printed.setdefault("config", {})
    config["font"] = "Noto Sans"
    config["background"] = "white"
    printed["width"] = 620
    return json.dumps(printed, sort_keys=True, default=str)


@lru_cache(maxsize=128)
def _svg(spec_json: str, language: str) -> str:
    return str(
        vl_convert.vegalite_to_svg(
            json.loads(spec_json),
            format_locale=NUMBER_LOCALES.get(language, NUMBER_LOCALES["en"]),
            time_format_locale=TIME_LOCALES.get(language, "en-GB"),
        )
    )


@lru_cache(maxsize=128)
def _png(spec_json: str, language: str) -> bytes:
    return bytes(
        vl_convert.vegalite_to_png(
            json.loads(spec_json),
            scale=2,
            format_locale=NUMBER_LOCALES.get(language, NUMBER_LOCALES["en"]),
            time_format_locale=TIME_LOCALES.get(language, "en-GB"),
        )
    )


def chart_svg(spec: dict[str, Any], language: str) -> str:
    return _svg(_print_spec(spec), language)


def chart_png(spec: dict[str, Any], language: str) -> bytes:
    return _png(_print_spec(spec), language)
