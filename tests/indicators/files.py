"""Test helpers for imports of files: bytes to a file on disk, an upload checked as the worker
checks it (``imports.receive_upload`` → ``start_check`` → ``check_upload``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile

from pejling.indicators import imports
from pejling.indicators.models import ImportBatch, Indicator


def import_bytes(*, data: bytes, filename: str, **kwargs: Any) -> ImportBatch:
    """``imports.import_file`` of ``data`` written to a file (as the command reads one)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "upload"
        path.write_bytes(data)
        return imports.import_file(path=path, filename=filename, **kwargs)


def checked_upload(
    *, data: bytes, filename: str, by: Any, indicator: Indicator | None = None
) -> ImportBatch:
    """An upload kept and checked (what the worker's job does), without the job queue."""
    batch = imports.receive_upload(
        upload=ContentFile(data, name=filename), filename=filename, by=by, indicator=indicator
    )
    assert imports.start_check(batch_id=batch.pk, job_id="test")
    return imports.check_upload(batch_id=batch.pk)


def stored_file(batch: ImportBatch) -> Path:
    """Where a batch's uploaded file is (the tests' "imports" storage is a directory)."""
    return Path(imports.stored.storage().path(batch.file))
