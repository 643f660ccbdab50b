"""What the operations side keeps in the database: the background worker's heartbeat."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """One row per worker process (``pejling db_worker``), touched every few seconds while it
    runs. Readiness (``/health/ready``) and ``pejling doctor`` read the newest one."""

    worker_id = models.CharField(_("worker id"), max_length=64, unique=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    seen_at = models.DateTimeField(_("last seen at"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.worker_id}@{self.host}"


class JobRequest(models.Model):
    """Which request enqueued a background job: written when the job is enqueued during a
    request, read when the worker starts it (``pejling.ops.jobs``)."""

    job_id = models.CharField(_("job id"), max_length=64, unique=True)
    request_id = models.CharField(_("request id"), max_length=64)
    enqueued_at = models.DateTimeField(_("enqueued at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("job's request")
        verbose_name_plural = _("jobs' requests")

    def __str__(self) -> str:
        return f"{self.job_id}: {self.request_id}"
