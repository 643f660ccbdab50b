"""National statistics (Kolada, Statistics Denmark, Statistics Norway) for Pejling: search a
series, describe its dimensions, fetch it onto our units.

The one home of fetching: the browser pages (search, pick, preview, fetch now), the background
worker's scheduled fetches (``tasks.py``) and ``pejling fetch-kpi`` all call these functions.
The clients in ``sources/`` speak the APIs; this module knows our settings (base URLs), the
stored area → unit mapping (:class:`~pejling.indicators.models.AreaMapping`) and the imports.

Dimensions beyond area and time are either *picked* (one value) or *summed over*: the parsers
then use the answer's own total where it carries one, and add up the parts otherwise (see
``sources/totals.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from pejling.indicators.models import AreaMapping
from pejling.indicators.sources import (
    KoladaClient,
    ParseResult,
    SsbClient,
    StatbankClient,
    parse_kolada_kpis,
    parse_kolada_municipalities,
    parse_ssb_jsonstat,
    parse_statbank_csv,
    parse_statbank_jsonstat,
)
from pejling.indicators.sources._http import HttpClient, Opener, SourceHttpError
from pejling.indicators.sources.jsonstat import JsonStatError, load_json
from pejling.indicators.sources.kolada import GENDERS, is_kolada_ou
from pejling.indicators.sources.ssb import ssb_region_code
from pejling.indicators.sources.totals import is_total

BASE_URL_SETTINGS = {
    "kolada": "PEJLING_KOLADA_URL",
    "statbank": "PEJLING_STATBANK_URL",
    "ssb": "PEJLING_SSB_URL",
}
AREA_DIMENSIONS = {"kolada": "municipality", "statbank": "OMRÅDE", "ssb": "Region"}
TIME_DIMENSIONS = {"kolada": "year", "statbank": "Tid", "ssb": "Tid"}
SEARCH_LIMIT = 25
# Kolada's areas: municipalities (and regions) or organisational units (schools, care homes),
# the value of a fetch's ``area_dimension``. Both map to units through the same AreaMapping
# rows of source "kolada": their ids never collide (``sources.kolada.is_kolada_ou``).
KOLADA_OU = "ou"
# The errors a source's answer (or its absence) raises; each becomes a message, never a 500.
FETCH_ERRORS = (OSError, SourceHttpError, JsonStatError, ValueError, RuntimeError, KeyError)


class SourceUnavailable(Exception):
    """The source could not be asked or gave an unusable answer (the reason, in English)."""


# The transport every client uses; None is the real network (urllib). Tests set an opener
# that answers with recorded fixtures (``tests/indicators/recorded.py``).
_opener: Opener | None = None


def use_opener(opener: Opener | None) -> None:
    global _opener
    _opener = opener


def base_url(source: str) -> str:
    return str(getattr(settings, BASE_URL_SETTINGS[source]))


def client(source: str, *, url: str | None = None, lang: str | None = None) -> HttpClient:
    url = url or base_url(source)
    if source == "kolada":
        return KoladaClient(url, opener=_opener)
    if source == "statbank":
        return StatbankClient(url, opener=_opener, lang=lang or "da")
    return SsbClient(url, opener=_opener, lang=lang or "no")


@dataclass(frozen=True)
class SearchHit:
    id: str
    label: str
    detail: str = ""


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    total: bool = False


@dataclass(frozen=True)
class Dimension:
    id: str
    label: str
    categories: tuple[Category, ...]
    role: str = "other"  # "area", "time" or "other"

    @property
    def total(self) -> Category | None:
        totals = [c for c in self.categories if c.total]
        return totals[0] if len(totals) == 1 else None


@dataclass(frozen=True)
class SeriesInfo:
    source: str
    id: str
    label: str
    dimensions: tuple[Dimension, ...]

    def dimension(self, role: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.role == role), None)

    @property
    def others(self) -> list[Dimension]:
        return [d for d in self.dimensions if d.role == "other"]


def _matches(text: str, *fields: str) -> bool:
    words = text.casefold().split()
    haystack = " ".join(fields).casefold()
    return all(word in haystack for word in words)


def search(source: str, text: str) -> list[SearchHit]:
    """Series whose id or name holds every word of ``text`` (at most 25)."""
    text = text.strip()
    if not text:
        return []
    try:
        if source == "kolada":
            kolada = client(source)
            kpis = parse_kolada_kpis(kolada.get(kolada.url("kpi", {"title": text})))
            hits = [
                SearchHit(k.id, k.title, k.operating_area)
                for k in kpis
                if _matches(text, k.id, k.title)
            ]
        elif source == "statbank":
            statbank = client(source)
            tables = load_json(
                statbank.get(statbank.url("tables", {"format": "json", "lang": "da"}))
            )
            hits = [
                SearchHit(str(t["id"]), str(t.get("text", "")), str(t.get("latestPeriod", "")))
                for t in tables
                if isinstance(t, Mapping) and _matches(text, str(t["id"]), str(t.get("text", "")))
            ]
        else:
            ssb = client(source)
            answer = load_json(ssb.get(ssb.url("tables", {"query": text, "lang": "no"})))
            hits = [
                SearchHit(str(t["id"]), str(t.get("label", "")), str(t.get("lastPeriod", "")))
                for t in answer.get("tables", [])
                if isinstance(t, Mapping) and "id" in t
            ]
    except FETCH_ERRORS as exc:
        raise SourceUnavailable(str(exc)) from exc
    return hits[:SEARCH_LIMIT]


def search_ous(municipality: str, text: str = "") -> list[SearchHit]:
    """Kolada's organisational units (schools, care homes…) of a municipality whose name holds
    ``text`` (at most 25; detail: the municipality)."""
    municipality = municipality.strip()
    if not municipality:
        return []
    try:
        kolada = client("kolada")
        assert isinstance(kolada, KoladaClient)
        ous = kolada.ous(municipality, text.strip())
    except FETCH_ERRORS as exc:
        raise SourceUnavailable(str(exc)) from exc
    words = text.strip()
    hits = [SearchHit(o.id, o.title, o.municipality) for o in ous if _matches(words, o.id, o.title)]
    return hits[:SEARCH_LIMIT]


def kolada_municipalities() -> list[SearchHit]:
    """Kolada's municipalities (not the regions nor the whole country), by name."""
    try:
        kolada = client("kolada")
        municipalities = parse_kolada_municipalities(kolada.get(kolada.url("municipality")))
    except FETCH_ERRORS as exc:
        raise SourceUnavailable(str(exc)) from exc
    return sorted(
        (SearchHit(m.id, m.title) for m in municipalities if m.type == "K"),
        key=lambda m: m.label,
    )


