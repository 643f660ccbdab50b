"""The limits of a KPI file, in one place, and the one check of a file on disk against them.

:func:`check_limits` reads a stored upload once, in bounded memory, before anything parses
it: a CSV file in chunks (never the whole file), an xlsx workbook by its zip directory's
declared sizes before it is opened, then its first sheet cell by cell as it really is (streamed
XML, ``core/xlsx_scan.py``; never the dimension the sheet declares). The worker's check of an
upload and ``pejling import-kpi`` call it alike, so a file is refused the same way (the same
:class:`~.messages.RowError`) wherever it comes from. The upload handler
(``indicators/uploads.py``) stops reading a request at :attr:`Limits.upload_bytes`. An error
keeps the figure found as a number (``core/figures.py`` writes it for the reader).

The defaults may be lowered (or raised) by ``PEJLING_IMPORT_LIMITS`` in the settings, a dict
of the field names below (``{"upload_bytes": 50 * 1024 * 1024}``).
"""

from __future__ import annotations

import codecs
import operator
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings

from pejling.core.figures import found_figure
from pejling.core.xlsx_scan import SheetLimits, scan_first_sheet

from .messages import RowError

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    upload_bytes: int = 200 * MB  # the file as uploaded
    rows: int = 10_000_000  # rows of values (the header not counted)
    # A KPI file needs four columns; a few dozen more are tolerated (exports carry extras).
    columns: int = 200
    cell_chars: int = 1_000  # characters in one cell
    xlsx_unpacked_bytes: int = 500 * MB  # an xlsx workbook unpacked (a zip bomb is refused)


DEFAULTS = Limits()
# The defaults by their old names (the parsers' own guards use them).
MAX_UPLOAD_BYTES = DEFAULTS.upload_bytes
MAX_COLUMNS = DEFAULTS.columns
MAX_XLSX_UNCOMPRESSED = DEFAULTS.xlsx_unpacked_bytes

_CHUNK = MB
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".tab")
# The file names a KPI upload may have (the page and the API alike).
ACCEPTED_SUFFIXES = (".csv", ".txt", ".tsv", *_XLSX_SUFFIXES)


def accepted_name(filename: str) -> bool:
    """Whether a file of this name may be uploaded as KPI values (CSV or Excel)."""
    return filename.lower().endswith(ACCEPTED_SUFFIXES)


def current() -> Limits:
    """The limits in force: the defaults, with ``PEJLING_IMPORT_LIMITS`` applied."""
    overrides = getattr(settings, "PEJLING_IMPORT_LIMITS", None) or {}
    known = {f.name for f in fields(Limits)}
    return replace(DEFAULTS, **{k: int(v) for k, v in overrides.items() if k in known})


def too_large(size: int, limits: Limits | None = None, *, at_least: bool = False) -> RowError:
    """The file is over the upload limit: ``size`` bytes (``at_least``: read so far)."""
    limits = limits or current()
    return RowError(
        None,
        None,
        "file_too_large",
        found_figure(size, at_least=at_least),
        limit=str(limits.upload_bytes),
    )


def check_limits(path: Path, filename: str, limits: Limits | None = None) -> RowError | None:
    """The first limit ``path`` breaks (read once, in bounded memory), or None.

    Row numbers are the file's lines (the header is row 1); a CSV file's columns are counted
    by its separator outside of any quoting, so a quoted separator counts too (a bound, not
    the parser's exact reading)."""
    limits = limits or current()
    size = path.stat().st_size
    if size > limits.upload_bytes:
        return too_large(size, limits)
    if filename.lower().endswith(_XLSX_SUFFIXES) or _is_zip(path, filename):
        return _check_xlsx(path, limits)
    return _check_csv(path, limits)


def _is_zip(path: Path, filename: str) -> bool:
    if filename.lower().endswith(_TEXT_SUFFIXES):
        return False
    with path.open("rb") as f:
        return f.read(4) == b"PK\x03\x04"


# CSV ------------------------------------------------------------------------------------------


def _check_csv(path: Path, limits: Limits) -> RowError | None:
    with path.open("rb") as f:
        head = f.read(4)
        f.seek(0)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return _CsvScan(limits, text=True).run(_decoded(f, "utf-16"))
        return _CsvScan(limits, text=False).run(iter(lambda: f.read(_CHUNK), b""))


