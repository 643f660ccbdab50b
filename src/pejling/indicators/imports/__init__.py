"""Importing KPI values: parse, map to our units and indicators, then write all or nothing.

The parsers (``sources/``) know formats; this package knows Pejling:

- :mod:`.reading`: an upload read fast (a clean CSV file) or the exact way;
- :mod:`.checking`: each value mapped to our indicators and units and checked against its
  indicator (period kind, sign, size, repeats);
- :mod:`.writing`: every value written in the caller's transaction (``COPY`` on PostgreSQL);
- :mod:`.messages`: the stored :class:`RowError` and its translated messages;
- :mod:`.batches`: the entry points (:func:`import_file`, :func:`import_observations`,
  :func:`preview_upload`, :func:`confirm_import`). A file with any bad row writes nothing;
  the batch keeps the list of every bad row and why.
"""

from .batches import (
    CONFIRMABLE,
    MAX_UPLOAD_BYTES,
    Progress,
    confirm_import,
    import_file,
    import_observations,
    interrupt_import,
    preview_upload,
    queue_import,
    start_import,
)
from .checking import (
    MAX_INTEGER_DIGITS,
    PREVIEW_ROWS,
    Checked,
    MappedValue,
    check_clean_csv,
    check_observations,
)
from .messages import COLUMN_LABELS, MESSAGES, RowError, batch_errors, iter_errors
from .reading import FAST_CSV_MIN_BYTES, MAX_XLSX_UNCOMPRESSED, parse_upload, read_and_check
from .writing import Values, write_values

__all__ = [
    "COLUMN_LABELS",
    "CONFIRMABLE",
    "FAST_CSV_MIN_BYTES",
    "MAX_INTEGER_DIGITS",
    "MAX_UPLOAD_BYTES",
    "MAX_XLSX_UNCOMPRESSED",
    "MESSAGES",
    "PREVIEW_ROWS",
    "Checked",
    "MappedValue",
    "Progress",
    "RowError",
    "Values",
    "batch_errors",
    "check_clean_csv",
    "check_observations",
    "confirm_import",
    "import_file",
    "import_observations",
    "interrupt_import",
    "iter_errors",
    "parse_upload",
    "preview_upload",
    "queue_import",
    "read_and_check",
    "start_import",
    "write_values",
]