def describe(
    source: str, series: str, *, area_kind: str = "", ous: tuple[Category, ...] = ()
) -> SeriesInfo:
    """The series' name and dimensions: its areas, its periods and every other dimension with
    its categories (the totals marked). For Kolada with ``area_kind`` "ou" the areas are the
    organisational units ``ous`` (found with :func:`search_ous` or mapped already)."""
    try:
        if source == "kolada":
            return _describe_kolada(series, ous if area_kind == KOLADA_OU else None)
        if source == "statbank":
            return _describe_statbank(series)
        return _describe_ssb(series)
    except FETCH_ERRORS as exc:
        raise SourceUnavailable(str(exc)) from exc


def _describe_kolada(series: str, ous: tuple[Category, ...] | None) -> SeriesInfo:
    kolada = client("kolada")
    kpis = parse_kolada_kpis(kolada.get(kolada.url("kpi", {"id": series})))
    kpi = next((k for k in kpis if k.id == series), None)
    if kpi is None:
        raise SourceUnavailable(f"Kolada has no KPI {series!r}.")
    if ous is not None:
        area = Dimension(KOLADA_OU, "Organisatorisk enhet", ous, "area")
    else:
        municipalities = parse_kolada_municipalities(kolada.get(kolada.url("municipality")))
        area = Dimension(
            "municipality",
            "Kommun",
            tuple(Category(m.id, m.title) for m in municipalities),
            "area",
        )
    this_year = timezone.localdate().year
    dims = [
        area,
        Dimension(
            "year",
            "År",
            tuple(Category(str(y), str(y)) for y in range(this_year, this_year - 12, -1)),
            "time",
        ),
    ]
    if kpi.is_divided_by_gender:
        labels = {"T": "Totalt", "K": "Kvinnor", "M": "Män"}
        dims.append(
            Dimension(
                "gender",
                "Kön",
                tuple(Category(g, labels[g], g == "T") for g in GENDERS),
            )
        )
    return SeriesInfo("kolada", kpi.id, kpi.title, tuple(dims))


