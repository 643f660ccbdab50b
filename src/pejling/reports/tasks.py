"""Documents built by the background worker (``pejling db_worker``), progress on the job."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.tasks import task
from django.utils import timezone, translation

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
