"""Kolada (Sweden, RKA): municipal KPI values and metadata.

Which shapes were checked against what:

- **Recorded** (``/work/shared/fixtures/kolada``): only *metadata* from API
  v2, and only as bare ``values`` arrays without the ``count``/``next_page``
  envelope: ``GET /v2/municipality`` (312 ``{id, title, type}``) and a
  subset of ``GET /v2/kpi`` (including N00090, ``is_divided_by_gender: 1``).
  There is **no recorded data response**, neither v2 nor v3.
- **Data, v2, from the documentation** (github.com/Hypergene/kolada
  README): ``GET /v2/data/kpi/<KPI>/municipality/<ID>/year/<PERIOD>``
  answers ``{"count", "values": [{"kpi", "municipality", "period",
  "values": [{"count", "gender", "status", "value"}]}], "next_page",
  "previous_page"}``, at most 5000 items a page. ``gender`` is ``T``
  (total), ``K`` (kvinnor, women) or ``M`` (män, men; the README misprints
  it as ``F``). ``value`` may be null; ``count`` is the number of members
  behind a group average. OU data has ``ou`` instead of ``municipality``.
- **Data, v3** (api.kolada.se/v3, released 2025-04-04; v2 was to be retired
  about six months later): same paths under ``/v3`` and the same item shape;
  public client code for v3 follows ``next_url`` for paging and sees
  ``period`` as a number. This parser therefore accepts ``period`` as text or
  number and both ``next_page`` and ``next_url``.

Organisational units (OU: a school, a care home): ``GET /ou?municipality=<id>&title=<text>``
lists them (``{id, title, municipality}``, the same envelope), and
``GET /oudata/kpi/<KPI>/ou/<ids>/year/<years>`` gives their values in the ``data`` shape with
``ou`` in place of ``municipality``. No OU answer is recorded: the tests use answers
constructed in the documented shape (``tests/indicators/fixtures/README.md``).

Kolada ids: municipalities and regions are four-digit text (``0180``
Stockholm, ``0000`` Riket, ``0014`` Västra Götalandsregionen); OUs are longer
and start with a letter (``V15E144001301``: the school form, ``E``, the municipality, a
number), so the two never collide (:func:`is_kolada_ou`); KPIs look like
``N00090``. Every period is a year. Data from Kolada must be credited
"Källa: Kolada".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._http import HttpClient, Opener
from .jsonstat import load_json
from .numbers import NumberError, decimal_from_json
from .records import (
    DuplicateChecker,
    Observation,
    ParseError,
    ParseResult,
    Period,
    PeriodError,
    parse_period,
)

KOLADA_V3_BASE_URL = "https://api.kolada.se/v3"
KOLADA_V2_BASE_URL = "https://api.kolada.se/v2"
GENDERS = ("T", "K", "M")
SOURCE_CREDIT = "Källa: Kolada"


def kolada_values(payload: Any) -> list[Any]:
    """The ``values`` list of a response, or the payload itself if it is a bare list."""
    data = load_json(payload)
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping) and isinstance(data.get("values"), list):
        return list(data["values"])
    raise ValueError("A Kolada response is a list or an object with a 'values' list.")


def kolada_next_url(payload: Any) -> str | None:
    """The next page link: v2 ``next_page`` or v3 ``next_url``; None when done."""
    data = load_json(payload)
    if not isinstance(data, Mapping):
        return None
    for key in ("next_url", "next_page"):
        link = data.get(key)
        if isinstance(link, str) and link:
            return link
    return None


def _period(raw: Any) -> Period:
    if isinstance(raw, bool):
        raise PeriodError(f"{raw!r} is not a period.")
    if isinstance(raw, int):
        return parse_period(str(raw))
    if isinstance(raw, str):
        return parse_period(raw)
    raise PeriodError(f"{raw!r} is not a period.")


def _entry_key(
    item: Mapping[str, Any], row: int, errors: list[ParseError]
) -> tuple[Any, Any, Period] | None:
    """An entry's KPI, unit and period, or None (each missing field or a bad period reported)."""
    kpi = item.get("kpi")
    unit_key = "ou" if "ou" in item else "municipality"
    unit = item.get(unit_key)
    missing = [
        name
        for name, present in (("kpi", kpi), (unit_key, unit), ("period", item.get("period")))
        if present in (None, "")
    ]
    if missing:
        errors.extend(
            ParseError(row, name, "missing_value", f"The entry has no {name}.") for name in missing
        )
        return None
    try:
        period = _period(item["period"])
    except PeriodError as exc:
        errors.append(ParseError(row, "period", "unknown_period", str(exc)))
        return None
    return kpi, unit, period


