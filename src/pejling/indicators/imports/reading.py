"""Reading an upload: the fast reader for a clean CSV file, else the exact parser, then the
checks (:mod:`.checking`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from pejling.indicators.models import Indicator
from pejling.indicators.sources.fast_csv import read_clean_csv
from pejling.indicators.sources.files import file_kind, parse_table_file
from pejling.indicators.sources.records import ParseError, ParseResult

from .checking import Checked, FileCheck, KeySet, check_clean_csv, check_observations
from .chunks import _HEAD_BYTES, decimal_comma_of, iter_chunks
from .limits import MAX_COLUMNS, MAX_XLSX_UNCOMPRESSED
from .messages import RowError

# The limits live in .limits (checked on the stored file before it is read). The header line
# is looked at again here before any reader builds columns of it: a 10 MB line of a million
# separators would otherwise become a million columns.
_HEADER_LOOK = 1024 * 1024


def parse_upload(
    data: bytes,
    filename: str,
    *,
    indicator: Indicator | None = None,
    decimal_comma: bool | None = None,
) -> ParseResult:
    return parse_table_file(
        data,
        filename,
        default_indicator=indicator.code if indicator else None,
        max_uncompressed_bytes=MAX_XLSX_UNCOMPRESSED,
        decimal_comma=decimal_comma,
    )


# CSV uploads of at least this size try the fast reader first. 0: every one does (a small file
# costs a few milliseconds either way, and so every upload exercises the fast reader); the
# tests raise it to read every file the exact way.
FAST_CSV_MIN_BYTES = 0


def read_and_check(
    data: bytes,
    filename: str,
    *,
    indicator: Indicator | None = None,
    decimal_comma: bool | None = None,
) -> tuple[int, Checked]:
    """Parse and check an upload: ``(rows in the file, checked)``.

    A clean CSV file is read by the fast reader; any other file, and every file with an error,
    the exact way (:func:`parse_upload`, :func:`.check_observations`), which names each bad row and column.
    """
    too_wide = csv_header_problem(data, filename)
    if too_wide is not None:
        return 0, check_observations(ParseResult(errors=[too_wide]))
    if len(data) >= FAST_CSV_MIN_BYTES:
        clean = read_clean_csv(
            data,
            filename,
            default_indicator=indicator.code if indicator else None,
            decimal_comma=decimal_comma,
        )
        if clean is not None:
            checked = check_clean_csv(clean)
            if checked is not None:
                return clean.frame.height, checked
    result = parse_upload(data, filename, indicator=indicator, decimal_comma=decimal_comma)
    return len(result.observations) + len(result.errors), check_observations(result)


def scan_file(
    path: Path,
    filename: str,
    *,
    indicator: Indicator | None,
    into: FileCheck,
    progress: Callable[[str, int, int], None] | None = None,
) -> Iterator[Checked]:
    """Read and check a file on disk chunk by chunk (:mod:`.chunks`), gathering what the
    whole file holds in ``into``; yields each chunk's checked values (the caller writes them,
    or not: a file with any error is written not at all). Row numbers are the file's. The
    same value in two chunks is found when the file is read through (``into.errors``)."""
    with path.open("rb") as file:
        head = file.read(_HEAD_BYTES)
    too_wide = csv_header_problem(head, filename)
    if too_wide is not None:
        into.add_errors(check_observations(ParseResult(errors=[too_wide])).errors)
        into.finish()
        return
    decimal_comma = decimal_comma_of(head) if file_kind(filename, head) == "csv" else None
    keys = KeySet()
    for chunk in iter_chunks(path, filename):
        rows, checked = read_and_check(
            chunk.data, filename, indicator=indicator, decimal_comma=decimal_comma
        )
        # A file's own problems (its header, its format) are the first chunk's to say; an
        # "empty file" is said of the whole file at the end.
        checked.errors = [e for e in checked.errors if e.code != "empty_file"]
        file_level = [e for e in checked.errors if e.row is None or e.row <= chunk.header_rows]
        if file_level and not chunk.first:
            checked.errors = [e for e in checked.errors if e not in file_level]
        checked.shift_rows(chunk.row_offset)
        into.rows_total += rows
        into.add_errors(checked.errors)
        into.add_values(checked)
        keys.add(checked)
        if progress:
            progress("checked", into.values_total, into.values_total)
        yield checked
        if file_level and chunk.first:
            break  # every chunk would say the same
    into.add_errors(keys.repeated())
    if not into.values_total and not into.errors_total:
        into.add_errors([RowError(None, None, "empty_file")])
    into.finish()


def csv_header_problem(data: bytes, filename: str) -> ParseError | None:
    """A CSV file whose first line has more than :data:`MAX_COLUMNS` columns (or is longer
    than a megabyte): refused before it is parsed, naming the limit."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return None
    head = data[:_HEADER_LOOK]
    for line in head.splitlines():
        if line.strip(b" \t\r\xef\xbb\xbf") and not line.lower().startswith(b"sep="):
            first = line
            break
    else:
        first = head
    complete = len(first) < _HEADER_LOOK
    columns = max(first.count(sep) for sep in (b";", b",", b"\t")) + 1
    if columns <= MAX_COLUMNS and complete:
        return None
    return ParseError(
        1,
        None,
        "too_many_columns",
        f"The header line has {columns if complete else 'too many'} columns;"
        f" at most {MAX_COLUMNS} are read.",
        f"{columns}" if complete else f"> {_HEADER_LOOK} bytes",
    )