def _describe_statbank(series: str) -> SeriesInfo:
    statbank = client("statbank")
    assert isinstance(statbank, StatbankClient)
    info = statbank.tableinfo(series)
    dims = []
    for variable in info.variables:
        role = (
            "time"
            if variable.time
            else "area"
            if variable.map or variable.id.upper() == "OMRÅDE"
            else "other"
        )
        dims.append(
            Dimension(
                variable.id,
                variable.text,
                tuple(Category(v.id, v.text, is_total(v.id, v.text)) for v in variable.values),
                role,
            )
        )
    return SeriesInfo("statbank", info.id, info.text, tuple(dims))


def _describe_ssb(series: str) -> SeriesInfo:
    ssb = client("ssb")
    meta = load_json(
        ssb.get(ssb.url(f"tables/{series}/metadata", {"lang": "no", "outputFormat": "json-stat2"}))
    )
    if not isinstance(meta, Mapping) or not isinstance(meta.get("dimension"), Mapping):
        raise SourceUnavailable(f"SSB's description of table {series} has no dimensions.")
    role = meta.get("role") or {}
    geo, time = set(role.get("geo", [])), set(role.get("time", []))
    dims = []
    for dim_id in meta.get("id", list(meta["dimension"])):
        raw = meta["dimension"][dim_id]
        category = raw.get("category", {})
        index = category.get("index") or list(category.get("label", {}))
        codes = (
            [c for c, _ in sorted(index.items(), key=lambda kv: int(kv[1]))]
            if isinstance(index, Mapping)
            else list(index)
        )
        labels = category.get("label", {})
        kind = "time" if dim_id in time else "area" if dim_id in geo else "other"
        categories = tuple(
            Category(
                ssb_region_code(c) if kind == "area" else c,
                str(labels.get(c, c)),
                is_total(c, str(labels.get(c, c))) if kind == "other" else False,
            )
            for c in codes
        )
        if kind == "area":
            categories = tuple(c for c in categories if not is_total(c.code, c.label))
        dims.append(Dimension(dim_id, str(raw.get("label", dim_id)), categories, kind))
    return SeriesInfo("ssb", series, str(meta.get("label", series)), tuple(dims))


@dataclass
class Query:
    """What to fetch: a series, the value picked in each other dimension, the dimensions summed
    over, the periods (empty: what the source gives by default) and the areas to ask for."""

    source: str
    series: str
    indicator: str
    areas: list[str]
    picks: dict[str, str] = field(default_factory=dict)
    sums: list[str] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    area_dimension: str = ""
    time_dimension: str = ""
    url: str | None = None
    lang: str | None = None
    # StatBank only: csv or jsonstat; cells as codes (101) or texts (København).
    fmt: str = "csv"
    as_text: bool = False
    # SSB only: code lists per dimension (agg_KommSummer).
    codelists: dict[str, str] = field(default_factory=dict)


@dataclass
class Fetched:
    url: str
    label: str
    result: ParseResult


def fetch(query: Query) -> Fetched:
    """Ask the source and parse its answer (every area it gives; see :func:`keep_mapped`)."""
    try:
        if query.source == "kolada":
            return _fetch_kolada(query)
        if query.source == "statbank":
            return _fetch_statbank(query)
        return _fetch_ssb(query)
    except FETCH_ERRORS as exc:
        raise SourceUnavailable(str(exc)) from exc


def _fetch_kolada(query: Query) -> Fetched:
    kolada = client("kolada", url=query.url)
    assert isinstance(kolada, KoladaClient)
    years = query.periods or None
    gender = query.picks.get("gender", "T")
    if "gender" in query.sums:
        gender = "T"  # Kolada's own total
    ou = query.area_dimension == KOLADA_OU
    # Only the areas of the kind asked for: OU ids in an OU query, municipalities otherwise.
    areas = [a for a in query.areas if is_kolada_ou(a) == ou]
    if ou and not areas:
        raise SourceUnavailable("No organisational unit of Kolada is mapped to a unit yet.")
    url = kolada.data_url(query.series, areas, years, ou=ou)
    result = kolada.fetch_data(query.series, areas, years, gender=gender, ou=ou)
    return Fetched(url, f"kolada {query.series}", result)


