from __future__ import annotations

from django.contrib.auth import get_user_model
from django.tasks import task

from pejling.indicators.imports import confirm_import
from pejling.indicators.models import ImportBatch, ImportStatus


@task()
def run_import(batch_id: int, user_id: int | None) -> str:
    """Write a confirmed upload in the background; progress is kept on the batch."""
    batch = ImportBatch.objects.get(pk=batch_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    if batch.status != ImportStatus.QUEUED:
        return str(batch.status)

    def progress(phase: str, done: int, total: int) -> None:
        ImportBatch.objects.filter(pk=batch_id).update(rows_done=done if phase != "parsed" else 0)

    batch = confirm_import(batch=batch, by=user, progress=progress)
    return str(batch.status)
