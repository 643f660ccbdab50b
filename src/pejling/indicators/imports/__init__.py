"""Importing KPI values: parse, map to our units and indicators, then write all or nothing.

The parsers (``sources/``) know formats; this package knows Pejling:

- :mod:`.chunks`: a file on disk cut into chunks, each readable as a file (bounded memory);
- :mod:`.reading`: a chunk read fast (a clean CSV file) or the exact way, and a file read and
  checked chunk by chunk (:func:`.reading.scan_file`);
- :mod:`.checking`: each value mapped to our indicators and units and checked against its
  indicator (period kind, sign, size, repeats);
- :mod:`.writing`: every value written in the caller's transaction, chunk by chunk (``COPY`` on
  PostgreSQL); history rows only for values an import changed;
- :mod:`.messages`: the stored :class:`RowError` and its translated messages;
- :mod:`.limits`: the limits of a file (size, rows, columns, cell length, unpacked xlsx) and
  :func:`check_limits`, one streaming pass over a file on disk;
- :mod:`.stored`: uploaded files in the "imports" storage;
- :mod:`.chunks`: a file on disk read in chunks of lines (bounded memory);
- :mod:`.batches`: the entry points (:func:`check_file`, :func:`import_file` on a file on
  disk, :func:`import_observations`, :func:`receive_upload` → :func:`check_upload` →
  :func:`queue_import` → :func:`confirm_import`). A file with any bad row writes nothing;
  the batch keeps the first bad rows, why, and how many there were.
"""

from . import chunks
from .batches import (
    CONFIRMABLE,
    Progress,
    check_file,
    check_upload,
    confirm_import,
    delete_stored_file,
    import_file,
    import_observations,
    interrupt_import,
    interrupted_while_checking,
    queue_import,
    receive_upload,
    refuse_file,
    start_check,
    start_import,
)
from .checking import (
    ERRORS_KEPT,
    MAX_INTEGER_DIGITS,
    PREVIEW_ROWS,
    Checked,
    FileCheck,
    MappedValue,
    check_clean_csv,
    check_observations,
)
from .limits import (
    ACCEPTED_SUFFIXES,
    MAX_COLUMNS,
    MAX_UPLOAD_BYTES,
    MAX_XLSX_UNCOMPRESSED,
    Limits,
    accepted_name,
    check_limits,
)
from .messages import (
    COLUMN_LABELS,
    LIMIT_SENTENCES,
    MESSAGES,
    RowError,
    batch_errors,
    iter_errors,
)
from .reading import FAST_CSV_MIN_BYTES, parse_upload, read_and_check
from .writing import Values, ValueWriter, write_values

__all__ = [
    "ACCEPTED_SUFFIXES",
    "COLUMN_LABELS",
    "CONFIRMABLE",
    "ERRORS_KEPT",
    "FAST_CSV_MIN_BYTES",
    "LIMIT_SENTENCES",
    "MAX_COLUMNS",
    "MAX_INTEGER_DIGITS",
    "MAX_UPLOAD_BYTES",
    "MAX_XLSX_UNCOMPRESSED",
    "MESSAGES",
    "PREVIEW_ROWS",
    "Checked",
    "FileCheck",
    "Limits",
    "MappedValue",
    "Progress",
    "RowError",
    "ValueWriter",
    "Values",
    "accepted_name",
    "batch_errors",
    "check_clean_csv",
    "check_file",
    "check_limits",
    "check_observations",
    "check_upload",
    "chunks",
    "confirm_import",
    "delete_stored_file",
    "import_file",
    "import_observations",
    "interrupt_import",
    "interrupted_while_checking",
    "iter_errors",
    "parse_upload",
    "queue_import",
    "read_and_check",
    "receive_upload",
    "refuse_file",
    "start_check",
    "start_import",
    "write_values",
]
