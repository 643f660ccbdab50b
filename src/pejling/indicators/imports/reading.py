"""Reading an upload: the fast reader for a clean CSV file, else the exact parser, then the
checks (:mod:`.checking`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from pejling.indicators.models import Indicator
from pejling.indicators.sources.fast_csv import read_clean_csv
from pejling.indicators.sources.files import file_kind, parse_table_file
from pejling.indicators.sources.records import ParseResult
from pejling.indicators.sources.table_rows import decimal_comma_of

from .checking import Checked, FileCheck, KeySet, check_clean_csv, check_observations
from .chunks import HEAD_BYTES, Chunk, iter_chunks
from .limits import MAX_XLSX_UNCOMPRESSED
from .messages import RowError

# The limits live in .limits (checked on the stored file before it is read).


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
    phase: str = "checking",
    progress: Callable[[str, int, int], None] | None = None,
) -> Iterator[Checked]:
    """Read and check a file on disk chunk by chunk (:mod:`.chunks`), gathering what the
    whole file holds in ``into``; yields each chunk's checked values (the caller writes them,
    or not: a file with any error is written not at all). Row numbers are the file's. The
    same value in two chunks is found as the chunks come (:class:`.checking.KeySet`: 8 bytes
    a value), and named in ``into.errors`` when the file is read through (the rows it repeats
    are found by reading the file again, up to the last repeat kept).
    ``progress`` is told ``(phase, bytes read, bytes in the file)`` after each chunk.

    The file has passed its limits (:func:`.limits.check_limits`, which the entry points in
    :mod:`.batches` call first): a header of a million columns never reaches a reader."""
    keys = KeySet()
    for chunk, rows, checked in _checked_chunks(path, filename, indicator):
        into.rows_total += rows
        into.add_errors(checked.errors)
        into.add_values(checked)
        keys.add(checked)
        if progress:
            progress(phase, chunk.end, chunk.size)
        yield checked
        del chunk, checked  # not held while the next chunk is read
    if keys.repeats:
        again = (checked for _chunk, _rows, checked in _checked_chunks(path, filename, indicator))
        kept = keys.repeated(again)
        into.add_errors(kept)
        into.errors_total += keys.repeats_total - len(kept)
    if not into.values_total and not into.errors_total:
        into.add_errors([RowError(None, None, "empty_file")])
    into.finish()


def _checked_chunks(
    path: Path, filename: str, indicator: Indicator | None
) -> Iterator[tuple[Chunk, int, Checked]]:
    """Each chunk of the file, its rows and its checked values (row numbers the file's)."""
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
    decimal_comma = decimal_comma_of(head) if file_kind(filename, head) == "csv" else None
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
        first = chunk.first
        yield chunk, rows, checked
        # Nothing of this chunk is held while the next one is read.
        del chunk, checked
        if file_level and first:
            return  # every chunk would say the same
