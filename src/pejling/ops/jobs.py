"""Background jobs and the request id, their log lines, and the worker heartbeat.

* When a job is enqueued during a request, the request's id is written beside the job
  (``JobRequest``, keyed by the job's id) — no task has to take it as an argument.
* When the worker starts the job, that id becomes current again (``core.request_context``), so
  the job's log lines and the audit trail rows it writes (``core/sources.py``) carry it.
* When the job finishes, one log line (logger ``pejling.job``): task, job id, state, duration,
  request id.
* ``Heartbeat``: a thread of ``pejling db_worker`` touching ``WorkerHeartbeat`` every few
  seconds; readiness reports a stale one. A running job's heartbeat is its worker's (the job
  names the worker that claimed it), so:
* ``recover_abandoned_jobs``: a running job whose worker has not beaten for
  ``PEJLING_JOB_STALE_SECONDS`` died with its worker: it is marked failed, and what it was
  doing is told (an import being checked or written becomes "interrupted", retryable). Every worker runs it when it
  starts (its own earlier jobs, under a reused worker id, died with it) and at every beat.
* ``start_periodic_checks``: when a worker starts, the checks that queue themselves again
  (the scheduled fetches of national statistics) are made sure to be waiting, so a schedule
  runs after a new installation, a restore or a purged queue without anyone saving a fetch.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from contextvars import Token
from datetime import timedelta
from typing import Any

from django.db import close_old_connections, transaction
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone

from pejling.core import request_context
from pejling.ops.models import JobRequest, WorkerHeartbeat

log = logging.getLogger("pejling.job")

_started: dict[str, tuple[float, Token[str] | None]] = {}


def on_enqueued(sender: Any, task_result: Any, **kwargs: Any) -> None:
    request_id = request_context.current_request_id()
    if not request_id or not _is_db_backend(sender):
        return
    JobRequest.objects.update_or_create(
        job_id=str(task_result.id), defaults={"request_id": request_id}
    )


def _is_db_backend(sender: Any) -> bool:
    from django_tasks_db.backend import DatabaseBackend

    # The signals send the backend's class on enqueueing and, from the worker, an instance.
    backend = sender if isinstance(sender, type) else type(sender)
    return issubclass(backend, DatabaseBackend)


def _request_id_of(sender: Any, task_result: Any) -> str:
    if not _is_db_backend(sender):
        return request_context.current_request_id()  # run at once, inside the request
    rows = JobRequest.objects.filter(job_id=str(task_result.id))
    request_id = rows.values_list("request_id", flat=True).first() or ""
    if request_id:
        rows.delete()  # needed only until the job starts: the table stays small
    return request_id


def on_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    request_id = _request_id_of(sender, task_result)
    token = request_context._request_id.set(request_id) if request_id else None
    _started[str(task_result.id)] = (time.perf_counter(), token)


def on_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    start, token = _started.pop(str(task_result.id), (None, None))
    status = str(getattr(task_result.status, "value", task_result.status)).lower()
    seconds = time.perf_counter() - start if start is not None else None
    log.log(
        logging.ERROR if status == "failed" else logging.INFO,
        "job %s %s",
        task_result.task.module_path,
        status,
        extra={
            "request_id": request_context.current_request_id(),
            "job_id": str(task_result.id),
            "task": task_result.task.module_path,
            "status": status,
            "duration_ms": round(seconds * 1000, 1) if seconds is not None else None,
        },
    )
    if token is not None:
        request_context._request_id.reset(token)


def connect() -> None:
    task_enqueued.connect(on_enqueued, dispatch_uid="pejling.ops.enqueued")
    task_started.connect(on_started, dispatch_uid="pejling.ops.started")
    task_finished.connect(on_finished, dispatch_uid="pejling.ops.finished")


def beat(worker_id: str, started_at: Any) -> None:
    """Record that this worker is alive now."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "seen_at": timezone.now(),
        },
    )