def _fetch_statbank(query: Query) -> Fetched:
    statbank = client("statbank", url=query.url, lang=query.lang)
    assert isinstance(statbank, StatbankClient)
    region = query.area_dimension or AREA_DIMENSIONS["statbank"]
    time = query.time_dimension or TIME_DIMENSIONS["statbank"]
    # The API selects by code; with texts in the answer, ask for every value and pick here.
    variables: dict[str, list[str]] = {
        name: ["*"] if query.as_text else [value] for name, value in query.picks.items()
    }
    variables |= {name: ["*"] for name in query.sums}
    variables[region] = ["*"] if query.as_text or not query.areas else list(query.areas)
    if query.periods:
        variables[time] = list(query.periods)
    body = statbank.data(
        query.series,
        variables,
        fmt=query.fmt,
        value_presentation="Default" if query.as_text else "Code",
    )
    picks, sums = query.picks, query.sums
    if query.fmt == "csv":
        # A variable the answer has no column for was eliminated by StatBank: the answer is
        # already its total, so there is nothing to pick or sum.
        header = body.decode("utf-8-sig").split("\n", 1)[0].strip().split(";")
        columns = {cell.strip().casefold() for cell in header}
        picks = {k: v for k, v in picks.items() if k.casefold() in columns}
        sums = [k for k in sums if k.casefold() in columns]
    parse = parse_statbank_csv if query.fmt == "csv" else parse_statbank_jsonstat
    result = parse(
        body,
        indicator=query.indicator,
        time=time,
        region=region,
        filters=picks,
        sums=sums,
    )
    return Fetched(f"{statbank.url('data')} ({query.series})", f"statbank {query.series}", result)


def _fetch_ssb(query: Query) -> Fetched:
    ssb = client("ssb", url=query.url, lang=query.lang)
    assert isinstance(ssb, SsbClient)
    region = query.area_dimension or AREA_DIMENSIONS["ssb"]
    time = query.time_dimension or TIME_DIMENSIONS["ssb"]
    # Every region (codes may carry a code list's prefix such as K-); the mapped ones are kept.
    value_codes: dict[str, str] = {**query.picks, region: "*"}
    value_codes |= dict.fromkeys(query.sums, "*")
    if query.periods:
        value_codes[time] = ",".join(query.periods)
    url = ssb.data_url(query.series, value_codes, query.codelists)
    payload = ssb.fetch(query.series, value_codes, query.codelists)
    result = parse_ssb_jsonstat(
        payload,
        indicator=query.indicator,
        region=region,
        time=time,
        filters=query.picks,
        sums=query.sums,
    )
    return Fetched(url, f"ssb {query.series}", result)


@dataclass
class Kept:
    """The answer's values for mapped areas, as values of the indicator."""

    result: ParseResult
    unit_codes: dict[str, str]
    fetched: int
    ignored: int
    missing: list[str]


def keep_mapped(result: ParseResult, mapping: Mapping[str, str], indicator: str) -> Kept:
    """The source answers for areas that are not ours: keep the mapped ones (area → our unit
    code, case-insensitive) as values of ``indicator``; how many were left out, which mapped
    areas had no value."""
    lookup = {area.casefold(): code for area, code in mapping.items()}
    kept = [o for o in result.observations if o.unit.casefold() in lookup]
    fetched = len(result.observations)
    out = ParseResult(
        observations=[dataclasses.replace(o, indicator=indicator) for o in kept],
        errors=list(result.errors),
        skipped=list(result.skipped),
        sums=dict(result.sums),
    )
    found = {o.unit.casefold() for o in kept}
    return Kept(
        result=out,
        unit_codes={o.unit: lookup[o.unit.casefold()] for o in kept},
        fetched=fetched,
        ignored=fetched - len(kept),
        missing=sorted(area for area in mapping if area.casefold() not in found),
    )


def stored_mapping(source: str, area_dimension: str = "") -> dict[str, str]:
    """The source's areas mapped to our units, as stored: area code → unit code. For Kolada
    only the kind of area of ``area_dimension``: organisational units ("ou") or municipalities
    (anything else)."""
    mapping = dict(
        AreaMapping.objects.filter(source=source).values_list("area", "unit__code").order_by()
    )
    if source == "kolada":
        ou = area_dimension == KOLADA_OU
        mapping = {area: unit for area, unit in mapping.items() if is_kolada_ou(area) == ou}
    return mapping


def stored_ous() -> tuple[Category, ...]:
    """Kolada's organisational units mapped to our units already, with their names."""
    return tuple(
        Category(area, label or area)
        for area, label in AreaMapping.objects.filter(source="kolada")
        .values_list("area", "label")
        .order_by("label", "area")
        if is_kolada_ou(area)
    )
