"""Background work of indicators, run by ``pejling db_worker``: the check of every upload and
the writing of confirmed ones, fetches of
national statistics (queued by *Fetch now*), and the periodic check that queues the fetches
whose schedule is due (it queues itself again every quarter of an hour)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.tasks import TaskContext, task
from django.utils import timezone

from pejling.indicators import fetching
from pejling.indicators.imports import (
    Progress,
    check_upload,
    confirm_import,
    interrupt_import,
    queue_import,
    receive_upload,
    start_check,
    start_import,
)
from pejling.indicators.models import (
    FetchStatus,
    ImportBatch,
    ImportStatus,
    Indicator,
    Schedule,
    SourceFetch,
)

CHECK_EVERY = timedelta(minutes=15)


def submit_upload(
    *,
    upload: Any,
    filename: str,
    by: Any,
    indicator: Indicator | None = None,
    user_agent: str = "",
) -> ImportBatch:
    """An upload arrived (the page or the API): keep its file and queue its check, together
    (the job is in the database with the batch, or neither is)."""
    with transaction.atomic():
        batch = receive_upload(
            upload=upload, filename=filename, by=by, indicator=indicator, user_agent=user_agent
        )
        run_check.enqueue(batch.pk)
    return batch


def confirm_upload(*, batch_id: int, by: Any) -> tuple[ImportBatch, bool]:
    """Confirm an upload, or retry an interrupted one (``imports.queue_import``, once on the
    locked row) and queue the job that writes it, or checks it again."""
    with transaction.atomic():
        batch, queued = queue_import(batch_id=batch_id, by=by)
        if queued:
            if batch.status == ImportStatus.CHECKING:
                run_check.enqueue(batch.pk)
            else:
                run_import.enqueue(batch.pk, getattr(by, "pk", None))
    if queued:
        batch.refresh_from_db()
    return batch, queued


def _progress(batch_id: int) -> Progress:
    """Keep the worker's phase and how far it is on the batch (for the page's progress bar)."""

    def progress(phase: str, done: int, total: int) -> None:
        fields: dict[str, Any] = {"phase": phase[:20], "phase_done": done, "phase_total": total}
        if phase == "written":  # the end: every value written
            fields["rows_done"] = done
        ImportBatch.objects.filter(pk=batch_id).update(**fields)

    return progress


@task(takes_context=True)
def run_check(context: TaskContext, batch_id: int) -> str:
    """Check an upload in the background (the limits, then every value); what was found is
    kept on the batch. Taken on the locked row once; should the job fail or its worker die
    (``ops/jobs.py``), the upload says its check was interrupted and may be checked again."""
    if not start_check(batch_id=batch_id, job_id=str(context.task_result.id)):
        return str(ImportBatch.objects.values_list("status", flat=True).get(pk=batch_id))
    try:
        batch = check_upload(batch_id=batch_id, progress=_progress(batch_id))
    except Exception:
        interrupt_import(batch_id=batch_id, code="job_failed")
        raise
    return str(batch.status)


@task(takes_context=True)
def run_import(context: TaskContext, batch_id: int, user_id: int | None) -> str:
    """Write a confirmed upload in the background; progress is kept on the batch.

    The queued batch is taken on its locked row (a second job for it does nothing). Should the
    job fail, the batch says it was interrupted; should its worker die, the next worker says so
    (``ops/jobs.py: recover_abandoned_jobs``). Either way nothing of it was written."""
    if not start_import(batch_id=batch_id, job_id=str(context.task_result.id)):
        return str(ImportBatch.objects.values_list("status", flat=True).get(pk=batch_id))
    return _run(batch_id, user_id)


def _run(batch_id: int, user_id: int | None) -> str:
    batch = ImportBatch.objects.get(pk=batch_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        batch = confirm_import(batch=batch, by=user, progress=_progress(batch_id))
    except Exception:
        interrupt_import(batch_id=batch_id, code="job_failed")
        raise
    return str(batch.status)


@task()
def run_fetch(fetch_id: int, user_id: int | None) -> str:
    """Fetch a series of national statistics into its indicator; the outcome is kept on the
    fetch (``fetching.run``)."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        return str(fetching.run(fetch_id, user).status)
    except Exception:
        fetching.interrupt_fetch(fetch_id, code="job_failed")
        raise


def enqueue_due(now: datetime | None = None) -> list[int]:
    """Queue every scheduled fetch that is due and not already queued or running; their ids.
    Each row is locked and re-checked, so two checks never queue one fetch twice."""
    now = now or timezone.now()
    queued = []
    with transaction.atomic():
        due = (
            SourceFetch.objects.select_for_update(skip_locked=True)
            .exclude(schedule=Schedule.MANUAL)
            .exclude(status__in=(FetchStatus.QUEUED, FetchStatus.RUNNING))
            .filter(next_run_at__lte=now, indicator__archived_at__isnull=True)
        )
        for fetch in due:
            fetch.status = FetchStatus.QUEUED
            fetch.save(update_fields=["status"])
            queued.append(fetch.pk)
            transaction.on_commit(partial(run_fetch.enqueue, fetch.pk, None))
    return queued


@task()
def check_scheduled_fetches() -> int:
    """The periodic check: queue the due fetches, then come back in a quarter of an hour."""
    queued = enqueue_due()
    ensure_schedule_check()
    return len(queued)


def ensure_schedule_check() -> None:
    """Make sure the periodic check is waiting in the queue (once: with the database worker,
    a waiting check is looked for first)."""
    try:
        from django_tasks_db.models import DBTaskResult

        if DBTaskResult.objects.filter(
            task_path=check_scheduled_fetches.module_path, status="READY"
        ).exists():
            return
    except (ImportError, LookupError, RuntimeError):
        pass
    check_scheduled_fetches.using(run_after=timezone.now() + CHECK_EVERY).enqueue()
