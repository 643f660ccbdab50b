"""Statistics Norway (SSB): PxWebApi v2 and the older PxWeb v0 API.

Recorded responses (``/work/shared/fixtures/ssb``):

- v0 ``POST /api/v0/no/table/07459`` with ``json-stat2``: JSON-stat 2.0,
  dimensions ``Region`` (codes such as ``K-3001`` because the query used the
  ``agg:KommSummer`` aggregation), ``ContentsCode`` (``Personer1``) and
  ``Tid`` (``2022``).
- v0 JSON-stat **1.0** bundle ``{"dataset": {...}}`` (table 29843, monthly
  ``1990M01``..., with ``"."`` status on null cells).
- v2 ``GET /api/pxwebapi/v2/tables/05810`` table description (not data).

PxWebApi v2 data (``/tables/<id>/data?outputFormat=json-stat2``) answers
JSON-stat 2.0 like the v0 ``json-stat2`` response; no v2 *data* answer is
recorded. Periods: ``2022``, ``2022M03``, ``2022K1`` (quarter), all handled by
:func:`~.records.parse_period`; weekly (``2022U01``) and half-year forms are
reported as ``unknown_period``.

Region codes: a ``K-``/``F-`` aggregation prefix followed by digits is
removed by default, so ``K-0301`` becomes the municipality number ``0301``.
Codes such as ``K-Rest`` (not a municipality) are kept as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._http import HttpClient, Opener
from .dataset_observations import RegionMapper, observations_from_dataset
from .jsonstat import load_json, read_dataset
from .records import ParseResult

SSB_PXWEB_V2_BASE_URL = "https://data.ssb.no/api/pxwebapi/v2"
SSB_PXWEB_V0_BASE_URL = "https://data.ssb.no/api/v0"

_PREFIXED_REGION = re.compile(r"[A-Z]{1,2}-(\d[\d-]*)")


def ssb_region_code(code: str) -> str:
    """``K-0301`` -> ``0301``, ``F-30`` -> ``30``, ``K-21-22`` -> ``21-22``; others unchanged."""
    match = _PREFIXED_REGION.fullmatch(code)
    return match.group(1) if match else code


def _stripping(inner: RegionMapper | None) -> Callable[[str], str | None]:
    def mapper(code: str) -> str | None:
        stripped = ssb_region_code(code)
        if inner is None:
            return stripped
        if isinstance(inner, Mapping):
            return inner.get(stripped)
        return inner(stripped)

    return mapper


def parse_ssb_jsonstat(
    payload: Any,
    *,
    indicator: str,
    region: str | None = "Region",
    time: str = "Tid",
    unit: str | None = None,
    filters: Mapping[str, str] | None = None,
    region_codes: RegionMapper | None = None,
    strip_region_prefix: bool = True,
    nonnegative: bool = False,
    dataset_name: str | None = None,
    sums: Collection[str] = (),
) -> ParseResult:
    """Observations from an SSB JSON-stat answer (2.0, or a 1.x bundle).

    ``filters`` picks one category of every other multi-valued dimension,
    for example ``{"ContentsCode": "Personer1"}``. ``region_codes`` (mapping
    or function) is applied after the prefix is stripped. ``dataset_name``
    picks a dataset in a 1.x bundle (``"dataset"`` for SSB); None takes the
    only one.
    """
    dataset = read_dataset(payload, dataset_name)
    mapper: RegionMapper | None = region_codes
    if strip_region_prefix:
        mapper = _stripping(region_codes)
    return observations_from_dataset(
        dataset,
        indicator=indicator,
        time=time,
        region=region,
        unit=unit,
        filters=filters,
        region_codes=mapper,
        nonnegative=nonnegative,
        sums=sums,
    )


@dataclass(frozen=True, slots=True)
class SsbTableInfo:
    id: str
    label: str
    updated: str | None
    first_period: str | None
    last_period: str | None
    time_unit: str | None
    variable_names: tuple[str, ...]
    links: Mapping[str, str]


def parse_ssb_table(payload: Any) -> SsbTableInfo:
    """Parse a PxWebApi v2 ``GET /tables/<id>`` answer."""
    data = load_json(payload)
    if not isinstance(data, Mapping) or "id" not in data:
        raise ValueError("A PxWebApi table answer is an object with an 'id'.")
    links = {
        str(link["rel"]): str(link["href"])
        for link in data.get("links", [])
        if isinstance(link, Mapping) and "rel" in link and "href" in link
    }
    return SsbTableInfo(
        id=str(data["id"]),
        label=str(data.get("label", "")),
        updated=data.get("updated"),
        first_period=data.get("firstPeriod"),
        last_period=data.get("lastPeriod"),
        time_unit=data.get("timeUnit"),
        variable_names=tuple(str(v) for v in data.get("variableNames", [])),
        links=links,
    )


class SsbClient(HttpClient):
    """PxWebApi v2 client: ``GET /tables/<id>/data`` as JSON-stat 2."""

    def __init__(
        self,
        base_url: str = SSB_PXWEB_V2_BASE_URL,
        *,
        opener: Opener | None = None,
        timeout: float = 30.0,
        lang: str = "no",
    ) -> None:
        super().__init__(base_url, opener=opener, timeout=timeout)
        self.lang = lang

    def data_url(
        self,
        table: str,
        value_codes: Mapping[str, Iterable[str] | str],
        codelists: Mapping[str, str] | None = None,
    ) -> str:
        """``valueCodes[VAR]=a,b`` per variable (``*`` for all), optional
        ``codelist[VAR]=...`` (for example ``agg_KommSummer``)."""
        params: list[tuple[str, str]] = [("lang", self.lang), ("outputFormat", "json-stat2")]
        for variable, codes in value_codes.items():
            joined = codes if isinstance(codes, str) else ",".join(codes)
            params.append((f"valueCodes[{variable}]", joined))
        for variable, codelist in (codelists or {}).items():
            params.append((f"codelist[{variable}]", codelist))
        return self.url(f"tables/{table}/data", params)

    def fetch(
        self,
        table: str,
        value_codes: Mapping[str, Iterable[str] | str],
        codelists: Mapping[str, str] | None = None,
    ) -> Any:
        """Decoded JSON-stat answer (numbers as Decimal)."""
        return load_json(self.get(self.data_url(table, value_codes, codelists)))

    def table(self, table: str) -> SsbTableInfo:
        return parse_ssb_table(self.get(self.url(f"tables/{table}", {"lang": self.lang})))
