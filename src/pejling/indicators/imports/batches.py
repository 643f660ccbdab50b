"""An import as a batch: check, then (unless dry-run or any row is bad) write, all or nothing;
the :class:`~pejling.indicators.models.ImportBatch` records how it went. The entry points for
views, commands, the API and the demo.

An upload: :func:`receive_upload` keeps the file and queues the batch for checking; the
worker's :func:`check_upload` checks the limits (:mod:`.limits`) and the values
(:func:`check_file`) and keeps what it found on the batch (preview or failed); a person
confirms (:func:`queue_import`), and the worker writes it (:func:`confirm_import`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pejling.core.history import SYSTEM, save_as
from pejling.core.tabular import escape_control_characters
from pejling.indicators import completeness
from pejling.indicators.models import ImportBatch, ImportStatus, Indicator
from pejling.indicators.sources.records import ParseResult, parse_period
from pejling.organisation.models import Unit

from . import stored
from .checking import ERRORS_KEPT, PREVIEW_ROWS, Checked, FileCheck, MappedValue, check_observations
from .limits import check_limits
from .messages import RowError
from .reading import scan_file
from .writing import ValueWriter, write_values

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
    user_agent: str = "",
    fetch: Any = None,
) -> ImportBatch:
    """Check and (unless ``dry_run`` or any row is bad) write parsed values, all or nothing.

    ``user_agent`` (of the request that sent them) and ``fetch`` (the ``SourceFetch`` that
    brought them) are kept on the batch: from where, beside who and when."""
    checked = check_observations(result, unit_codes=unit_codes)
    if batch is None:
        batch = ImportBatch(
            source=source,
            filename=filename,
            default_indicator=indicator,
            created_by=by,
            user_agent=user_agent[:300],
            fetch=fetch,
        )
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
    batch.errors = [e.as_dict() for e in checked.errors[:ERRORS_KEPT]]
    batch.errors_total = len(checked.errors)
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
        batch.end_phase()
        save_as(batch, by, reason="imported")
    if progress:
        progress("written", count, count)
    return batch


def stored_filename(filename: str) -> str:
    """An uploaded file's name as kept on its batch: control characters shown, not stored."""
    return escape_control_characters(filename)[:255]


# The engine (``check_file``, ``import_file``): a file on disk in, its limits checked
# (:func:`.limits.check_limits`, one streaming pass), then read, checked and written chunk by
# chunk (bounded memory).


def _rejected(batch: ImportBatch, by: Any, found: FileCheck) -> ImportBatch:
    batch.status = ImportStatus.FAILED
    batch.rows_total = found.rows_total
    batch.errors = [e.as_dict() for e in found.errors]
    batch.errors_total = found.errors_total
    batch.rows_done = 0
    batch.finished_at = timezone.now()
    batch.end_phase()
    save_as(batch, by, reason="rejected")
    return batch


def check_file(
    *,
    path: Path,
    filename: str,
    indicator: Indicator | None,
    progress: Progress | None = None,
) -> FileCheck:
    """Read and check a file on disk chunk by chunk, writing nothing: its rows, its first
    errors (and how many), the first values for a preview and the units of each indicator
    and period. Memory stays bounded whatever the file's size. A file over a limit is refused
    before it is read (its one error names the limit)."""
    problem = check_limits(path, filename)
    if problem is not None:
        return FileCheck(errors=[problem], errors_total=1)
    found = FileCheck()
    for _checked in scan_file(path, filename, indicator=indicator, into=found, progress=progress):
        pass
    return found


class _Rejected(Exception):
    """A bad row somewhere in the file: everything written is rolled back."""


