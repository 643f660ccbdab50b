"""The worker's start-up: the periodic checks (scheduled fetches of national statistics) wait in
the queue from the moment a worker starts, not only once someone saves a scheduled fetch."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from pejling.indicators.tasks import check_scheduled_fetches

CHECK = check_scheduled_fetches.module_path


def waiting_checks() -> int:
    return DBTaskResult.objects.filter(task_path=CHECK, status="READY").count()


@pytest.mark.django_db(transaction=True)
def test_a_starting_worker_queues_the_schedule_check_once(settings) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert waiting_checks() == 0
    # The real worker command, once through its loop (--batch: stop when no job is ready; the
    # check waits a quarter of an hour, so it is not run here).
    call_command("db_worker", "--batch", "--no-startup-delay", "--worker-id", "w-start")
    assert waiting_checks() == 1
    # A second worker (or a restart) finds the check waiting and adds none.
    call_command("db_worker", "--batch", "--no-startup-delay", "--worker-id", "w-other")
    assert waiting_checks() == 1
