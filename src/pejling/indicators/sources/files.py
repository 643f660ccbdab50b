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

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pejling.core.tabular import decode_text, sniff_delimiter, strip_preamble
from pejling.core.tabular import xlsx_too_large as _xlsx_problem

from .records import ParseError, ParseResult
from .table_rows import gc_paused, parse_rows

DEFAULT_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
"""Default cap on the summed uncompressed size of an XLSX archive's members."""


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
        with gc_paused():
            return parse_rows(
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
        sheet = workbook.worksheets[0]
        # Never trust the sheet's declared <dimension>: a lying one pads every row to its
        # width and adds its rows (A1:XFD1048576 over three rows is 17 billion cells).
        sheet.reset_dimensions()
        rows: Iterator[Sequence[Any]] = sheet.iter_rows(values_only=True)
        with gc_paused():
            return parse_rows(
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
