"""Reading the rows of a table of KPI values, one value a row, whatever file they came from.

CSV rows hold text cells, XLSX rows typed cells (numbers, dates); both go through
:func:`parse_rows`: find the header row, place the columns (:data:`HEADER_ALIASES`), settle
the decimal mark, then read each row after the header into an observation or errors.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import itertools
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pejling.core.tabular import (
    decode_text,
    escape_control_characters,
    has_control_characters,
    normalise_header,
    sniff_delimiter,
    strip_preamble,
)

from .numbers import NumberError, parse_decimal
from .records import (
    ParseError,
    ParseResult,
    Period,
    PeriodError,
    new_observation,
    parse_period,
)

_SNIFF_ROWS = 2000
_ZERO = Decimal(0)

# Canonical field -> accepted header names, in priority order. Headers are
# compared after :func:`normalise_header` (case-folded, spaces and hyphens
# turned into underscores), so "Unit code" matches "unit_code".
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "indicator": (
        "indicator",
        "indicator_code",
        "indicator_id",
        "kpi",
        "kpi_id",
        "kpi_code",
        "measure",
        "measure_code",
        "metric",
        "indikator",
        "indikatorkod",
        "indikatorkode",
        "nyckeltal",
        "nyckeltal_id",
        "nyckeltalskod",
        "nyckeltal_kod",
        "mått",
        "nøgletal",
        "nøgletalskode",
        "nøgletal_kode",
        "nøkkeltall",
        "nøkkeltal",
        "nøkkeltallskode",
        "nokkeltall",
        "noegletal",
        "styringsindikator",
    ),
    "unit": (
        "unit",
        "unit_code",
        "unit_id",
        "unit_name",
        "enhet",
        "enhet_kod",
        "enhetskod",
        "enhetskode",
        "enhet_kode",
        "enhed",
        "enhedskode",
        "enhed_kode",
        "organisation",
        "organisationsenhet",
        "organisasjon",
        "municipality",
        "kommun",
        "kommune",
        "region",
        "område",
        "omrade",
    ),
    "period": (
        "period",
        "periode",
        "period_code",
        "tidsperiod",
        "tidsperiode",
        "tid",
        "time",
        "year",
        "år",
    ),
    "value": (
        "value",
        "värde",
        "varde",
        "værdi",
        "vaerdi",
        "verdi",
        "indhold",
        "innhold",
        "utfall",
    ),
}

_REQUIRED = ("unit", "period", "value")


def _header_key(cell: object) -> str:
    """A header as it is looked up: :func:`normalise_header`, then without accents and with the
    Nordic letters spelt plainly (``Nøgletal``, ``NOEGLETAL`` and ``nogletal`` are one name)."""
    key = normalise_header(cell)
    for letter, plain in (("æ", "ae"), ("ø", "o"), ("œ", "oe"), ("ß", "ss")):
        key = key.replace(letter, plain)
    key = unicodedata.normalize("NFKD", key)
    key = "".join(c for c in key if not unicodedata.combining(c))
    return key.replace("oe", "o").replace("aa", "a")


_ALIAS_LOOKUP: dict[str, tuple[str, int]] = {}
for _field_name, _aliases in HEADER_ALIASES.items():
    for _priority, _alias in enumerate(_aliases):
        _ALIAS_LOOKUP.setdefault(_header_key(_alias), (_field_name, _priority))


@dataclass(frozen=True, slots=True)
class _Columns:
    """Position and header text of each recognised column."""

    index: dict[str, int]
    header: dict[str, str]


def _match_header(cells: Sequence[Any]) -> _Columns:
    best: dict[str, tuple[int, int]] = {}  # field -> (priority, position)
    header: dict[str, str] = {}
    for position, cell in enumerate(cells):
        if cell is None:
            continue
        found = _ALIAS_LOOKUP.get(_header_key(cell))
        if found is None:
            continue
        field_name, priority = found
        if field_name not in best or priority < best[field_name][0]:
            best[field_name] = (priority, position)
            header[field_name] = str(cell).replace("\ufeff", "").strip()
    return _Columns({name: pos for name, (_, pos) in best.items()}, header)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    A million observations trigger many full collections that find nothing
    (the records have no cycles); pausing cuts a 1M-row parse by about a
    quarter. The previous state is restored, also on errors.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _is_blank(row: Sequence[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row)


def _guess_decimal_comma(rows: Sequence[Sequence[Any]], value_index: int, fallback: bool) -> bool:
    """Decide what ``1.234`` / ``1,234`` mean from unambiguous values in the file."""
    for row in rows:
        if value_index >= len(row):
            continue
        cell = row[value_index]
        if not isinstance(cell, str):
            continue
        s = cell.strip()
        comma, dot = s.rfind(","), s.rfind(".")
        if comma >= 0 and dot >= 0:
            return comma > dot
        if comma >= 0 and s.count(",") == 1 and len(s) - comma - 1 != 3:
            return True
        if dot >= 0 and s.count(".") == 1 and len(s) - dot - 1 != 3:
            return False
    return fallback


def _cell_text(cell: Any) -> str:
    """Text of a non-value cell (indicator or unit); integral floats lose ``.0``."""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _period_from_cell(cell: Any) -> Period:
    if isinstance(cell, datetime | date):
        # Excel turns a typed "2019-03" into 1 March 2019; read that as the month.
        if cell.day == 1 and (not isinstance(cell, datetime) or cell.time() == datetime.min.time()):
            return Period(cell.year, "month", cell.month)
        raise PeriodError(f"{cell.isoformat()} is a date, not a period.")
    if isinstance(cell, bool):
        raise PeriodError(f"{cell!r} is not a period.")
    if isinstance(cell, int):
        return parse_period(str(cell))
    if isinstance(cell, float) and cell.is_integer():
        return parse_period(str(int(cell)))
    return parse_period(str(cell))


def _value_from_cell(cell: Any, decimal_comma: bool) -> Decimal:
    if isinstance(cell, bool):
        raise NumberError(repr(cell))
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        value = Decimal(repr(cell))
        if not value.is_finite():
            raise NumberError(repr(cell))
        return value
    if isinstance(cell, str):
        return parse_decimal(cell, decimal_comma=decimal_comma)
    raise NumberError(repr(cell))


def _text(cell: Any) -> str:
    """Text of an indicator or unit cell, "" when empty (a plain str is the quick case)."""
    if type(cell) is str:
        return cell.strip()
    return "" if cell is None else _cell_text(cell)


def _is_empty(cell: Any) -> bool:
    return cell is None or (type(cell) is str and not cell.strip())


def _find_header(rows: Iterator[Sequence[Any]]) -> tuple[int, Sequence[Any]] | None:
    """The first non-blank row and its 1-based number, or None for an empty file."""
    for row_no, cells in enumerate(rows, start=1):
        if not _is_blank(cells):
            return row_no, cells
    return None


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each column is (``indicator`` None: every row has the default indicator), its
    header as written, and how many cells a row needs to reach them all."""

    indicator: int | None
    unit: int
    period: int
    value: int
    indicator_name: str
    unit_name: str
    period_name: str
    value_name: str
    width: int


