"""Statistics Denmark StatBank API (api.statbank.dk/v1): data and tableinfo.

Recorded responses (``/work/shared/fixtures/statbank``) show:

- ``POST /v1/data`` with ``"format": "csv"``: ``;``-separated, UTF-8 with a
  BOM and CRLF, header of upper-case variable ids plus ``INDHOLD`` (the
  value), for example ``CIVILSTAND;OMRÅDE;TID;INDHOLD`` /
  ``I alt;København;2020K1;632340``. With the default value presentation
  the cells are *texts* (``København``, ``Hele landet``), not codes; quarters
  are ``2020K1``.
- ``"format": "jsonstat"``: JSON-stat 1 ``{"dataset": {...}}`` whose time
  dimension is ``Tid`` (mixed case, unlike the CSV header ``TID``).
- ``GET /v1/tableinfo``: ``{id, text, unit, suppressedDataValue, updated,
  variables: [{id, text, elimination, time, values: [{id, text}]}]}``.
  Municipal tables also carry a ``map`` name on the area variable (not
  recorded here: the only recorded tableinfo, STRAF42, has no area).

Missing values: StatBank CSV uses ``..`` (and sometimes ``.`` or ``-``);
these become ``skipped``. Note that ``suppressedDataValue`` can be ``"0"``,
meaning suppressed cells are sent as 0 and cannot be told apart.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._http import HttpClient, Opener
from .jsonstat import RegionMapper, load_json, observations_from_dataset, read_dataset
from .numbers import NumberError, parse_decimal
from .records import (
    DuplicateChecker,
    Observation,
    ParseError,
    ParseResult,
    Period,
    PeriodError,
    parse_period,
)

STATBANK_BASE_URL = "https://api.statbank.dk/v1"
VALUE_COLUMN = "INDHOLD"
MISSING_MARKERS = frozenset({"..", ".", "-", "...", ":"})


@dataclass(frozen=True, slots=True)
class StatbankValue:
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class StatbankVariable:
    id: str
    text: str
    elimination: bool
    time: bool
    values: tuple[StatbankValue, ...]
    map: str | None = None

    def codes_by_text(self) -> dict[str, str]:
        """Value text -> code, to map a text-presentation CSV back to codes.

        Texts are matched exactly and case-insensitively (the casefolded text
        is added when it does not clash).
        """
        mapping = {v.text: v.id for v in self.values}
        for v in self.values:
            mapping.setdefault(v.text.casefold(), v.id)
        return mapping

    def code_for(self, text_or_code: str) -> str | None:
        for v in self.values:
            if text_or_code in (v.id, v.text):
                return v.id
        return self.codes_by_text().get(text_or_code.casefold())


@dataclass(frozen=True, slots=True)
class TableInfo:
    id: str
    text: str
    description: str
    unit: str
    updated: str | None
    suppressed_data_value: str | None
    variables: tuple[StatbankVariable, ...]

    def variable(self, variable_id: str) -> StatbankVariable:
        """Variable by id, case-insensitively (CSV says ``TID``, JSON ``Tid``)."""
        for variable in self.variables:
            if variable.id.casefold() == variable_id.casefold():
                return variable
        raise KeyError(f"Table {self.id} has no variable {variable_id!r}.")

    @property
    def time_variable(self) -> StatbankVariable | None:
        return next((v for v in self.variables if v.time), None)


def parse_tableinfo(payload: Any) -> TableInfo:
    """Parse a ``/v1/tableinfo?format=json`` response."""
    data = load_json(payload)
    if not isinstance(data, Mapping) or not isinstance(data.get("variables"), list):
        raise ValueError("A StatBank tableinfo response has a 'variables' list.")
    variables = tuple(
        StatbankVariable(
            id=str(v["id"]),
            text=str(v.get("text", "")),
            elimination=bool(v.get("elimination", False)),
            time=bool(v.get("time", False)),
            values=tuple(
                StatbankValue(str(x["id"]), str(x.get("text", x["id"])))
                for x in v.get("values", [])
                if isinstance(x, Mapping) and "id" in x
            ),
            map=v.get("map"),
        )
        for v in data["variables"]
        if isinstance(v, Mapping) and "id" in v
    )
    suppressed = data.get("suppressedDataValue")
    return TableInfo(
        id=str(data.get("id", "")),
        text=str(data.get("text", "")),
        description=str(data.get("description", "")),
        unit=str(data.get("unit", "")),
        updated=data.get("updated"),
        suppressed_data_value=None if suppressed is None else str(suppressed),
        variables=variables,
    )


def _find_column(header: list[str], name: str) -> int | None:
    wanted = name.casefold()
    for i, cell in enumerate(header):
        if cell.strip().casefold() == wanted:
            return i
    return None


def parse_statbank_csv(
    payload: str | bytes,
    *,
    indicator: str,
    time: str = "TID",
    region: str | None = "OMRÅDE",
    unit: str | None = None,
    filters: Mapping[str, str] | None = None,
    region_codes: RegionMapper | None = None,
    value_column: str = VALUE_COLUMN,
    nonnegative: bool = False,
) -> ParseResult:
    """Observations from a StatBank ``/v1/data`` CSV answer.

    - ``region``: area column (``OMRÅDE``), or None with a fixed ``unit``.
    - ``region_codes``: mapping (for example
      ``tableinfo.variable("OMRÅDE").codes_by_text()``) or function from the
      cell to a code; without it the cell text is the unit. An area the
      mapping does not know is an ``unknown_unit`` error.
    - ``filters``: column -> wanted cell (text or code), for example
      ``{"CIVILSTAND": "I alt"}``; other rows are ignored. Any other column
      with more than one distinct value is an ``ambiguous_dimension`` error.

    Columns are matched case-insensitively. Rows are numbered like the file
    (header = row 1). Values may use a decimal comma (``lang=da``) or point.
    """
    if isinstance(payload, bytes | bytearray):
        text = bytes(payload).decode("utf-8-sig")
    else:
        text = payload.lstrip("\ufeff")
    result = ParseResult()
    if region is None and not unit:
        raise ValueError("Pass either region (a column) or unit (a fixed unit code).")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    if not rows:
        result.errors.append(ParseError(None, None, "missing_column", "The CSV is empty."))
        return result
    header = rows[0]
    filters = dict(filters or {})
    wanted_columns = [time, value_column, *([region] if region else []), *filters]
    positions: dict[str, int] = {}
    for name in wanted_columns:
        pos = _find_column(header, name)
        if pos is None:
            result.errors.append(
                ParseError(
                    1,
                    name,
                    "missing_column",
                    f"No column {name!r}; the header is {';'.join(header)}.",
                )
            )
        else:
            positions[name] = pos
    if result.errors:
        return result

    body = [(n, r) for n, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    width = len(header)
    filter_pos = {positions[k]: v for k, v in filters.items()}
    selected = [
        (n, r)
        for n, r in body
        if len(r) >= width
        and all(
            r[p].strip() == v or r[p].strip().casefold() == v.casefold()
            for p, v in filter_pos.items()
        )
    ]
    used = set(positions.values())
    for pos, name in enumerate(header):
        if pos in used:
            continue
        distinct = {r[pos].strip() for _, r in selected}
        if len(distinct) > 1:
            result.errors.append(
                ParseError(
                    None,
                    name,
                    "ambiguous_dimension",
                    f"Column {name!r} has {len(distinct)} different values; pass a filter to pick one.",
                )
            )
    if result.errors:
        return result

    t_pos, v_pos = positions[time], positions[value_column]
    r_pos = positions[region] if region else None
    t_name, v_name = header[t_pos].strip(), header[v_pos].strip()
    r_name = header[r_pos].strip() if r_pos is not None else None
    duplicates = DuplicateChecker()
    periods: dict[str, Period | str] = {}
    for n, r in body:
        if len(r) < width:
            result.errors.append(
                ParseError(
                    n, None, "invalid_payload", f"Row has {len(r)} cells, the header {width}."
                )
            )
    for n, r in selected:
        raw_period = r[t_pos].strip()
        period = periods.get(raw_period)
        if period is None:
            try:
                period = parse_period(raw_period)
            except PeriodError as exc:
                period = str(exc)
            periods[raw_period] = period
        if isinstance(period, str):
            result.errors.append(ParseError(n, t_name, "unknown_period", period))
            continue
        if r_pos is None:
            unit_code: str | None = unit
        else:
            area = r[r_pos].strip()
            if region_codes is None:
                unit_code = area
            elif isinstance(region_codes, Mapping):
                unit_code = region_codes.get(area) or region_codes.get(area.casefold())
            else:
                unit_code = region_codes(area)
            if not unit_code:
                result.errors.append(
                    ParseError(n, r_name, "unknown_unit", f"No code for area {area!r}.")
                )
                continue
        raw_value = r[v_pos].strip()
        if raw_value in MISSING_MARKERS or not raw_value:
            result.skipped.append(
                ParseError(n, v_name, "null_value", f"No value ({raw_value or 'empty'!r}).")
            )
            continue
        try:
            value = parse_decimal(raw_value, decimal_comma=True)
        except NumberError:
            result.errors.append(
                ParseError(n, v_name, "not_a_number", f"{raw_value!r} is not a number.")
            )
            continue
        if nonnegative and value < 0:
            result.errors.append(
                ParseError(n, v_name, "negative_count", f"{raw_value} is negative.")
            )
            continue
        assert unit_code is not None
        duplicate = duplicates.check(indicator, unit_code, period, n, t_name)
        if duplicate is not None:
            result.errors.append(duplicate)
            continue
        result.observations.append(Observation(indicator, unit_code, period, value, n))
    return result


def parse_statbank_jsonstat(
    payload: Any,
    *,
    indicator: str,
    time: str = "Tid",
    region: str | None = "OMRÅDE",
    unit: str | None = None,
    filters: Mapping[str, str] | None = None,
    region_codes: RegionMapper | None = None,
    nonnegative: bool = False,
) -> ParseResult:
    """Observations from a StatBank ``format: jsonstat`` answer (JSON-stat 1).

    Dimension ids are as in the response (``Tid``, ``ContentsCode``, ...);
    category ids are codes, so ``region_codes`` is rarely needed.
    """
    dataset = read_dataset(payload)
    return observations_from_dataset(
        dataset,
        indicator=indicator,
        time=time,
        region=region,
        unit=unit,
        filters=filters,
        region_codes=region_codes,
        nonnegative=nonnegative,
    )


class StatbankClient(HttpClient):
    """``POST /data`` and ``GET /tableinfo`` against a StatBank base URL."""

    def __init__(
        self,
        base_url: str = STATBANK_BASE_URL,
        *,
        opener: Opener | None = None,
        timeout: float = 30.0,
        lang: str = "da",
    ) -> None:
        super().__init__(base_url, opener=opener, timeout=timeout)
        self.lang = lang

    def tableinfo(self, table: str) -> TableInfo:
        url = self.url("tableinfo", {"id": table, "format": "json", "lang": self.lang})
        return parse_tableinfo(self.get(url))

    def data(
        self,
        table: str,
        variables: Mapping[str, Iterable[str]],
        *,
        fmt: str = "csv",
        value_presentation: str = "Code",
    ) -> bytes:
        """Raw ``/data`` answer. ``value_presentation`` ``Code`` gives codes
        (``101``) instead of texts (``København``, the API's ``Default``)."""
        body = {
            "table": table,
            "lang": self.lang,
            "format": fmt,
            "valuePresentation": value_presentation,
            "variables": [
                {"code": code, "values": list(values)} for code, values in variables.items()
            ],
        }
        accept = "text/csv" if fmt.lower() == "csv" else "application/json"
        return self.post_json(self.url("data"), body, accept=accept)