class Heartbeat(threading.Thread):
    """Touches the worker's heartbeat row every ``interval`` seconds until stopped."""

    def __init__(self, worker_id: str, interval: float) -> None:
        super().__init__(name="pejling-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self.started_at = timezone.now()
        self.stopping = threading.Event()

    def beat_once(self) -> None:
        try:
            beat(self.worker_id, self.started_at)
            recover_abandoned_jobs(own_worker_id=self.worker_id, own_started_at=self.started_at)
        except Exception:  # the database is away: readiness will say so
            log.warning("worker heartbeat could not be written", exc_info=True)

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            self.beat_once()
            close_old_connections()

    def stop(self) -> None:
        self.stopping.set()


def start_periodic_checks() -> None:
    """Make sure every self-renewing periodic check is waiting in the queue (each looks for a
    waiting one first, so a second worker starting adds none)."""
    from pejling.indicators.tasks import ensure_schedule_check

    try:
        ensure_schedule_check()
    except Exception:  # the database is away: the worker's loop will say so
        log.warning("the periodic checks could not be queued", exc_info=True)


class WorkerDied(Exception):
    """The worker running a job stopped (killed, out of memory, the machine restarted)."""


def _interrupt_import(args: list[Any], kwargs: dict[str, Any]) -> None:
    from pejling.indicators.imports import interrupt_import

    batch_id = args[0] if args else kwargs.get("batch_id")
    if batch_id is not None:
        interrupt_import(batch_id=int(batch_id))


def _first_id(args: list[Any], kwargs: dict[str, Any], name: str) -> int | None:
    value = args[0] if args else kwargs.get(name)
    return int(value) if value is not None else None


def _interrupt_fetch(args: list[Any], kwargs: dict[str, Any]) -> None:
    from pejling.indicators.fetching import interrupt_fetch

    fetch_id = _first_id(args, kwargs, "fetch_id")
    if fetch_id is not None:
        interrupt_fetch(fetch_id)


def _interrupt_document(args: list[Any], kwargs: dict[str, Any]) -> None:
    from pejling.reports.tasks import interrupt_document_job

    job_id = _first_id(args, kwargs, "job_id")
    if job_id is not None:
        interrupt_document_job(job_id)


# What an abandoned job of each task leaves to put right (by task path): the thing it was
# working on is marked failed or interrupted, saying so, and can be tried again.
ON_ABANDONED = {
    "pejling.indicators.tasks.run_import": _interrupt_import,
    "pejling.indicators.tasks.run_check": _interrupt_import,
    "pejling.indicators.tasks.run_fetch": _interrupt_fetch,
    "pejling.reports.tasks.build_document_job": _interrupt_document,
}


def recover_abandoned_jobs(
    *, own_worker_id: str = "", own_started_at: Any = None, stale_seconds: float | None = None
) -> list[str]:
    """Fail every running job whose worker is gone; returns their ids.

    A worker is gone when its heartbeat is older than ``PEJLING_JOB_STALE_SECONDS`` (or it
    never beat). A job that ``own_worker_id`` claimed before ``own_started_at`` belonged to an
    earlier process with the same id, which is gone too. Each job is failed on its locked row
    (two workers checking at once fail it once), then its task's ``ON_ABANDONED`` runs."""
    from django.conf import settings
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    stale = stale_seconds if stale_seconds is not None else settings.PEJLING_JOB_STALE_SECONDS
    now = timezone.now()
    alive = set(
        WorkerHeartbeat.objects.filter(seen_at__gte=now - timedelta(seconds=stale)).values_list(
            "worker_id", flat=True
        )
    )
    recovered = []
    for job in DBTaskResult.objects.running().only("id", "worker_ids", "started_at"):
        worker = job.worker_ids[-1] if job.worker_ids else ""
        earlier_self = (
            bool(own_worker_id)
            and worker == own_worker_id
            and own_started_at is not None
            and job.started_at is not None
            and job.started_at < own_started_at
        )
        if worker in alive and not earlier_self:
            continue
        with transaction.atomic():
            locked = DBTaskResult.objects.select_for_update().running().filter(pk=job.pk).first()
            if locked is None:
                continue
            reason = WorkerDied(f"worker {worker or '?'} stopped while running this job")
            locked.status = TaskResultStatus.FAILED
            locked.finished_at = now
            locked.exception_class_path = f"{__name__}.WorkerDied"
            locked.traceback = f"{__name__}.WorkerDied: {reason}\n"
            locked.return_value = None
            locked.save(
                update_fields=[
                    "status",
                    "finished_at",
                    "exception_class_path",
                    "traceback",
                    "return_value",
                ]
            )
            handler = ON_ABANDONED.get(locked.task_path)
            if handler is not None:
                args_kwargs = locked.args_kwargs or {}
                handler(list(args_kwargs.get("args", [])), dict(args_kwargs.get("kwargs", {})))
        log.error(
            "job %s abandoned: worker %s stopped",
            locked.task_path,
            worker,
            extra={"job_id": str(job.pk), "task": locked.task_path, "status": "failed"},
        )
        recovered.append(str(job.pk))
    return recovered