def _layout(
    columns: _Columns, *, header_row: int, default_indicator: str | None
) -> _Layout | ParseError:
    """The columns' places, or the error naming the missing ones and their accepted headers."""
    missing = [name for name in _REQUIRED if name not in columns.index]
    if "indicator" not in columns.index and default_indicator is None:
        missing.insert(0, "indicator")
    if missing:
        accepted = "; ".join(f"{name}: {', '.join(HEADER_ALIASES[name][:6])}" for name in missing)
        return ParseError(
            header_row,
            ", ".join(missing),
            "missing_column",
            f"Missing column(s) {', '.join(missing)}. Accepted headers include {accepted}.",
            found=accepted,
        )
    index, header = columns.index, columns.header
    indicator = index.get("indicator")
    return _Layout(
        indicator=indicator,
        unit=index["unit"],
        period=index["period"],
        value=index["value"],
        indicator_name=header.get("indicator", "indicator"),
        unit_name=header["unit"],
        period_name=header["period"],
        value_name=header["value"],
        width=max(
            index["unit"], index["period"], index["value"], -1 if indicator is None else indicator
        )
        + 1,
    )


class _CellReader:
    """Reads one row's indicator, period and value cells; each problem goes to ``errors``.

    Periods are cached per distinct cell, since files repeat a few periods.
    """

    def __init__(
        self,
        layout: _Layout,
        errors: list[ParseError],
        *,
        default_indicator: str | None,
        nonnegative: bool,
        decimal_comma: bool,
    ) -> None:
        self.layout = layout
        self.add_error = errors.append
        self.fixed_indicator = default_indicator.strip() if default_indicator is not None else ""
        self.nonnegative = nonnegative
        self.decimal_comma = decimal_comma
        self.periods: dict[Any, Period | str] = {}  # cell -> Period, or error message

    def indicator(self, row: Sequence[Any], row_no: int) -> str:
        if self.layout.indicator is None:
            return self.fixed_indicator
        indicator = _text(row[self.layout.indicator])
        if not indicator:
            self.add_error(
                ParseError(
                    row_no, self.layout.indicator_name, "missing_value", "The indicator is empty."
                )
            )
        return indicator

    def period(self, raw: Any, row_no: int) -> Period | str | None:
        """The period, or None or an error message (both already reported)."""
        name = self.layout.period_name
        period = self.periods.get(raw)
        if period is None:
            if _is_empty(raw):
                self.add_error(ParseError(row_no, name, "missing_value", "The period is empty."))
                return None
            try:
                period = _period_from_cell(raw)
            except PeriodError as exc:
                period = str(exc)
            self.periods[raw] = period
        if type(period) is str:
            self.add_error(ParseError(row_no, name, "unknown_period", period, _cell_text(raw)))
        return period

    def value(self, raw: Any, row_no: int) -> Decimal | None:
        """The value, or None (the problem already reported)."""
        name = self.layout.value_name
        if _is_empty(raw):
            self.add_error(ParseError(row_no, name, "missing_value", "The value is empty."))
            return None
        try:
            if type(raw) is str:
                value = parse_decimal(raw, decimal_comma=self.decimal_comma)
            else:
                value = _value_from_cell(raw, self.decimal_comma)
        except NumberError:
            text = _cell_text(raw)
            self.add_error(
                ParseError(row_no, name, "not_a_number", f"{text!r} is not a number.", text)
            )
            return None
        if self.nonnegative and value < _ZERO:
            text = _cell_text(raw)
            self.add_error(
                ParseError(
                    row_no,
                    name,
                    "negative_count",
                    f"{text!r} is negative; only counts of zero or more are allowed.",
                    text,
                )
            )
        return value