def import_file(
    *,
    path: Path,
    filename: str,
    by: Any,
    indicator: Indicator | None = None,
    dry_run: bool = False,
    batch: ImportBatch | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    """Import a file on disk, all or nothing: read, check and write chunk by chunk in one
    transaction (memory stays bounded); a bad row anywhere (the same value twice in two
    chunks too) rolls everything back, and the batch keeps the first errors. A file over a
    limit is refused before it is read."""
    filename = stored_filename(filename)
    batch = batch or ImportBatch(
        source="file", filename=filename, default_indicator=indicator, created_by=by
    )
    if dry_run:
        found = check_file(path=path, filename=filename, indicator=indicator, progress=progress)
        if found.errors_total:
            return _rejected(batch, by, found)
        batch.status = ImportStatus.PREVIEW
        batch.rows_total = found.rows_total
        batch.rows_done = 0
        if batch.pk:
            save_as(batch, by)
        return batch
    problem = check_limits(path, filename)
    if problem is not None:
        return _rejected(batch, by, FileCheck(errors=[problem], errors_total=1))
    found = FileCheck(track_units=False)
    adding = batch._state.adding
    try:
        with transaction.atomic():
            batch.status = ImportStatus.DONE
            save_as(batch, by)
            writer = ValueWriter(batch)
            chunks = scan_file(
                path, filename, indicator=indicator, into=found, phase="writing", progress=progress
            )
            for checked in chunks:
                if not found.errors_total:
                    writer.write(checked.to_store)
                del checked  # not held while the next chunk is read
            if found.errors_total or writer.broken:
                raise _Rejected
            batch.created, batch.updated = writer.finish()
            batch.rows_total = found.rows_total
            batch.rows_done = found.values_total
            batch.errors, batch.errors_total = [], 0
            batch.finished_at = timezone.now()
            batch.end_phase()
            save_as(batch, by, reason="imported")
    except _Rejected:
        if adding:  # its row was rolled back too
            batch.pk = None
            batch._state.adding = True
        return _rejected(batch, by, found)
    if progress:
        progress("written", found.values_total, found.values_total)
    return batch


def refuse_file(
    *, problem: RowError, filename: str, by: Any, batch: ImportBatch | None = None
) -> ImportBatch:
    """A file that could not be read at all (no longer stored): the batch says so."""
    batch = batch or ImportBatch(source="file", filename=stored_filename(filename), created_by=by)
    return _rejected(batch, by, FileCheck(errors=[problem], errors_total=1))


def batch_errors(batch: ImportBatch) -> list[RowError]:
    return [RowError.from_dict(e) for e in batch.errors]


# Uploads: kept, checked by the worker, confirmed, written by the worker -----------------------


def receive_upload(
    *,
    upload: Any,
    filename: str,
    by: Any,
    indicator: Indicator | None = None,
    user_agent: str = "",
) -> ImportBatch:
    """Keep an uploaded file (a Django ``UploadedFile`` or an open file) and its batch, which
    waits for the worker's check (the caller queues it: ``tasks.submit_upload``); the
    ``user_agent`` of the request that sent it is kept on the batch."""
    name = stored.store(upload, filename)
    batch = ImportBatch(
        source="file",
        filename=stored_filename(filename),
        file=name,
        default_indicator=indicator,
        created_by=by,
        status=ImportStatus.CHECKING,
        phase="queued",
        user_agent=user_agent[:300],
    )
    try:
        save_as(batch, by, reason="uploaded")
    except BaseException:
        stored.delete(name)
        raise
    return batch


def start_check(*, batch_id: int, job_id: str = "") -> bool:
    """The worker takes an upload waiting for its check, on the locked row, once: False when
    another job took it (or it is no longer waiting)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != ImportStatus.CHECKING or batch.job_id:
            return False
        batch.job_id = (job_id or "-")[:64]
        batch.phase = "reading"
        batch.save(update_fields=["job_id", "phase"])
    return True


def check_upload(*, batch_id: int, progress: Progress | None = None) -> ImportBatch:
    """The worker's check of an upload taken by :func:`start_check` (:func:`check_file`: the
    limits, then every value); what it found is kept on the batch, which becomes a
    preview or failed. Nothing is written."""
    batch = ImportBatch.objects.select_related("created_by", "default_indicator").get(pk=batch_id)
    by = batch.created_by
    if not stored.exists(batch.file):
        return refuse_file(
            problem=RowError(None, None, "file_missing"), filename="", by=by, batch=batch
        )
    with stored.local_path(batch.file) as path:
        found = check_file(
            path=path, filename=batch.filename, indicator=batch.default_indicator, progress=progress
        )
    if found.errors_total:
        return _rejected(batch, by, found)
    batch.rows_total = found.rows_total
    batch.errors, batch.errors_total = [], 0
    batch.preview = _preview_rows(found.preview)
    batch.incomplete = _incomplete(found.incoming)
    batch.end_phase()
    batch.status = ImportStatus.PREVIEW
    save_as(batch, by, reason="checked")
    return batch


def _preview_rows(values: list[MappedValue]) -> list[dict[str, str]]:
    """The first values as the page shows them (kept as JSON: the page never reads the file)."""
    values = values[:PREVIEW_ROWS]
    codes = dict(
        Indicator.objects.filter(pk__in={v.indicator_id for v in values}).values_list("pk", "code")
    )
    units = {
        pk: (code, name)
        for pk, code, name in Unit.objects.filter(pk__in={v.unit_id for v in values}).values_list(
            "pk", "code", "name"
        )
    }
    return [
        {
            "indicator": codes.get(v.indicator_id, ""),
            "unit": units.get(v.unit_id, ("", ""))[1],
            "unit_code": units.get(v.unit_id, ("", ""))[0],
            "period": v.period,
            "value": str(v.value),
        }
        for v in values
    ]


def _incomplete(incoming: dict[tuple[int, str], set[int]]) -> list[dict[str, Any]]:
    """The periods the upload would leave incomplete (``completeness.of_upload``)."""
    dated = {
        (indicator_id, period, parse_period(period).start_date()): units
        for (indicator_id, period), units in incoming.items()
    }
    judged = completeness.of_upload(dated)
    return [
        {
            "indicator": indicator_id,
            "period": c.period,
            "reported": c.reported,
            "expected": c.expected,
        }
        for (indicator_id, _period), c in judged.items()
        if not c.complete
    ]


# What a person may confirm: a preview, or an import whose worker stopped (nothing of it was
# written: retrying is safe).
CONFIRMABLE = (ImportStatus.PREVIEW, ImportStatus.INTERRUPTED)
# The codes of an interruption during the check (retrying checks again).
CHECK_INTERRUPTIONS = ("check_interrupted", "check_failed")


def interrupted_while_checking(batch: ImportBatch) -> bool:
    return batch.status == ImportStatus.INTERRUPTED and any(
        e.get("code") in CHECK_INTERRUPTIONS for e in batch.errors
    )


def queue_import(*, batch_id: int, by: Any) -> tuple[ImportBatch, bool]:
    """Confirm an upload: on the locked row, a preview (or an interrupted import) becomes
    queued, once; an upload whose check was interrupted is queued for checking again.
    ``(batch, False)`` when it was not waiting for confirmation (a second confirmation of the
    same import: it is queued, running or done), and nothing changes."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status not in CONFIRMABLE or not batch.file:
            return batch, False
        if interrupted_while_checking(batch):
            batch.status = ImportStatus.CHECKING
            batch.phase = "queued"
            batch.job_id = ""
        else:
            batch.status = ImportStatus.QUEUED
        batch.errors = []
        batch.errors_total = 0
        batch.finished_at = None
        save_as(
            batch,
            by,
            reason="confirmed",
            update_fields=["status", "errors", "errors_total", "finished_at", "phase", "job_id"],
        )
    return batch, True


