"""Reading an organisation from a CSV or Excel file: one unit a row.

Columns (headers in English, Swedish, Danish or Norwegian, any case; see
:data:`HEADER_ALIASES`): unit code, name, parent code (empty for a root), level (a depth such
as ``2`` or a level name such as ``Centre``), and optionally the date the unit closed.

CSV is read as the KPI files are (the same decoding, separator sniffing and header
normalisation from ``pejling.core.tabular``, plain Python without Django); XLSX is the
first sheet, after the same zip-bomb check. This module only reads: every
problem it can see in a row alone is reported with the row (1-based, header row 1) and the
column header as written; what needs the database (levels, parents, cycles) is checked by the
sync (:mod:`.from_sources`).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pejling.core.figures import found_figure
from pejling.core.tabular import (
    decode_text,
    escape_control_characters,
    has_control_characters,
    normalise_header,
    sniff_delimiter,
    strip_preamble,
)
from pejling.core.xlsx_scan import SheetLimits, scan_first_sheet

from .report import RowError

# The limits of an organisation file (a municipality has a few thousand units, in four or five
# columns): checked before a row is parsed, each refused naming the limit (``RowError.limit``).
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_COLUMNS = 200
MAX_ROWS = 100_000  # rows of units, the header not counted
MAX_CELL_CHARS = 1_000  # a guard on any cell; a code and a name have their own (below)
CODE_MAX = 50
NAME_MAX = 200

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": (
        "code",
        "unit code",
        "unit_code",
        "unit id",
        "kod",
        "enhetskod",
        "enhetens kod",
        "enhet kod",
        "kode",
        "enhedskode",
        "enhed kode",
        "enhetskode",
        "enhet kode",
        "user_key",
        "brugervendt nøgle",
    ),
    "name": (
        "name",
        "unit name",
        "namn",
        "enhetsnamn",
        "benämning",
        "navn",
        "enhedsnavn",
        "enhetsnavn",
        "betegnelse",
    ),
    "parent": (
        "parent code",
        "parent",
        "parent unit",
        "parent unit code",
        "överordnad",
        "överordnad enhet",
        "överordnad kod",
        "överordnad enhetskod",
        "overordnad",
        "förälder",
        "overordnet",
        "overordnet enhed",
        "overordnet kode",
        "overordnet enhedskode",
        "forælder",
        "overordnet enhet",
        "overordnet enhetskode",
        "forelder",
    ),
    "level": (
        "level",
        "unit level",
        "depth",
        "nivå",
        "enhetsnivå",
        "niva",
        "niveau",
        "enhedsniveau",
        "dybde",
        "djup",
    ),
    "closed_on": (
        "closed on",
        "closed",
        "end date",
        "stängd",
        "stängd den",
        "nedlagd",
        "slutdatum",
        "lukket",
        "lukket den",
        "nedlagt",
        "slutdato",
        "ophørt",
        "avsluttet",
    ),
}
REQUIRED = ("code", "name", "parent", "level")

_LOOKUP = {
    normalise_header(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y%m%d")
_DIGITS = re.compile(r"^\d{1,3}$")


@dataclass(frozen=True)
class FileRow:
    """One well-formed row; ``level`` is a depth (int) or a level name (str)."""

    row: int
    code: str
    name: str
    parent_code: str
    level: int | str
    closed_on: date | None


@dataclass
class FileResult:
    rows: list[FileRow]
    errors: list[RowError]
    headers: dict[str, str]  # field -> header as written
    has_closed_on: bool = False
    broken_codes: set[str] = field(default_factory=set)  # codes of rows with errors


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return " ".join(cell.split())
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    return str(cell).strip()


def _blank(row: Sequence[Any]) -> bool:
    return all(_text(cell) == "" for cell in row)


def parse_date(cell: Any) -> date:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise ValueError(text)


def _level(cell: Any) -> int | str:
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    text = _text(cell)
    return int(text) if _DIGITS.match(text) else text


def parse_rows(rows: Iterable[Sequence[Any]]) -> FileResult:
    """The shared reading of CSV (text cells) and XLSX (typed cells): find the header row,
    place the columns, then read each row after it."""
    result = FileResult([], [], {})
    errors = result.errors
    iterator: Iterator[Sequence[Any]] = iter(rows)
    found = _header(iterator)
    if found is None:
        errors.append(RowError(None, None, "empty_file"))
        return result
    header_row, header = found
    wide = _too_wide(header, header_row)
    if wide is not None:
        errors.append(wide)
        return result
    index = _column_index(header, result.headers)
    missing = [name for name in REQUIRED if name not in index]
    if missing:
        accepted = "; ".join(f"{name}: {', '.join(HEADER_ALIASES[name][:6])}" for name in missing)
        errors.append(
            RowError(
                header_row, ", ".join(missing), "missing_column", params={"accepted": accepted}
            )
        )
        return result
    result.has_closed_on = "closed_on" in index
    reader = _RowReader(index, result.headers, errors)
    width = max(index.values()) + 1
    for row_no, cells in enumerate(iterator, start=header_row + 1):
        wide = _too_wide(cells, row_no)
        if wide is not None:
            errors.append(wide)
            break  # read no further: the same may follow
        if _blank(cells):
            continue
        if len(result.rows) + len(result.broken_codes) >= MAX_ROWS:
            errors.append(
                RowError(
                    row_no,
                    None,
                    "too_many_rows",
                    found_figure(MAX_ROWS + 1, at_least=True),
                    limit=str(MAX_ROWS),
                )
            )
            break
        before = len(errors)
        row = reader.read([*cells, *([None] * (width - len(cells)))], row_no)
        if len(errors) == before:
            result.rows.append(row)
        elif row.code:
            result.broken_codes.add(row.code)
    if not result.rows and not errors:
        errors.append(RowError(None, None, "empty_file"))
    return result


def _too_wide(cells: Sequence[Any], row_no: int) -> RowError | None:
    """A row of more than :data:`MAX_COLUMNS` cells, empty or not (a CSV row: an XLSX sheet
    was measured before it was read, and its rows are never padded)."""
    if len(cells) <= MAX_COLUMNS:
        return None
    return RowError(
        row_no,
        str(MAX_COLUMNS + 1),
        "too_many_columns",
        found_figure(len(cells)),
        limit=str(MAX_COLUMNS),
    )


def _header(rows: Iterator[Sequence[Any]]) -> tuple[int, Sequence[Any]] | None:
    """The first non-blank row and its 1-based number, or None for an empty file."""
    for row_no, cells in enumerate(rows, start=1):
        if not _blank(cells):
            return row_no, cells
    return None


def _column_index(header: Sequence[Any], headers: dict[str, str]) -> dict[str, int]:
    """Each recognised column's position (the first one wins); its header as written goes in
    ``headers``."""
    index: dict[str, int] = {}
    for position, cell in enumerate(header):
        found = _LOOKUP.get(normalise_header(cell)) if cell is not None else None
        if found is not None and found not in index:
            index[found] = position
            headers[found] = _text(cell).replace("\ufeff", "")
    return index


class _RowReader:
    """Reads one row's cells; each problem goes to ``errors``, named by its column's header."""

    def __init__(self, index: dict[str, int], names: dict[str, str], errors: list[RowError]):
        self.index = index
        self.names = names
        self.errors = errors

    def read(self, row: list[Any], row_no: int) -> FileRow:
        """The row as read (only meaningful when no error was added)."""
        index = self.index
        for field_name, at in index.items():
            cell = row[at]
            if isinstance(cell, str) and has_control_characters(cell, allow_breaks=True):
                shown = escape_control_characters(cell)
                self._error(row_no, field_name, "control_character", f"'{shown}'")
                row = [*row]
                row[at] = shown  # read on as shown: the row is refused anyway
        code = self._code(_text(row[index["code"]]), row_no)
        name = self._name(_text(row[index["name"]]), row_no)
        parent = _text(row[index["parent"]])
        level = self._level_cell(row[index["level"]], row_no)
        closed_on = (
            self._closed_on(row[index["closed_on"]], row_no) if "closed_on" in index else None
        )
        return FileRow(row_no, code, name, parent, level, closed_on)

    def _error(
        self, row_no: int, field_name: str, code: str, detail: str = "", limit: int | None = None
    ) -> None:
        column = self.names[field_name]
        self.errors.append(
            RowError(row_no, column, code, detail, "" if limit is None else str(limit))
        )

    def _code(self, code: str, row_no: int) -> str:
        if not code:
            self._error(row_no, "code", "missing_value")
        elif len(code) > CODE_MAX:
            self._error(row_no, "code", "too_long", found_figure(len(code)), CODE_MAX)
        elif "/" in code:
            self._error(row_no, "code", "bad_code", repr(code))
        return code

    def _name(self, name: str, row_no: int) -> str:
        if not name:
            self._error(row_no, "name", "missing_value")
        elif len(name) > NAME_MAX:
            self._error(row_no, "name", "too_long", found_figure(len(name)), NAME_MAX)
        return name

    def _level_cell(self, raw: Any, row_no: int) -> int | str:
        if _text(raw) == "":
            self._error(row_no, "level", "missing_value")
            return ""
        return _level(raw)

    def _closed_on(self, raw: Any, row_no: int) -> date | None:
        if not _text(raw):
            return None
        try:
            return parse_date(raw)
        except ValueError:
            self._error(row_no, "closed_on", "bad_date", repr(_text(raw)))
            return None


def parse_csv_text(text: str) -> FileResult:
    text, delimiter = strip_preamble(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or sniff_delimiter(text))
    try:
        return parse_rows(reader)
    except csv.Error as exc:
        return FileResult(
            [],
            [
                # The csv module's own words, kept as the technical detail.
                RowError(reader.line_num or None, None, "broken_csv", str(exc))
            ],
            {},
        )


def too_large(size: int) -> FileResult | None:
    """A file over :data:`MAX_FILE_BYTES` (judged by its size before it is read)."""
    if size <= MAX_FILE_BYTES:
        return None
    error = RowError(None, None, "file_too_large", found_figure(size), limit=str(MAX_FILE_BYTES))
    return FileResult([], [error], {})


def _refused(error: RowError) -> FileResult:
    return FileResult([], [error], {})


def _xlsx_limits(data: bytes) -> RowError | None:
    """The workbook's unpacked size, then its first sheet as it is, streamed
    (:mod:`pejling.core.xlsx_scan`; never its declared dimension)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > MAX_XLSX_UNCOMPRESSED:
                # zipfile never inflates a member past its declared size: the sum is a bound.
                return RowError(
                    None,
                    None,
                    "xlsx_too_large",
                    found_figure(unpacked),
                    limit=str(MAX_XLSX_UNCOMPRESSED),
                )
            problem = scan_first_sheet(
                archive,
                SheetLimits(columns=MAX_COLUMNS, rows=MAX_ROWS + 1, cell_chars=MAX_CELL_CHARS),
            )
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return _broken_workbook(exc)
    if problem is None:
        return None
    column = None if problem.column is None else str(problem.column)
    if problem.code == "unreadable_file":
        return RowError(problem.row, None, "unreadable_file")
    found = (problem.found or 0) - (1 if problem.code == "too_many_rows" else 0)
    limit = {"too_many_columns": MAX_COLUMNS, "too_many_rows": MAX_ROWS}.get(
        problem.code, MAX_CELL_CHARS
    )
    return RowError(
        problem.row,
        column,
        problem.code,
        found_figure(found, at_least=problem.at_least),
        limit=str(limit),
    )