def _decoded(f: BinaryIO, encoding: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    read = f.read
    while chunk := read(_CHUNK):
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


class _CsvScan:
    """One pass over a CSV file's lines: rows, columns and cell lengths, chunk by chunk.

    Works on bytes (UTF-8 and Windows-1252 files: every separator and line break is one byte)
    or, for UTF-16 files, on decoded text. Only whole lines are looked at; the unfinished last
    line of a chunk is carried into the next, and refused as soon as it is longer than any
    line within the limits can be (so a 10 MB line is refused at its first megabyte)."""

    def __init__(self, limits: Limits, *, text: bool) -> None:
        self.limits = limits
        self.text = text
        self.line = 0  # complete lines seen
        self.rows = 0  # of them, non-blank ones after the header
        self.sep: Any = None
        self.header: list[str] = []
        # A line within the limits has at most `columns` cells of at most `cell_chars`
        # characters (4 bytes each in UTF-8) and their separators.
        self.longest_line = limits.columns * (limits.cell_chars * 4 + 1) + 2

    def _b(self, s: str) -> Any:
        return s if self.text else s.encode()

    def run(self, chunks: Iterable[Any]) -> RowError | None:
        carry = self._b("")
        newline = self._b("\n")
        for chunk in chunks:
            buf = carry + chunk
            end = buf.rfind(newline)
            if end < 0:
                carry = buf
                if len(carry) > self.longest_line:
                    return self._lines(carry, final=True) or self._wide(carry)
                continue
            carry = buf[end + 1 :]
            problem = self._lines(buf[: end + 1], final=False)
            if problem is not None:
                return problem
            if len(carry) > self.longest_line:
                return self._lines(carry, final=True) or self._wide(carry)
        if carry:
            return self._lines(carry, final=True)
        return None

    def _wide(self, line: Any) -> RowError:
        # A line longer than any line within the limits: it breaks one of them.
        return RowError(
            self.line + 1,
            None,
            "too_many_columns",
            found_figure(line.count(self.sep) + 1, at_least=True),
            limit=str(self.limits.columns),
        )

    def _find_separator(self, block: Any) -> None:
        for raw in block.splitlines():
            stripped = raw.strip(self._b(" \t\r\ufeff") if self.text else b" \t\r\xef\xbb\xbf")
            if not stripped:
                continue
            lower = stripped.lower()
            if lower.startswith(self._b("sep=")) and len(stripped) <= 5:
                hinted = stripped[4:5]
                self.sep = hinted or self._b(",")
                continue
            if self.sep is None:
                counts = [(raw.count(self._b(s)), -i, s) for i, s in enumerate(";\t,")]
                best = max(counts)
                self.sep = self._b(best[2] if best[0] else ",")
            return

    def _lines(self, block: Any, *, final: bool) -> RowError | None:
        """Check a block of whole lines (``final``: the file's last, unfinished line)."""
        if self.sep is None:
            self._find_separator(block)
            if self.sep is None:  # blank so far
                self.line += block.count(self._b("\n"))
                return None
        sep = self.sep
        limits = self.limits
        lines_here = block.count(self._b("\n")) + (1 if final and block else 0)
        if self.rows + lines_here > limits.rows + 1:
            # Only now count exactly (blank lines are not rows).
            problem = self._count_rows(block)
            if problem is not None:
                return problem
        else:
            self.rows += lines_here
        lines = block.split(self._b("\n"))
        if not final:
            lines.pop()  # the empty text after the block's last line break
        # Whole lines at C speed: the separators of each, and each one's length; only a
        # line longer than a cell may be holds a cell too long.
        widest = max(map(operator.methodcaller("count", sep), lines), default=0)
        longest = max(map(len, lines), default=0)
        if widest < limits.columns and longest <= limits.cell_chars:
            self.line += len(lines)
            return None
        for offset, raw in enumerate(lines):
            number = self.line + offset + 1
            if raw.count(sep) >= limits.columns:
                return RowError(
                    number,
                    None,
                    "too_many_columns",
                    found_figure(raw.count(sep) + 1),
                    limit=str(limits.columns),
                )
            if len(raw) > limits.cell_chars:
                problem = self._long_cell(raw, number)
                if problem is not None:
                    return problem
        self.line += len(lines)
        return None

    def _count_rows(self, block: Any) -> RowError | None:
        for offset, raw in enumerate(block.splitlines()):
            if raw.strip():
                self.rows += 1
                if self.rows > self.limits.rows + 1:
                    return RowError(
                        self.line + offset + 1,
                        None,
                        "too_many_rows",
                        found_figure(self.rows - 1, at_least=True),
                        limit=str(self.limits.rows),
                    )
        return None

    def _long_cell(self, line: Any, number: int) -> RowError | None:
        limit = self.limits.cell_chars
        for column, cell in enumerate(line.split(self.sep), start=1):
            if len(cell) <= limit:
                continue
            cell = cell.rstrip(self._b("\r"))
            chars = len(cell) if self.text else len(_as_text(cell))
            if chars > limit:
                return RowError(
                    number,
                    self._column_name(column),
                    "cell_too_long",
                    found_figure(chars),
                    limit=str(limit),
                )
        return None

    def _column_name(self, column: int) -> str:
        return str(column)


def _as_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# xlsx -----------------------------------------------------------------------------------------


def _check_xlsx(path: Path, limits: Limits) -> RowError | None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            # Python's zipfile never inflates a member past its declared size: the sum is a
            # bound on all the scan below reads.
            if unpacked > limits.xlsx_unpacked_bytes:
                return RowError(
                    None,
                    None,
                    "xlsx_too_large",
                    found_figure(unpacked),
                    limit=str(limits.xlsx_unpacked_bytes),
                )
            # The sheet as it is, streamed; never its declared dimension (core/xlsx_scan.py).
            problem = scan_first_sheet(
                archive,
                SheetLimits(
                    columns=limits.columns, rows=limits.rows + 1, cell_chars=limits.cell_chars
                ),
            )
    except (zipfile.BadZipFile, ValueError, OSError):
        return RowError(None, None, "unreadable_file", "")
    if problem is None:
        return None
    if problem.code == "unreadable_file":
        return RowError(problem.row, None, "unreadable_file", "")
    found = problem.found or 0
    limit = {
        "too_many_columns": limits.columns,
        "too_many_rows": limits.rows,
        "cell_too_long": limits.cell_chars,
    }[problem.code]
    if problem.code == "too_many_rows":
        found -= 1  # rows of values: the header is not one
    return RowError(
        problem.row,
        None if problem.column is None else str(problem.column),
        problem.code,
        found_figure(found, at_least=problem.at_least),
        limit=str(limit),
    )


__all__ = [
    "ACCEPTED_SUFFIXES",
    "DEFAULTS",
    "MAX_COLUMNS",
    "MAX_UPLOAD_BYTES",
    "MAX_XLSX_UNCOMPRESSED",
    "Limits",
    "accepted_name",
    "check_limits",
    "current",
    "too_large",
]
