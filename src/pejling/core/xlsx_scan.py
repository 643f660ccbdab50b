"""The first sheet of an xlsx workbook measured as it is, streamed, before anything parses it.

A sheet's ``<dimension ref=…>`` is what the writing program claims, not what the sheet holds:
it may say ``A1:B3`` over rows of a million cells, or ``A1:XFD1048576`` over three rows.
:func:`scan_first_sheet` never reads it. It streams the sheet's XML (and the shared strings
its cells point to) through expat in small pieces, counts what the rows really hold and stops
at the first limit passed, so a workbook is refused in bounded memory and about as fast as the
offending part is reached, however the rest of it looks.

What counts:

- a *column* is a cell's place in its row (its ``r`` reference, else its position); a cell
  with a value past ``columns`` breaks the limit. Empty (only formatted) cells are tolerated,
  up to Excel's own width of 16,384 columns: a cell past that, or a row of more cell elements
  than that, is nothing Excel writes and is refused too (a parser would build every one);
- a *row* counts when one of its cells has a value; a row numbered past Excel's 1,048,576
  makes the sheet unreadable (no sheet has one, and a parser fills the gap with empty rows);
- a *cell's length* is the characters of a text cell (a shared string, an inline string or a
  formula's text result); numbers are not counted.

Plain Python without Django and without domain knowledge, like :mod:`.tabular`: the KPI
limits (``indicators/imports/limits.py``) and the organisation file sync read workbooks
through it. The caller checks the archive's unpacked size first (zipfile never inflates a
member past its declared size, so that sum bounds everything read here).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any
from xml.parsers import expat

EXCEL_COLUMNS = 16_384  # XFD
EXCEL_ROWS = 1_048_576
_READ = 64 * 1024  # bytes of XML fed to the parser at a time

_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_RELS_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"


@dataclass(frozen=True, slots=True)
class SheetLimits:
    columns: int
    rows: int  # rows with a value, the header included
    cell_chars: int


@dataclass(frozen=True, slots=True)
class SheetProblem:
    """The first limit the sheet breaks: ``too_many_columns``, ``too_many_rows``,
    ``cell_too_long`` or ``unreadable_file``; where (1-based row and column numbers) and the
    figure found (``at_least``: the scan stopped there, the sheet holds at least that)."""

    code: str
    row: int | None = None
    column: int | None = None
    found: int | None = None
    at_least: bool = False


class _Stop(Exception):
    def __init__(self, problem: SheetProblem) -> None:
        self.problem = problem


def scan_first_sheet(archive: zipfile.ZipFile, limits: SheetLimits) -> SheetProblem | None:
    """The first limit the workbook's first worksheet breaks, or None (see the module)."""
    try:
        sheet, shared = _first_sheet_parts(archive)
        if sheet is None:
            return None  # no sheet: the parser says so
        long_strings = _long_shared_strings(archive, shared, limits.cell_chars)
        with archive.open(sheet) as source:
            _parse(source, _SheetScan(limits, long_strings).handlers())
    except _Stop as stop:
        return stop.problem
    except (expat.ExpatError, zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError):
        return SheetProblem("unreadable_file")
    return None


def column_number(reference: str) -> int:
    """``"B7"`` -> 2, ``"XFD1"`` -> 16384 (0 when the reference names no column)."""
    number = 0
    for ch in reference:
        o = ord(ch)
        if 65 <= o <= 90:
            number = number * 26 + o - 64
        elif 97 <= o <= 122:
            number = number * 26 + o - 96
        else:
            break
        if number > EXCEL_COLUMNS:
            return EXCEL_COLUMNS + 1  # past any sheet; the exact figure does not matter
    return number


# The parts -------------------------------------------------------------------------------------


def _local(name: str) -> str:
    return name[name.rfind(" ") + 1 :]


def _parse(source: IO[bytes], handlers: dict[str, Callable[..., Any]]) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.buffer_size = _READ

    def refuse(*args: Any) -> None:
        # A DOCTYPE or an entity declaration has no place in a workbook (entity expansion).
        raise _Stop(SheetProblem("unreadable_file"))

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    for name, handler in handlers.items():
        setattr(parser, name, handler)
    while chunk := source.read(_READ):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _attributes_of(archive: zipfile.ZipFile, member: str, element: str) -> list[dict[str, str]]:
    """The attributes of every ``element`` in a small part (a workbook, its relationships)."""
    found: list[dict[str, str]] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if _local(name) == element:
            found.append({_local(k): v for k, v in attributes.items()})

    with archive.open(member) as source:
        _parse(source, {"StartElementHandler": start})
    return found


