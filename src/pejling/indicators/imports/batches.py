"""An import as a batch: check, then (unless dry-run or any row is bad) write, all or nothing;
the :class:`~pejling.indicators.models.ImportBatch` records how it went. The entry points for
views, commands, the API and the demo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pejling.core.history import SYSTEM, save_as
from pejling.core.tabular import escape_control_characters
from pejling.indicators.models import ImportBatch, ImportStatus, Indicator
from pejling.indicators.sources.records import ParseResult

from .checking import Checked, check_observations
from .messages import RowError
from .reading import read_and_check
from .writing import write_values

MAX_UPLOAD_BYTES = 200 * 1024 * 1024

Progress = Callable[[str, int, int], None]


def import_observations(
    *,
    result: ParseResult,
    source: str,
    by: Any,
    filename: str = "",
    indicator: Indicator | None = None,
    unit_codes: dict[str, str] | None = None,
    dry_run: bool = False,
    batch: ImportBatch | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    """Check and (unless ``dry_run`` or any row is bad) write parsed values, all or nothing."""
    checked = check_observations(result, unit_codes=unit_codes)
    return _write_checked(
        checked,
        rows_total=len(result.observations) + len(result.errors),
        source=source,
        by=by,
        filename=filename,
        indicator=indicator,
        dry_run=dry_run,
        batch=batch,
        progress=progress,
    )


def _write_checked(
    checked: Checked,
    *,
    rows_total: int,
    source: str,
    by: Any,
    filename: str,
    indicator: Indicator | None,
    dry_run: bool,
    batch: ImportBatch | None,
    progress: Progress | None,
) -> ImportBatch:
    """Write checked values unless ``dry_run`` or any row is bad, all or nothing."""
    count = checked.count
    if progress:
        progress("checked", count, count)
    batch = batch or ImportBatch(
        source=source, filename=filename, default_indicator=indicator, created_by=by
    )
    batch.rows_total = rows_total
    batch.errors = [e.as_dict() for e in checked.errors]
    if checked.errors:
        batch.status = ImportStatus.FAILED
        batch.finished_at = timezone.now()
        save_as(batch, by, reason="rejected")
        return batch
    if dry_run:
        batch.status = ImportStatus.PREVIEW
        batch.rows_done = 0
        if batch.pk:
            save_as(batch, by)
        return batch
    with transaction.atomic():
        batch.status = ImportStatus.DONE
        save_as(batch, by)
        created, updated = write_values(checked.to_store, batch)
        batch.created, batch.updated = created, updated
        batch.rows_done = count
        batch.finished_at = timezone.now()
        batch.payload = None
        save_as(batch, by, reason="imported")
    if progress:
        progress("written", count, count)
    return batch


def stored_filename(filename: str) -> str:
    """An uploaded file's name as kept on its batch: control characters shown, not stored."""
    return escape_control_characters(filename)[:255]


def import_file(
    *,
    data: bytes,
    filename: str,
    by: Any,
    indicator: Indicator | None = None,
    dry_run: bool = False,
    batch: ImportBatch | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    filename = stored_filename(filename)
    if len(data) > MAX_UPLOAD_BYTES:
        batch = batch or ImportBatch(source="file", filename=filename, created_by=by)
        batch.status = ImportStatus.FAILED
        batch.errors = [RowError(None, None, "file_too_large").as_dict()]
        save_as(batch, by)
        return batch
    rows_total, checked = read_and_check(data, filename, indicator=indicator)
    if progress:
        progress("parsed", rows_total, rows_total)
    return _write_checked(
        checked,
        rows_total=rows_total,
        source="file",
        by=by,
        filename=filename,
        indicator=indicator,
        dry_run=dry_run,
        batch=batch,
        progress=progress,
    )


def batch_errors(batch: ImportBatch) -> list[RowError]:
    return [RowError.from_dict(e) for e in batch.errors]


def preview_upload(
    *, data: bytes, filename: str, by: Any, indicator: Indicator | None = None
) -> tuple[ImportBatch, Checked]:
    """Parse and check an upload without writing values; keep the file for the confirmation."""
    filename = stored_filename(filename)
    rows_total, checked = read_and_check(data, filename, indicator=indicator)
    batch = ImportBatch(
        source="file",
        filename=filename,
        default_indicator=indicator,
        created_by=by,
        rows_total=rows_total,
        errors=[e.as_dict() for e in checked.errors],
        status=ImportStatus.FAILED if checked.errors else ImportStatus.PREVIEW,
        payload=None if checked.errors else data,
    )
    save_as(batch, by, reason="uploaded")
    return batch, checked


# What a person may confirm: a preview, or an import whose worker stopped (nothing of it was
# written: retrying is safe).
CONFIRMABLE = (ImportStatus.PREVIEW, ImportStatus.INTERRUPTED)


def queue_import(*, batch_id: int, by: Any) -> tuple[ImportBatch, bool]:
    """Confirm an upload: on the locked row, a preview (or an interrupted import) becomes
    queued, once. ``(batch, False)`` when it was not waiting for confirmation (a second
    confirmation of the same import: it is queued, running or done), and nothing changes."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().defer("payload").get(pk=batch_id)
        if batch.status not in CONFIRMABLE or not _has_payload(batch_id):
            return batch, False
        batch.status = ImportStatus.QUEUED
        batch.errors = []
        batch.finished_at = None
        save_as(batch, by, reason="confirmed", update_fields=["status", "errors", "finished_at"])
    return batch, True


def _has_payload(batch_id: int) -> bool:
    return ImportBatch.objects.filter(pk=batch_id, payload__isnull=False).exists()


def start_import(*, batch_id: int, job_id: str = "") -> bool:
    """The worker (or the request, for a small file) takes a queued import: on the locked row,
    queued becomes running, once; False when someone else took it (or it was interrupted)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().defer("payload").get(pk=batch_id)
        if batch.status != ImportStatus.QUEUED:
            return False
        batch.status = ImportStatus.RUNNING
        batch.job_id = job_id[:64]
        batch.save(update_fields=["status", "job_id"])
    return True


def interrupt_import(*, batch_id: int, code: str = "interrupted") -> bool:
    """Mark a queued or running import whose job will never finish (its worker stopped, or it
    failed unexpectedly) as interrupted: nothing of it was written (one transaction), the file
    is kept, and the page offers to confirm it again. False when it was not queued or running."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().defer("payload").get(pk=batch_id)
        if batch.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            return False
        batch.status = ImportStatus.INTERRUPTED
        batch.errors = [RowError(None, None, code).as_dict()]
        batch.rows_done = 0
        batch.finished_at = timezone.now()
        save_as(
            batch,
            SYSTEM,
            reason="interrupted",
            update_fields=["status", "errors", "rows_done", "finished_at"],
        )
    return True


def confirm_import(*, batch: ImportBatch, by: Any, progress: Progress | None = None) -> ImportBatch:
    """Write a confirmed upload (re-parsed and re-checked: the database may have changed)."""
    if (
        batch.status not in (ImportStatus.PREVIEW, ImportStatus.QUEUED, ImportStatus.RUNNING)
        or batch.payload is None
    ):
        raise ValueError(_("This import is not waiting for confirmation."))
    batch.status = ImportStatus.RUNNING
    save_as(batch, by)
    return import_file(
        data=bytes(batch.payload),
        filename=batch.filename,
        by=by,
        indicator=batch.default_indicator,
        batch=batch,
        progress=progress,
    )