def parse_xlsx_bytes(data: bytes) -> FileResult:
    refused = _xlsx_limits(data)
    if refused is not None:
        return _refused(refused)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        return _refused(_broken_workbook(exc))
    try:
        if not workbook.worksheets:
            return _refused(RowError(None, None, "empty_file"))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the rows as they are, never padded to a declared size
        return parse_rows(sheet.iter_rows(values_only=True))
    except Exception as exc:  # a broken sheet part fails while iterating
        return _refused(_broken_workbook(exc))
    finally:
        workbook.close()


def _broken_workbook(exc: Exception) -> RowError:
    """A workbook openpyxl could not read: our own message, openpyxl's English words kept
    (shortened) as the technical detail."""
    return RowError(None, None, "broken_workbook", str(exc)[:200])


def parse_unit_file(data: bytes, filename: str) -> FileResult:
    """A CSV or XLSX file of units; the suffix decides, else a zip signature means XLSX."""
    refused = too_large(len(data))
    if refused is not None:
        return refused
    name = filename.lower()
    if name.endswith((".xls", ".ods", ".numbers")):
        return _refused(RowError(None, None, "unsupported_format", repr(filename)))
    if name.endswith((".xlsx", ".xlsm")) or (
        not name.endswith((".csv", ".txt", ".tsv", ".tab")) and data.startswith(b"PK\x03\x04")
    ):
        return parse_xlsx_bytes(data)
    return parse_csv_text(decode_text(data))
