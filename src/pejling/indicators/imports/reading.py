"""Reading an upload: the fast reader for a clean CSV file, else the exact parser, then the
checks (:mod:`.checking`)."""

from __future__ import annotations

from pejling.indicators.models import Indicator
from pejling.indicators.sources.fast_csv import read_clean_csv
from pejling.indicators.sources.files import parse_table_file
from pejling.indicators.sources.records import ParseError, ParseResult

from .checking import Checked, check_clean_csv, check_observations
from .limits import MAX_COLUMNS, MAX_XLSX_UNCOMPRESSED

# The limits live in .limits (checked on the stored file before it is read). The header line
# is looked at again here before any reader builds columns of it: a 10 MB line of a million
# separators would otherwise become a million columns.
_HEADER_LOOK = 1024 * 1024


def parse_upload(data: bytes, filename: str, *, indicator: Indicator | None = None) -> ParseResult:
    return parse_table_file(
        data,
        filename,
        default_indicator=indicator.code if indicator else None,
        max_uncompressed_bytes=MAX_XLSX_UNCOMPRESSED,
    )


# CSV uploads of at least this size try the fast reader first. 0: every one does (a small file
# costs a few milliseconds either way, and so every upload exercises the fast reader); the
# tests raise it to read every file the exact way.
FAST_CSV_MIN_BYTES = 0


def read_and_check(
    data: bytes, filename: str, *, indicator: Indicator | None = None
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
            data, filename, default_indicator=indicator.code if indicator else None
        )
        if clean is not None:
            checked = check_clean_csv(clean)
            if checked is not None:
                return clean.frame.height, checked
    result = parse_upload(data, filename, indicator=indicator)
    return len(result.observations) + len(result.errors), check_observations(result)


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
