from __future__ import annotations

from django.contrib.auth import get_user_model
from django.tasks import TaskContext, task

from pejling.indicators.imports import confirm_import, interrupt_import, start_import
from pejling.indicators.models import ImportBatch


@task(takes_context=True)
def run_import(context: TaskContext, batch_id: int, user_id: int | None) -> str:
    """Write a confirmed upload in the background; progress is kept on the batch.

    The queued batch is taken on its locked row (a second job for it does nothing). Should the
    job fail, the batch says it was interrupted; should its worker die, the next worker says so
    (``ops/jobs.py: recover_abandoned_jobs``). Either way nothing of it was written."""
    if not start_import(batch_id=batch_id, job_id=str(context.task_result.id)):
        return str(ImportBatch.objects.values_list("status", flat=True).get(pk=batch_id))
    return _run(batch_id, user_id)


def run_started_import(batch_id: int, user_id: int | None) -> str:
    """Write an import already taken by :func:`start_import` (a small file, in the request)."""
    return _run(batch_id, user_id)


def _run(batch_id: int, user_id: int | None) -> str:
    batch = ImportBatch.objects.get(pk=batch_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None

    def progress(phase: str, done: int, total: int) -> None:
        ImportBatch.objects.filter(pk=batch_id).update(rows_done=done if phase != "parsed" else 0)

    try:
        batch = confirm_import(batch=batch, by=user, progress=progress)
    except Exception:
        interrupt_import(batch_id=batch_id, code="job_failed")
        raise
    return str(batch.status)
