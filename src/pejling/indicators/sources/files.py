"""CSV and XLSX files of KPI values, as municipalities really export them.

A file has one row per value, with a header row naming the columns. The
header may be English, Swedish, Danish or Norwegian, in any case (see
:data:`HEADER_ALIASES`). The indicator column is optional when the caller
passes ``default_indicator``.

CSV: ``;``, ``,`` or tab separated (sniffed from the header line), UTF-8 with
or without BOM, UTF-16 with BOM (Excel's "Unicode text"), otherwise
Windows-1252. Values may use a decimal comma or point and space/no-break
space thousands separators.

XLSX: the first sheet, read with openpyxl in read-only mode after checking
the archive's declared uncompressed size against a limit (zip bombs).

Every bad row is reported with its 1-based row number (the header is row 1
when it is the first line, exactly as a spreadsheet shows it) and the column
header as written in the file. Good rows become observations even when other
rows are bad; the caller decides whether to store a partial import.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pejling.core.tabular import (
    decode_text,
    normalise_header,
    sniff_delimiter,
    strip_preamble,
)
from pejling.core.tabular import xlsx_too_large as _xlsx_problem

from .numbers import NumberError, parse_decimal
from .records import (
    ParseError,
    ParseResult,
    Period,
    PeriodError,
    new_observation,
    parse_period,
)

DEFAULT_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
"""Default cap on the summed uncompressed size of an XLSX archive's members."""

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
        "indikator",
        "nyckeltal",
        "nyckeltal_id",
        "nøgletal",
        "nøkkeltall",
        "nøkkeltal",
        "nokkeltall",
        "noegletal",
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


_ALIAS_LOOKUP: dict[str, tuple[str, int]] = {
    normalise_header(alias): (field_name, priority)
    for field_name, aliases in HEADER_ALIASES.items()
    for priority, alias in enumerate(aliases)
}


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
        found = _ALIAS_LOOKUP.get(normalise_header(cell))
        if found is None:
            continue
        field_name, priority = found
        if field_name not in best or priority < best[field_name][0]:
            best[field_name] = (priority, position)
            header[field_name] = str(cell).replace("\ufeff", "").strip()
    return _Columns({name: pos for name, (_, pos) in best.items()}, header)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
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