def parse_rows(
    rows: Iterator[Sequence[Any]],
    *,
    default_indicator: str | None,
    nonnegative: bool,
    decimal_comma: bool | None,
    fallback_decimal_comma: bool,
) -> ParseResult:
    """Shared reading of CSV (all cells str) and XLSX (typed cells): find the header row, place
    the columns, settle the decimal mark, then read the rows after the header."""
    result = ParseResult()
    found = _find_header(rows)
    if found is None:
        result.errors.append(
            ParseError(None, None, "empty_file", "The file is empty: no header row.")
        )
        return result
    header_row, header_cells = found
    layout = _layout(
        _match_header(header_cells), header_row=header_row, default_indicator=default_indicator
    )
    if isinstance(layout, ParseError):
        result.errors.append(layout)
        return result
    if decimal_comma is None:
        head = list(itertools.islice(rows, _SNIFF_ROWS))
        decimal_comma = _guess_decimal_comma(head, layout.value, fallback_decimal_comma)
        rows = itertools.chain(head, rows)
    cells = _CellReader(
        layout,
        result.errors,
        default_indicator=default_indicator,
        nonnegative=nonnegative,
        decimal_comma=decimal_comma,
    )
    _read_value_rows(rows, first_row=header_row + 1, layout=layout, cells=cells, into=result)
    return result


def _read_value_rows(
    rows: Iterator[Sequence[Any]],
    *,
    first_row: int,
    layout: _Layout,
    cells: _CellReader,
    into: ParseResult,
) -> None:
    """One observation per good row; every problem of a bad row, and a row repeated, reported."""
    errors = into.errors
    add_error = errors.append
    add_observation = into.observations.append
    make = new_observation
    seen: dict[tuple[str, str, Period], int] = {}  # duplicate detection
    need, unit_at, period_at, value_at = layout.width, layout.unit, layout.period, layout.value
    for row_no, row in enumerate(rows, start=first_row):
        if len(row) < need:
            if _is_blank(row):
                continue
            row = [*row, *([None] * (need - len(row)))]
        unit = _text(row[unit_at])
        if not unit and _is_blank(row):
            continue
        if _control_cell(row, layout, row_no, add_error):
            continue
        before = len(errors)
        indicator = cells.indicator(row, row_no)
        if not unit:
            add_error(ParseError(row_no, layout.unit_name, "missing_value", "The unit is empty."))
        period = cells.period(row[period_at], row_no)
        value = cells.value(row[value_at], row_no)
        if len(errors) != before:
            continue
        first = seen.setdefault((indicator, unit, period), row_no)  # type: ignore[arg-type]
        if first != row_no:
            add_error(
                ParseError(
                    row_no,
                    layout.period_name,
                    "duplicate_row",
                    f"Indicator {indicator!r}, unit {unit!r} and period {period} already appear in row {first}.",
                    f"{indicator} · {unit} · {period}",
                    first,
                )
            )
            continue
        add_observation(make(indicator, unit, period, value, row_no))  # type: ignore[arg-type]


def _control_cell(row: Sequence[Any], layout: _Layout, row_no: int, add_error: Any) -> bool:
    """Report each read cell holding a control character (a NUL, an escape): never a value,
    a code or a period, and PostgreSQL stores no NUL. True when the row had one."""
    found = False
    places = [
        (layout.unit, layout.unit_name),
        (layout.period, layout.period_name),
        (layout.value, layout.value_name),
    ]
    if layout.indicator is not None:
        places.insert(0, (layout.indicator, layout.indicator_name))
    for at, name in places:
        cell = row[at]
        if type(cell) is str and has_control_characters(cell, allow_breaks=True):
            shown = escape_control_characters(cell.strip())
            add_error(
                ParseError(
                    row_no,
                    name,
                    "control_character",
                    f"{shown!r} holds a control character.",
                    shown,
                )
            )
            found = True
    return found


def decimal_comma_of(head: bytes) -> bool | None:
    """The decimal mark the readers would guess for a file starting with ``head`` (from its
    first rows' values, as :func:`parse_rows` does; a chunked reader hands it to every
    chunk); None if no header names a value
    column (the readers then report what is wrong)."""
    text, hinted = strip_preamble(decode_text(head))
    delimiter = hinted or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        found = _find_header(reader)
        if found is None:
            return None
        index = _match_header(found[1]).index
        if "value" not in index:
            return None
        rows = list(itertools.islice(reader, _SNIFF_ROWS))
    except csv.Error:
        return None
    return _guess_decimal_comma(rows, index["value"], delimiter != ",")