def _gender_value(
    item: Mapping[str, Any],
    row: int,
    gender: str,
    where: str,
    nonnegative: bool,
    result: ParseResult,
) -> Decimal | None:
    """The entry's value for ``gender``, or None: no such value or a null is skipped, a bad
    list or number an error."""
    values = item.get("values")
    if not isinstance(values, list):
        result.errors.append(
            ParseError(row, "values", "invalid_payload", "'values' is not a list.")
        )
        return None
    chosen = next((v for v in values if isinstance(v, Mapping) and v.get("gender") == gender), None)
    if chosen is None:
        result.skipped.append(
            ParseError(row, "gender", "no_gender_value", f"No {gender!r} value for {where}.")
        )
        return None
    raw = chosen.get("value")
    if raw is None:
        status = chosen.get("status")
        result.skipped.append(
            ParseError(
                row,
                "value",
                "null_value",
                f"No value for {where}" + (f" (status {status!r})." if status else "."),
            )
        )
        return None
    try:
        value = decimal_from_json(raw)
    except NumberError:
        result.errors.append(ParseError(row, "value", "not_a_number", f"{raw!r} is not a number."))
        return None
    assert value is not None
    if nonnegative and value < 0:
        result.errors.append(
            ParseError(row, "value", "negative_count", f"{value} for {where} is negative.")
        )
        return None
    return value


def parse_kolada_data(
    payload: Any,
    *,
    gender: str = "T",
    indicator: str | None = None,
    nonnegative: bool = False,
) -> ParseResult:
    """Observations from one Kolada ``data`` (or ``oudata``) response page.

    - ``gender``: ``T`` (total, default), ``K`` or ``M``. Entries without a
      value for that gender are reported in ``skipped`` (``no_gender_value``).
    - ``indicator``: override the KPI id as the observation's indicator.
    - Null values are ``skipped`` (``null_value``, with Kolada's status), not
      errors.

    ``unit`` is the municipality (or OU) id exactly as sent. ``row`` and
    error rows are the 1-based position in the ``values`` list.
    """
    if gender not in GENDERS:
        raise ValueError(f"gender must be one of {', '.join(GENDERS)}, not {gender!r}.")
    result = ParseResult()
    try:
        items = kolada_values(payload)
    except (ValueError, json.JSONDecodeError) as exc:
        result.errors.append(ParseError(None, None, "invalid_payload", str(exc)))
        return result
    duplicates = DuplicateChecker()
    for row, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            result.errors.append(
                ParseError(row, None, "invalid_payload", "Entry is not an object.")
            )
            continue
        entry = _entry_key(item, row, result.errors)
        if entry is None:
            continue
        kpi, unit, period = entry
        value = _gender_value(item, row, gender, f"{kpi} {unit} {period}", nonnegative, result)
        if value is None:
            continue
        name = indicator or str(kpi)
        duplicate = duplicates.repeat_of_earlier(name, str(unit), period, row, "period")
        if duplicate is not None:
            result.errors.append(duplicate)
            continue
        result.observations.append(Observation(name, str(unit), period, value, row))
    return result


@dataclass(frozen=True, slots=True)
class KoladaMunicipality:
    id: str
    title: str
    type: str  # "K" kommun, "L" region (also "0000" Riket)


@dataclass(frozen=True, slots=True)
class KoladaKpi:
    id: str
    title: str
    description: str
    is_divided_by_gender: bool
    municipality_type: str
    operating_area: str
    publ_period: str | None
    publication_date: str | None


@dataclass(frozen=True, slots=True)
class KoladaOu:
    id: str
    title: str
    municipality: str


def is_kolada_ou(area: str) -> bool:
    """Whether a Kolada area id is an organisational unit (``V15E144001301``) rather than a
    municipality or region (four digits, ``0180``)."""
    return not (len(area) == 4 and area.isdigit())


def parse_kolada_ous(payload: Any) -> list[KoladaOu]:
    """``/ou`` metadata (envelope or bare list)."""
    return [
        KoladaOu(str(o["id"]), str(o.get("title", "")), str(o.get("municipality", "")))
        for o in kolada_values(payload)
        if isinstance(o, Mapping) and o.get("id")
    ]