def _parse_rows(
    rows: Iterator[Sequence[Any]],
    *,
    default_indicator: str | None,
    nonnegative: bool,
    decimal_comma: bool | None,
    fallback_decimal_comma: bool,
) -> ParseResult:
    """Shared row loop for CSV (all cells str) and XLSX (typed cells)."""
    result = ParseResult()
    errors = result.errors
    observations = result.observations

    header_row = 0
    header_cells: Sequence[Any] | None = None
    for cells in rows:
        header_row += 1
        if not _is_blank(cells):
            header_cells = cells
            break
    if header_cells is None:
        errors.append(ParseError(None, None, "empty_file", "The file is empty: no header row."))
        return result

    columns = _match_header(header_cells)
    missing = [name for name in _REQUIRED if name not in columns.index]
    if "indicator" not in columns.index and default_indicator is None:
        missing.insert(0, "indicator")
    if missing:
        accepted = "; ".join(f"{name}: {', '.join(HEADER_ALIASES[name][:6])}" for name in missing)
        errors.append(
            ParseError(
                header_row,
                ", ".join(missing),
                "missing_column",
                f"Missing column(s) {', '.join(missing)}. Accepted headers include {accepted}.",
                found=accepted,
            )
        )
        return result

    ii = columns.index.get("indicator")
    ui = columns.index["unit"]
    pi = columns.index["period"]
    vi = columns.index["value"]
    i_name = columns.header.get("indicator", "indicator")
    u_name = columns.header["unit"]
    p_name = columns.header["period"]
    v_name = columns.header["value"]

    if decimal_comma is None:
        head = list(itertools.islice(rows, _SNIFF_ROWS))
        decimal_comma = _guess_decimal_comma(head, vi, fallback_decimal_comma)
        rows = itertools.chain(head, rows)

    periods: dict[Any, Period | str] = {}  # cell -> Period, or error message
    seen: dict[tuple[str, str, Period], int] = {}  # duplicate detection
    fixed_indicator = default_indicator.strip() if default_indicator is not None else ""
    need = max(ui, pi, vi, -1 if ii is None else ii) + 1
    make = new_observation
    add_error = errors.append
    add_observation = observations.append

    for row_no, row in enumerate(rows, start=header_row + 1):
        if len(row) < need:
            if _is_blank(row):
                continue
            row = [*row, *([None] * (need - len(row)))]
        raw_unit = row[ui]
        raw_period = row[pi]
        raw_value = row[vi]
        before = len(errors)

        # Indicator and unit: text, required.
        if type(raw_unit) is str:
            unit = raw_unit.strip()
        else:
            unit = "" if raw_unit is None else _cell_text(raw_unit)
        if not unit and _is_blank(row):
            continue
        if ii is None:
            indicator = fixed_indicator
        else:
            raw_indicator = row[ii]
            if type(raw_indicator) is str:
                indicator = raw_indicator.strip()
            else:
                indicator = "" if raw_indicator is None else _cell_text(raw_indicator)
            if not indicator:
                add_error(ParseError(row_no, i_name, "missing_value", "The indicator is empty."))
        if not unit:
            add_error(ParseError(row_no, u_name, "missing_value", "The unit is empty."))

        # Period: cached per distinct cell, since files repeat a few periods.
        period = periods.get(raw_period)
        if period is None:
            if raw_period is None or (type(raw_period) is str and not raw_period.strip()):
                add_error(ParseError(row_no, p_name, "missing_value", "The period is empty."))
            else:
                try:
                    period = _period_from_cell(raw_period)
                except PeriodError as exc:
                    period = str(exc)
                periods[raw_period] = period
        if type(period) is str:
            add_error(ParseError(row_no, p_name, "unknown_period", period, _cell_text(raw_period)))

        # Value.
        value = None
        if raw_value is None or (type(raw_value) is str and not raw_value.strip()):
            add_error(ParseError(row_no, v_name, "missing_value", "The value is empty."))
        else:
            try:
                if type(raw_value) is str:
                    value = parse_decimal(raw_value, decimal_comma=decimal_comma)
                else:
                    value = _value_from_cell(raw_value, decimal_comma)
            except NumberError:
                add_error(
                    ParseError(
                        row_no,
                        v_name,
                        "not_a_number",
                        f"{_cell_text(raw_value)!r} is not a number.",
                        _cell_text(raw_value),
                    )
                )
            else:
                if nonnegative and value < _ZERO:
                    add_error(
                        ParseError(
                            row_no,
                            v_name,
                            "negative_count",
                            f"{_cell_text(raw_value)!r} is negative; only counts of zero or more are allowed.",
                            _cell_text(raw_value),
                        )
                    )

        if len(errors) != before:
            continue
        key = (indicator, unit, period)
        first = seen.setdefault(key, row_no)  # type: ignore[arg-type]
        if first != row_no:
            add_error(
                ParseError(
                    row_no,
                    p_name,
                    "duplicate_row",
                    f"Indicator {indicator!r}, unit {unit!r} and period {period} already appear in row {first}.",
                    f"{indicator} · {unit} · {period}",
                    first,
                )
            )
            continue
        add_observation(make(indicator, unit, period, value, row_no))  # type: ignore[arg-type]
    return result


def parse_csv_text(
    text: str,
    *,
    default_indicator: str | None = None,
    nonnegative: bool = False,
    delimiter: str | None = None,
    decimal_comma: bool | None = None,
) -> ParseResult:
    """Parse decoded CSV text. See :func:`parse_table_file` for the arguments.

    ``delimiter`` is sniffed when None (an Excel ``sep=;`` first line is
    honoured and not counted as a row). ``decimal_comma`` is guessed from the
    first rows' unambiguous values when None, falling back to a decimal comma
    unless the file is comma separated.
    """
    text, hinted = strip_preamble(text)
    delimiter = delimiter or hinted
    if delimiter is None:
        delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        with _gc_paused():
            return _parse_rows(
                reader,
                default_indicator=default_indicator,
                nonnegative=nonnegative,
                decimal_comma=decimal_comma,
                fallback_decimal_comma=delimiter != ",",
            )
    except csv.Error as exc:
        return ParseResult(
            errors=[
                ParseError(reader.line_num or None, None, "unreadable_file", f"Broken CSV: {exc}.")
            ]
        )