def start_import(*, batch_id: int, job_id: str = "") -> bool:
    """The worker takes a queued import: on the locked row, queued becomes running, once;
    False when someone else took it (or it was interrupted)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != ImportStatus.QUEUED:
            return False
        batch.status = ImportStatus.RUNNING
        batch.job_id = job_id[:64]
        batch.phase = "reading"
        batch.save(update_fields=["status", "job_id", "phase"])
    return True


def interrupt_import(*, batch_id: int, code: str = "interrupted") -> bool:
    """Mark an upload being checked, or a queued or running import, whose job will never
    finish (its worker stopped, or it failed unexpectedly) as interrupted: nothing of it was
    written (one transaction), the file is kept, and the page offers to try again (checking
    again when the check was interrupted). False when it was in none of those states."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status not in (ImportStatus.CHECKING, ImportStatus.QUEUED, ImportStatus.RUNNING):
            return False
        if batch.status == ImportStatus.CHECKING:
            code = "check_failed" if code == "job_failed" else "check_interrupted"
        batch.status = ImportStatus.INTERRUPTED
        batch.errors = [RowError(None, None, code).as_dict()]
        batch.errors_total = 0
        batch.rows_done = 0
        batch.end_phase()
        batch.finished_at = timezone.now()
        save_as(
            batch,
            SYSTEM,
            reason="interrupted",
            update_fields=[
                "status",
                "errors",
                "errors_total",
                "rows_done",
                "phase",
                "phase_done",
                "phase_total",
                "finished_at",
            ],
        )
    return True


def confirm_import(*, batch: ImportBatch, by: Any, progress: Progress | None = None) -> ImportBatch:
    """Write a confirmed upload (re-parsed and re-checked: the database may have changed)."""
    if (
        batch.status not in (ImportStatus.PREVIEW, ImportStatus.QUEUED, ImportStatus.RUNNING)
        or not batch.file
    ):
        raise ValueError(_("This import is not waiting for confirmation."))
    batch.status = ImportStatus.RUNNING
    save_as(batch, by)
    if not stored.exists(batch.file):
        return refuse_file(
            problem=RowError(None, None, "file_missing"), filename="", by=by, batch=batch
        )
    with stored.local_path(batch.file) as path:
        return import_file(
            path=path,
            filename=batch.filename,
            by=by,
            indicator=batch.default_indicator,
            batch=batch,
            progress=progress,
        )


def delete_stored_file(batch: ImportBatch) -> None:
    """A batch's file goes with it (once the deletion is committed)."""
    if batch.file:
        name = batch.file
        transaction.on_commit(lambda: stored.delete(name))
