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
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._http import HttpClient, Opener
from .dataset_observations import RegionMapper, observations_from_dataset
from .jsonstat import load_json, read_dataset
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
from .totals import parts_of, total_of

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


def _decode(payload: str | bytes) -> str:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload).decode("utf-8-sig")
    return payload.lstrip("\ufeff")


def _column_positions(
    header: list[str], names: list[str], errors: list[ParseError]
) -> dict[str, int]:
    """Each wanted column's position; a ``missing_column`` error for each one not there."""
    positions: dict[str, int] = {}
    for name in names:
        pos = _find_column(header, name)
        if pos is None:
            errors.append(
                ParseError(
                    1,
                    name,
                    "missing_column",
                    f"No column {name!r}; the header is {';'.join(header)}.",
                )
            )
        else:
            positions[name] = pos
    return positions


def _matches(cell: str, wanted: str) -> bool:
    cell = cell.strip()
    return cell == wanted or cell.casefold() == wanted.casefold()


def _ambiguous_columns(
    header: list[str], used: set[int], selected: list[tuple[int, list[str]]]
) -> list[ParseError]:
    """An error for each other column that still holds several values in the selected rows."""
    errors = []
    for pos, name in enumerate(header):
        if pos in used:
            continue
        distinct = {r[pos].strip() for _, r in selected}
        if len(distinct) > 1:
            errors.append(
                ParseError(
                    None,
                    name,
                    "ambiguous_dimension",
                    f"Column {name!r} has {len(distinct)} different values; pass a filter to pick one.",
                )
            )
    return errors


def _unit_of_area(area: str, region_codes: RegionMapper | None) -> str | None:
    if region_codes is None:
        return area
    if isinstance(region_codes, Mapping):
        return region_codes.get(area) or region_codes.get(area.casefold())
    return region_codes(area)


