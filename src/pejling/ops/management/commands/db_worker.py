"""``pejling db_worker``: django-tasks-db's worker, with a heartbeat and the periodic checks
(pejling.ops.jobs)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_tasks_db.management.commands.db_worker import Command as WorkerCommand

from pejling.ops.jobs import Heartbeat, start_periodic_checks


class Command(WorkerCommand):
    help = WorkerCommand.help + " Records a heartbeat every few seconds for /health/ready."

    def handle(self, *args: Any, **options: Any) -> None:
        heartbeat = Heartbeat(options["worker_id"], settings.PEJLING_WORKER_HEARTBEAT_SECONDS)
        # At once, before the first job: the worker is there, and jobs of dead workers (also an
        # earlier process with this worker id) are failed and their imports marked interrupted.
        heartbeat.beat_once()
        # The periodic checks (scheduled fetches) wait in the queue from the worker's start on.
        start_periodic_checks()
        heartbeat.start()
        try:
            super().handle(*args, **options)
        finally:
            heartbeat.stop()