def _target(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _first_sheet_parts(archive: zipfile.ZipFile) -> tuple[str | None, str | None]:
    """The first worksheet's part and the shared strings' part (as openpyxl finds them)."""
    names = set(archive.namelist())
    workbook = "xl/workbook.xml"
    if "_rels/.rels" in names:
        for rel in _attributes_of(archive, "_rels/.rels", "Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                workbook = _target("", rel.get("Target", ""))
                break
    if workbook not in names:
        raise KeyError(workbook)
    rels_part = _rels_of(workbook)
    rels = (
        {r.get("Id", ""): r for r in _attributes_of(archive, rels_part, "Relationship")}
        if rels_part in names
        else {}
    )
    shared = next(
        (
            _target(workbook, r.get("Target", ""))
            for r in rels.values()
            if r.get("Type", "").endswith("/sharedStrings")
        ),
        None,
    )
    sheet = None
    for entry in _attributes_of(archive, workbook, "sheet"):
        found = rels.get(entry.get("id", ""))
        if found is not None and found.get("Type", "").endswith("/worksheet"):
            sheet = _target(workbook, found.get("Target", ""))
            break
    if shared is not None and shared not in names:
        shared = None
    return sheet, shared


def _long_shared_strings(
    archive: zipfile.ZipFile, part: str | None, cell_chars: int
) -> dict[int, int]:
    """The shared strings longer than ``cell_chars``: index -> length (only those are kept,
    so the table's size never is)."""
    if part is None:
        return {}
    scan = _SharedStrings(cell_chars)
    with archive.open(part) as source:
        _parse(
            source,
            {
                "StartElementHandler": scan.start,
                "EndElementHandler": scan.end,
                "CharacterDataHandler": scan.chars,
            },
        )
    return scan.long


class _SharedStrings:
    """Each ``<si>``'s characters (its ``<t>`` texts, rich runs included, phonetic ones not)."""

    def __init__(self, cell_chars: int) -> None:
        self.cell_chars = cell_chars
        self.long: dict[int, int] = {}
        self.index = -1
        self.length = 0
        self.in_t = False
        self.phonetic = 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = _local(name)
        if local == "si":
            self.index += 1
            self.length = 0
        elif local == "t":
            self.in_t = True
        elif local == "rPh":
            self.phonetic += 1

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "si" and self.length > self.cell_chars:
            self.long[self.index] = self.length
        elif local == "t":
            self.in_t = False
        elif local == "rPh":
            self.phonetic -= 1

    def chars(self, data: str) -> None:
        if self.in_t and not self.phonetic:
            self.length += len(data)


class _SheetScan:
    """The sheet's rows, cell by cell, as expat reports them."""

    def __init__(self, limits: SheetLimits, long_strings: dict[int, int]) -> None:
        self.limits = limits
        self.long_strings = long_strings
        self.row = 0  # the current row's number
        self.rows = 0  # rows with a value so far
        self.row_has_value = False
        self.cells = 0  # cell elements in the current row
        self.column = 0  # the current cell's column
        self.kind = ""  # the current cell's type (its t attribute)
        self.text = 0  # characters of the current cell's value (its <v>, or <is>'s <t>)
        self.index = ""  # the first characters of a shared-string cell's <v>
        self.collect = 0  # 1 inside <v>, 2 inside <is><t>, 0 elsewhere
        self.inline = False
        self.phonetic = 0

    def handlers(self) -> dict[str, Callable[..., Any]]:
        return {
            "StartElementHandler": self.start,
            "EndElementHandler": self.end,
            "CharacterDataHandler": self.chars,
        }

    def stop(self, code: str, found: int | None = None, *, at_least: bool = False) -> None:
        column = self.column if code in ("too_many_columns", "cell_too_long") else None
        raise _Stop(SheetProblem(code, self.row, column, found, at_least))

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name[name.rfind(" ") + 1 :]  # _local, inlined: called for every element
        if local == "c":
            self.cells += 1
            reference = attributes.get("r")
            self.column = column_number(reference) if reference else self.column + 1
            if self.column > EXCEL_COLUMNS or self.cells > EXCEL_COLUMNS:
                self.stop("too_many_columns", max(self.column, self.cells), at_least=True)
            self.kind = attributes.get("t", "n")
            self.text = 0
            self.index = ""
            self.inline = False
        elif local == "v":
            self.collect = 1
        elif local == "is":
            self.inline = True
        elif local == "t" and self.inline and not self.phonetic:
            self.collect = 2
        elif local == "rPh":
            self.phonetic += 1
        elif local == "row":
            reference = attributes.get("r")
            self.row = int(reference) if reference and reference.isdigit() else self.row + 1
            if self.row > EXCEL_ROWS:
                self.stop("unreadable_file")  # no sheet has such a row
            self.cells = 0
            self.column = 0
            self.row_has_value = False

    def chars(self, data: str) -> None:
        if self.collect:
            self.text += len(data)
            if self.collect == 1 and len(self.index) < 12:
                self.index += data[:12]

    def end(self, name: str) -> None:
        local = name[name.rfind(" ") + 1 :]
        if local in ("v", "t"):
            self.collect = 0
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "is":
            self.inline = False
        elif local == "c":
            if self.text:
                self.value()
        elif local == "row" and self.row_has_value:
            self.rows += 1
            if self.rows > self.limits.rows:
                self.stop("too_many_rows", self.rows, at_least=True)

    def value(self) -> None:
        """The current cell has a value: its place and its length."""
        limits = self.limits
        self.row_has_value = True
        if self.column > limits.columns:
            self.stop("too_many_columns", self.column, at_least=True)
        kind = self.kind
        if kind == "s":
            index = self.index.strip()
            length = self.long_strings.get(int(index), 0) if index.isdigit() else 0
        elif kind in ("inlineStr", "str"):
            length = self.text
        else:
            return
        if length > limits.cell_chars:
            self.stop("cell_too_long", length)


__all__ = ["EXCEL_COLUMNS", "EXCEL_ROWS", "SheetLimits", "SheetProblem", "scan_first_sheet"]