@dataclass(slots=True)
class _CsvValueRows:
    """Reads the time, area and value cells of the selected rows into observations."""

    result: ParseResult
    indicator: str
    time_at: int
    value_at: int
    region_at: int | None
    header: list[str]
    unit: str | None
    region_codes: RegionMapper | None
    nonnegative: bool
    periods: dict[str, Period | str]

    def read(self, rows: list[tuple[int, list[str]]]) -> None:
        time_name = self.header[self.time_at].strip()
        duplicates = DuplicateChecker()
        for n, r in rows:
            period = self._period(r[self.time_at].strip())
            if isinstance(period, str):
                self.result.errors.append(ParseError(n, time_name, "unknown_period", period))
                continue
            unit_code = self._unit(n, r)
            if unit_code is None:
                continue
            value = self._value(n, r[self.value_at].strip())
            if value is None:
                continue
            duplicate = duplicates.repeat_of_earlier(
                self.indicator, unit_code, period, n, time_name
            )
            if duplicate is not None:
                self.result.errors.append(duplicate)
                continue
            self.result.observations.append(
                Observation(self.indicator, unit_code, period, value, n)
            )

    def _period(self, text: str) -> Period | str:
        """The period, or why the text is none (cached per distinct text)."""
        period = self.periods.get(text)
        if period is None:
            try:
                period = parse_period(text)
            except PeriodError as exc:
                period = str(exc)
            self.periods[text] = period
        return period

    def _unit(self, n: int, row: list[str]) -> str | None:
        """The row's unit code, or None (an ``unknown_unit`` error reported)."""
        if self.region_at is None:
            return self.unit
        area = row[self.region_at].strip()
        unit_code = _unit_of_area(area, self.region_codes)
        if not unit_code:
            self.result.errors.append(
                ParseError(
                    n,
                    self.header[self.region_at].strip(),
                    "unknown_unit",
                    f"No code for area {area!r}.",
                )
            )
            return None
        return unit_code

    def _value(self, n: int, raw_value: str) -> Decimal | None:
        """The value, or None: a missing marker is skipped, anything else bad an error."""
        name = self.header[self.value_at].strip()
        if raw_value in MISSING_MARKERS or not raw_value:
            self.result.skipped.append(
                ParseError(n, name, "null_value", f"No value ({raw_value or 'empty'!r}).")
            )
            return None
        try:
            value = parse_decimal(raw_value, decimal_comma=True)
        except NumberError:
            self.result.errors.append(
                ParseError(n, name, "not_a_number", f"{raw_value!r} is not a number.")
            )
            return None
        if self.nonnegative and value < 0:
            self.result.errors.append(
                ParseError(n, name, "negative_count", f"{raw_value} is negative.")
            )
            return None
        return value


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
    sums: Collection[str] = (),
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
    - ``sums``: columns to sum over (sex, age): the answer's own total where it carries one
      (``I alt``, ``Alder i alt``; see :mod:`.totals`), else the sum of every part; a cell
      missing in any part leaves the sum out (skipped). ``result.sums`` says which.

    Columns are matched case-insensitively. Rows are numbered like the file
    (header = row 1). Values may use a decimal comma (``lang=da``) or point.

    Steps: find the columns, select the rows the filters want, make sure no other column
    varies, report short rows, then read each selected row.
    """
    text = _decode(payload)
    result = ParseResult()
    if region is None and not unit:
        raise ValueError("Pass either region (a column) or unit (a fixed unit code).")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    if not rows:
        result.errors.append(ParseError(None, None, "missing_column", "The CSV is empty."))
        return result
    header = rows[0]
    filters = dict(filters or {})
    sums = [name for name in sums if name not in filters]
    positions = _column_positions(
        header,
        [time, value_column, *([region] if region else []), *filters, *sums],
        result.errors,
    )
    if result.errors:
        return result

    body = [(n, r) for n, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    width = len(header)
    filter_pos = {positions[k]: v for k, v in filters.items()}
    selected = [
        (n, r)
        for n, r in body
        if len(r) >= width and all(_matches(r[p], v) for p, v in filter_pos.items())
    ]
    selected, summed = _select_sums(selected, {name: positions[name] for name in sums}, result)
    result.errors.extend(_ambiguous_columns(header, set(positions.values()), selected))
    if result.errors:
        return result
    if summed:
        selected = _summed_rows(
            selected,
            keys=[positions[time], *([positions[region]] if region else [])],
            value_at=positions[value_column],
            result=result,
        )

    result.errors.extend(
        ParseError(n, None, "invalid_payload", f"Row has {len(r)} cells, the header {width}.")
        for n, r in body
        if len(r) < width
    )
    _CsvValueRows(
        result=result,
        indicator=indicator,
        time_at=positions[time],
        value_at=positions[value_column],
        region_at=positions[region] if region else None,
        header=header,
        unit=unit,
        region_codes=region_codes,
        nonnegative=nonnegative,
        periods={},
    ).read(selected)
    return result


def _select_sums(
    rows: list[tuple[int, list[str]]], columns: dict[str, int], result: ParseResult
) -> tuple[list[tuple[int, list[str]]], bool]:
    """Keep, for each column summed over, its total's rows (the source's own total) or else
    every part's rows; whether any column is left to be added up."""
    summed = False
    for name, pos in columns.items():
        distinct = list(dict.fromkeys(r[pos].strip() for _, r in rows))
        total = total_of([(value, None) for value in distinct])
        if total is not None:
            rows = [(n, r) for n, r in rows if r[pos].strip() == total]
            result.sums[name] = total
        else:
            parts = set(parts_of([(value, None) for value in distinct]))
            rows = [(n, r) for n, r in rows if r[pos].strip() in parts]
            result.sums[name] = len(parts)
            summed = summed or len(parts) > 1
    return rows, summed


def _summed_rows(
    rows: list[tuple[int, list[str]]], *, keys: list[int], value_at: int, result: ParseResult
) -> list[tuple[int, list[str]]]:
    """One row per period (and area): its value the sum of the parts' values, written with a
    decimal comma; ``..`` (missing) when any part is missing or not a number."""
    groups: dict[tuple[str, ...], tuple[int, list[str], Decimal | None]] = {}
    for n, r in rows:
        key = tuple(r[k].strip() for k in keys)
        raw = r[value_at].strip()
        try:
            value: Decimal | None = (
                None if raw in MISSING_MARKERS or not raw else parse_decimal(raw)
            )
        except NumberError:
            value = None
        if key not in groups:
            groups[key] = (n, list(r), value)
        else:
            first, cells, total = groups[key]
            groups[key] = (first, cells, None if total is None or value is None else total + value)
    out = []
    for first, cells, total in groups.values():
        cells[value_at] = ".." if total is None else str(total).replace(".", ",")
        out.append((first, cells))
    return out


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
    sums: Collection[str] = (),
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
        sums=sums,
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