def parse_kolada_municipalities(payload: Any) -> list[KoladaMunicipality]:
    """``/municipality`` metadata (envelope or bare list)."""
    return [
        KoladaMunicipality(str(m["id"]), str(m.get("title", "")), str(m.get("type", "")))
        for m in kolada_values(payload)
        if isinstance(m, Mapping) and "id" in m
    ]


def parse_kolada_kpis(payload: Any) -> list[KoladaKpi]:
    """``/kpi`` metadata (envelope or bare list). v2 sends 0/1 for booleans."""
    out = []
    for k in kolada_values(payload):
        if not isinstance(k, Mapping) or "id" not in k:
            continue
        publ = k.get("publ_period")
        out.append(
            KoladaKpi(
                id=str(k["id"]),
                title=str(k.get("title", "")),
                description=str(k.get("description", "")),
                is_divided_by_gender=bool(k.get("is_divided_by_gender")),
                municipality_type=str(k.get("municipality_type", "")),
                operating_area=str(k.get("operating_area", "")),
                publ_period=None if publ is None else str(publ),
                publication_date=k.get("publication_date"),
            )
        )
    return out


def _ids(value: str | Iterable[str | int]) -> str:
    if isinstance(value, str):
        return value
    return ",".join(str(v) for v in value)


class KoladaClient(HttpClient):
    """Fetches Kolada data pages and follows paging links on the same host."""

    def __init__(
        self,
        base_url: str = KOLADA_V3_BASE_URL,
        *,
        opener: Opener | None = None,
        timeout: float = 30.0,
        max_pages: int = 200,
    ) -> None:
        super().__init__(base_url, opener=opener, timeout=timeout)
        self.max_pages = max_pages

    def data_url(
        self,
        kpis: str | Iterable[str],
        municipalities: str | Iterable[str] | None = None,
        years: str | Iterable[str | int] | None = None,
        *,
        ou: bool = False,
    ) -> str:
        """``/data/kpi/<ids>[/municipality/<ids>][/year/<years>]`` (needs two of three); with
        ``ou``, ``/oudata/kpi/<ids>/ou/<OU ids>[/year/<years>]``."""
        if ou:
            if municipalities is None:
                raise ValueError("Kolada needs organisational units for OU data.")
            path = f"oudata/kpi/{_ids(kpis)}/ou/{_ids(municipalities)}"
        else:
            path = f"data/kpi/{_ids(kpis)}"
            if municipalities is not None:
                path += f"/municipality/{_ids(municipalities)}"
        if years is not None:
            path += f"/year/{_ids(years)}"
        if municipalities is None and years is None:
            raise ValueError("Kolada needs municipalities or years as well as KPIs.")
        return self.url(path)

    def pages(self, url: str) -> Iterator[Any]:
        """Decoded JSON pages, following ``next_url``/``next_page``."""
        for _ in range(self.max_pages):
            page = load_json(self.get(url))
            yield page
            next_url = kolada_next_url(page)
            if next_url is None:
                return
            url = next_url
        raise RuntimeError(f"Kolada paging did not end within {self.max_pages} pages.")

    def fetch_data(
        self,
        kpis: str | Iterable[str],
        municipalities: str | Iterable[str] | None = None,
        years: str | Iterable[str | int] | None = None,
        *,
        gender: str = "T",
        ou: bool = False,
    ) -> ParseResult:
        """All pages of a data query (of OU data with ``ou``, ``municipalities`` then being
        OU ids). Rows count per page; duplicates are checked across pages too."""
        result = ParseResult()
        duplicates = DuplicateChecker()
        for page in self.pages(self.data_url(kpis, municipalities, years, ou=ou)):
            parsed = parse_kolada_data(page, gender=gender)
            result.errors.extend(parsed.errors)
            result.skipped.extend(parsed.skipped)
            for obs in parsed.observations:
                duplicate = duplicates.repeat_of_earlier(
                    obs.indicator, obs.unit, obs.period, obs.row, "period"
                )
                if duplicate is None:
                    result.observations.append(obs)
                else:
                    result.errors.append(duplicate)
        return result

    def municipalities(self) -> list[KoladaMunicipality]:
        found: list[KoladaMunicipality] = []
        for page in self.pages(self.url("municipality")):
            found.extend(parse_kolada_municipalities(page))
        return found

    def ous(self, municipality: str, title: str = "") -> list[KoladaOu]:
        """The organisational units of a municipality whose title holds ``title``."""
        params = {"municipality": municipality} | ({"title": title} if title else {})
        found: list[KoladaOu] = []
        for page in self.pages(self.url("ou", params)):
            found.extend(parse_kolada_ous(page))
        return found
