"""Background jobs and the request id, their log lines, and the worker heartbeat.

* When a job is enqueued during a request, the request's id is written beside the job
  (``JobRequest``, keyed by the job's id) — no task has to take it as an argument.
* When the worker starts the job, that id becomes current again (``core.request_context``), so
  the job's log lines and the audit trail rows it writes (``core/sources.py``) carry it.
* When the job finishes, one log line (logger ``pejling.job``): task, job id, state, duration,
  request id.
* ``Heartbeat``: a thread of ``pejling db_worker`` touching ``WorkerHeartbeat`` every few
  seconds; readiness reports a stale one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from contextvars import Token
from typing import Any

from django.db import close_old_connections
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
        except Exception:  # the database is away: readiness will say so
            log.warning("worker heartbeat could not be written", exc_info=True)

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            self.beat_once()
            close_old_connections()

    def stop(self) -> None:
        self.stopping.set()
