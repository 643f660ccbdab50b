"""Reading an upload: the fast reader for a clean CSV file, else the exact parser, then the
checks (:mod:`.checking`)."""

from __future__ import annotations

from pejling.indicators.models import Indicator
from pejling.indicators.sources.fast_csv import read_clean_csv
from pejling.indicators.sources.files import parse_table_file
from pejling.indicators.sources.records import ParseResult

from .checking import Checked, check_clean_csv, check_observations

MAX_XLSX_UNCOMPRESSED = 500 * 1024 * 1024


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
