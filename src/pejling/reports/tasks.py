"""Documents built by the background worker (``pejling db_worker``), progress on the job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pejling.reports.documents.generate import build_document, filename, render
from pejling.reports.models import DocumentJob, JobStatus


@task()
def build_document_job(job_id: int) -> str:
    job = DocumentJob.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None or job.status != JobStatus.QUEUED:
        return job.status if job else "missing"
    DocumentJob.objects.filter(pk=job_id).update(status=JobStatus.RUNNING, progress=1)

    def progress(done: int, total: int) -> None:
        # Gathering is the first 60 %, drawing the rest.
        percent = 1 + int(59 * done / max(total, 1))
        DocumentJob.objects.filter(pk=job_id).update(progress=percent)

    params = job.params
    try:
        return _build(job_id, job, params, progress)
    except Exception:
        interrupt_document_job(job_id, code="job_failed")
        raise


def _build(
    job_id: int, job: DocumentJob, params: dict[str, Any], progress: Callable[[int, int], None]
) -> str:
    try:
        with translation.override(job.language):
            doc = build_document(
                kind=job.kind,
                user=job.requested_by,
                language=job.language,
                unit=params.get("unit"),
                year=params.get("year"),
                period=params.get("period"),
                report_id=params.get("report"),
                progress=progress,
            )
            DocumentJob.objects.filter(pk=job_id).update(progress=60)
            content = render(doc, job.format)
    except (ValidationError, PermissionDenied) as exc:
        message = " ".join(getattr(exc, "messages", [str(exc)]))
        DocumentJob.objects.filter(pk=job_id).update(
            status=JobStatus.FAILED, error=message, finished_at=timezone.now()
        )
        return JobStatus.FAILED
    DocumentJob.objects.filter(pk=job_id).update(
        status=JobStatus.DONE,
        progress=100,
        content=content,
        filename=filename(doc, job.format),
        finished_at=timezone.now(),
    )
    return JobStatus.DONE


def _interruption(code: str) -> str:
    if code == "job_failed":
        return _("An unexpected error stopped the work; nothing was kept. Try again.")
    return _("The background worker stopped while building the document. Try again.")


def interrupt_document_job(job_id: int, *, code: str = "interrupted") -> bool:
    """Mark a queued or running document whose job will never finish (its worker stopped, or
    it failed unexpectedly) as failed, saying why in the asker's language, on the locked row;
    the page offers to try again. False when it was not queued or running."""
    with transaction.atomic():
        job = DocumentJob.objects.select_for_update().defer("content").filter(pk=job_id).first()
        if job is None or job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return False
        with translation.override(job.language):
            job.error = _interruption(code)
        job.status = JobStatus.FAILED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
    return True


def retry_document_job(job_id: int, *, user_id: int) -> bool:
    """Queue a failed document again (the asker's own), once on the locked row: True when it
    was queued, False when it was not failed (a second click, or it is already running)."""
    with transaction.atomic():
        job = (
            DocumentJob.objects.select_for_update()
            .defer("content")
            .filter(pk=job_id, requested_by_id=user_id)
            .first()
        )
        if job is None or job.status != JobStatus.FAILED:
            return False
        job.status = JobStatus.QUEUED
        job.progress = 0
        job.error = ""
        job.finished_at = None
        job.save(update_fields=["status", "progress", "error", "finished_at"])
        transaction.on_commit(lambda: build_document_job.enqueue(job_id))
    return True