def xlsx_too_large(data: bytes, max_uncompressed_bytes: int) -> ParseError | None:
    """Check an XLSX archive before opening it (see :func:`pejling.core.tabular.xlsx_too_large`)."""
    problem = _xlsx_problem(data, max_uncompressed_bytes)
    return None if problem is None else ParseError(None, None, problem.code, problem.message)


def parse_xlsx_bytes(
    data: bytes,
    *,
    default_indicator: str | None = None,
    nonnegative: bool = False,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    decimal_comma: bool | None = None,
) -> ParseResult:
    """Parse the first sheet of an XLSX workbook. Numeric cells stay exact-ish:
    floats go through ``repr`` (``14.9`` -> ``Decimal('14.9')``)."""
    too_large = xlsx_too_large(data, max_uncompressed_bytes)
    if too_large is not None:
        return ParseResult(errors=[too_large])
    import openpyxl  # local import: only XLSX needs it

    def unreadable(exc: Exception) -> ParseResult:
        return ParseResult(
            errors=[
                ParseError(None, None, "unreadable_file", f"Could not read the XLSX file: {exc}.")
            ]
        )

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        return unreadable(exc)
    try:
        if not workbook.worksheets:
            return ParseResult(
                errors=[ParseError(None, None, "missing_column", "The workbook has no sheet.")]
            )
        rows: Iterator[Sequence[Any]] = workbook.worksheets[0].iter_rows(values_only=True)
        with _gc_paused():
            return _parse_rows(
                rows,
                default_indicator=default_indicator,
                nonnegative=nonnegative,
                decimal_comma=decimal_comma,
                fallback_decimal_comma=True,
            )
    except Exception as exc:  # a broken sheet part fails while iterating
        return unreadable(exc)
    finally:
        workbook.close()


_CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".tab")
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_UNSUPPORTED_SUFFIXES = (".xls", ".ods", ".numbers")


def file_kind(filename: str, data: bytes) -> Literal["csv", "xlsx", "unsupported"]:
    """How an upload is read: by its name, else an unnamed zip archive is taken for XLSX."""
    name = filename.lower()
    if name.endswith(_UNSUPPORTED_SUFFIXES):
        return "unsupported"
    if name.endswith(_XLSX_SUFFIXES) or (
        not name.endswith(_CSV_SUFFIXES) and data.startswith(b"PK\x03\x04")
    ):
        return "xlsx"
    return "csv"


def parse_table_file(
    data: bytes,
    filename: str,
    *,
    default_indicator: str | None = None,
    nonnegative: bool = False,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    decimal_comma: bool | None = None,
) -> ParseResult:
    """Parse an uploaded CSV or XLSX file of KPI values.

    The format comes from the file name's suffix; without a known suffix, a
    zip signature means XLSX and anything else is read as CSV.

    - ``default_indicator``: indicator for every row when the file has no
      indicator column (ignored when it has one).
    - ``nonnegative``: report negative values as ``negative_count`` errors.
    - ``max_uncompressed_bytes``: XLSX zip-bomb limit, checked before opening.
    - ``decimal_comma``: force the meaning of ambiguous ``1.234``/``1,234``
      (None guesses from the file).
    """
    kind = file_kind(filename, data)
    if kind == "unsupported":
        return ParseResult(
            errors=[
                ParseError(
                    None,
                    None,
                    "unsupported_format",
                    f"{filename!r}: only CSV and XLSX files are supported; save the sheet as XLSX or CSV.",
                )
            ]
        )
    if kind == "xlsx":
        return parse_xlsx_bytes(
            data,
            default_indicator=default_indicator,
            nonnegative=nonnegative,
            max_uncompressed_bytes=max_uncompressed_bytes,
            decimal_comma=decimal_comma,
        )
    return parse_csv_text(
        decode_text(data),
        default_indicator=default_indicator,
        nonnegative=nonnegative,
        decimal_comma=decimal_comma,
    )
