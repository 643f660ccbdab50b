"""Imports that cannot get stuck: a confirmation runs an import once, however often it is
posted; a worker killed (SIGKILL) inside an import's write leaves nothing written, and the next
worker marks the import interrupted within seconds, from where the person retries it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from pejling.indicators.imports import queue_import
from pejling.indicators.imports.stored import storage as imports_storage
from pejling.indicators.models import ImportBatch, ImportStatus, IndicatorValue
from pejling.indicators.tasks import confirm_upload, run_import, submit_upload
from pejling.ops.jobs import recover_abandoned_jobs
from pejling.ops.models import WorkerHeartbeat
from tests.factories import IndicatorFactory
from tests.indicators.files import checked_upload

ROOT = Path(__file__).resolve().parents[2]
FILE = (
    "Indikator;Enhet;Period;Värde\n"
    "SICK;unit-a1a;2019-03;4,5\nSICK;unit-a1b;2019-03;2\nSICK;unit-a2a;2019-03;1\n"
)


# How long a step may take before the test gives up: a bound against a hang, not a budget. A
# new worker process has taken over 20 s just to start on a loaded 2-core machine. How soon
# an abandoned job is noticed is a setting (PEJLING_JOB_STALE_SECONDS, 1.5 s here), not timed.
WAIT = 180


def wait_for(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def status(batch: ImportBatch) -> str:
    return str(ImportBatch.objects.values_list("status", flat=True).get(pk=batch.pk))


@pytest.fixture
def previewed(org: Any) -> ImportBatch:
    IndicatorFactory(code="SICK")
    batch = checked_upload(data=FILE.encode(), filename="sjuk.csv", by=org.office)
    assert batch.status == ImportStatus.PREVIEW
    return batch


@pytest.mark.django_db
def test_confirming_twice_runs_the_import_once_and_tells_the_second(
    org: Any, previewed: ImportBatch, run_jobs: None
) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(org.office)
    url = reverse("indicators:import_confirm", args=[previewed.pk])
    client.post(url)
    second = client.post(url, follow=True)
    batch = ImportBatch.objects.get(pk=previewed.pk)
    assert (batch.status, batch.created, batch.updated) == (ImportStatus.DONE, 3, 0)
    assert IndicatorValue.objects.count() == 3
    assert [str(m) for m in get_messages(second.wsgi_request)] == [
        "This import was already confirmed and is done."
    ]
    assert queue_import(batch_id=batch.pk, by=org.office)[1] is False


@pytest.mark.django_db
def test_a_job_whose_worker_stopped_beating_is_failed_and_its_import_interrupted(
    org: Any, previewed: ImportBatch, settings: Any
) -> None:
    queue_import(batch_id=previewed.pk, by=org.office)
    job = run_import.enqueue(previewed.pk, org.office.pk)
    # A worker claimed it, marked the import running, then stopped beating.
    ImportBatch.objects.filter(pk=previewed.pk).update(status=ImportStatus.RUNNING)
    DBTaskResult.objects.get(pk=job.id).claim("w-gone")
    WorkerHeartbeat.objects.create(
        worker_id="w-gone", host="h", pid=1, started_at=timezone.now(), seen_at=timezone.now()
    )
    assert recover_abandoned_jobs(stale_seconds=60) == []  # it beat just now
    WorkerHeartbeat.objects.filter(worker_id="w-gone").update(seen_at="2020-01-01T00:00Z")

    assert recover_abandoned_jobs(stale_seconds=60) == [str(job.id)]
    assert recover_abandoned_jobs(stale_seconds=60) == []  # once
    assert DBTaskResult.objects.get(pk=job.id).exception_class_path.endswith("WorkerDied")
    assert status(previewed) == ImportStatus.INTERRUPTED
    client = Client(headers={"accept-language": "en"})
    client.force_login(org.office)
    page = client.get(reverse("indicators:import_detail", args=[previewed.pk])).content.decode()
    assert "the background worker stopped" in page and "Try the import again" in page
    # Retrying is a confirmation like the first.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    client.post(reverse("indicators:import_confirm", args=[previewed.pk]))
    assert status(previewed) == ImportStatus.DONE
    assert IndicatorValue.objects.count() == 3


# With a real worker on PostgreSQL --------------------------------------------------------------


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _worker(worker_id: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "PYTHONPATH": str(ROOT / "src"),
        "PEJLING_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        "PEJLING_WORKER_HEARTBEAT_SECONDS": "0.3",
        "PEJLING_JOB_STALE_SECONDS": "1.5",
        "PEJLING_LOG_LEVEL": "ERROR",
        # The uploaded files where this test's process keeps them.
        "PEJLING_IMPORTS_DIR": str(imports_storage().path("")),
    }
    return subprocess.Popen(  # noqa: S603 (our own interpreter and command)
        [
            sys.executable,
            "-m",
            "pejling",
            "db_worker",
            "--no-startup-delay",
            "--interval",
            "0.2",
            "--worker-id",
            worker_id,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_inside_an_import_leaves_nothing_and_the_next_worker_recovers_it(
    org: Any, previewed: ImportBatch, workers: list[subprocess.Popen[str]]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a real worker process needs a database shared between processes")
    table = IndicatorValue._meta.db_table
    # Another session holds the values table: the worker's import stops inside its
    # transaction, at the table lock just before its COPY, until this lets go.
    holder = psycopg.connect(_database_url().replace("postgres://", "postgresql://"))
    holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    try:
        queue_import(batch_id=previewed.pk, by=org.office)
        job = run_import.enqueue(previewed.pk, org.office.pk)
        doomed = _worker("w-doomed")
        workers.append(doomed)
        wait_for(lambda: status(previewed) == ImportStatus.RUNNING, WAIT, "the import running")
        # The worker is inside its import transaction, asking for the values table (the
        # lock the writer takes right before its COPY).
        wait_for(
            lambda: holder.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted"
                " AND mode = 'ShareRowExclusiveLock' AND relation = %s::regclass",
                [table],
            ).fetchone()[0],  # type: ignore[index]
            WAIT,
            "the worker waiting for the values table inside its import",
        )
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        holder.rollback()
        holder.close()

    # The dead worker's import stays running until the next worker looks.
    assert status(previewed) == ImportStatus.RUNNING
    workers.append(_worker("w-rescue"))
    wait_for(lambda: status(previewed) == ImportStatus.INTERRUPTED, WAIT, "the import interrupted")
    assert IndicatorValue.objects.count() == 0  # all or nothing
    assert DBTaskResult.objects.get(pk=job.id).status == "FAILED"

    # The person confirms again; the living worker writes it, once, with true counts.
    assert queue_import(batch_id=previewed.pk, by=org.office)[1] is True
    run_import.enqueue(previewed.pk, org.office.pk)
    wait_for(lambda: status(previewed) == ImportStatus.DONE, WAIT, "the retried import done")
    batch = ImportBatch.objects.get(pk=previewed.pk)
    assert (batch.created, batch.updated, batch.errors) == (3, 0, [])
    assert IndicatorValue.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_checking_an_upload_leaves_it_interrupted_and_checkable_again(
    org: Any, workers: list[subprocess.Popen[str]]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a real worker process needs a database shared between processes")
    from django.core.files.base import ContentFile

    from pejling.indicators.models import Indicator

    IndicatorFactory(code="SICK")
    batch = submit_upload(
        upload=ContentFile(FILE.encode(), name="sjuk.csv"), filename="sjuk.csv", by=org.office
    )
    assert status(batch) == ImportStatus.CHECKING
    table = Indicator._meta.db_table
    # Another session holds the indicators table: the worker's check stops when it reads the
    # upload's batch with its indicator, after it took the job, until this lets go.
    holder = psycopg.connect(_database_url().replace("postgres://", "postgresql://"))
    holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    try:
        doomed = _worker("w-doomed")
        workers.append(doomed)
        wait_for(
            lambda: ImportBatch.objects.filter(pk=batch.pk, phase="reading").exists(),
            30,
            "the worker taking the check",
        )
        wait_for(
            lambda: holder.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
                [table],
            ).fetchone()[0],  # type: ignore[index]
            WAIT,
            "the worker waiting for the indicators table inside its check",
        )
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        holder.rollback()
        holder.close()

    # The dead worker's check stays "checking" until the next worker looks.
    assert status(batch) == ImportStatus.CHECKING
    workers.append(_worker("w-rescue"))
    wait_for(lambda: status(batch) == ImportStatus.INTERRUPTED, WAIT, "the check interrupted")
    batch.refresh_from_db()
    assert [e["code"] for e in batch.errors] == ["check_interrupted"]
    client = Client(headers={"accept-language": "en"})
    client.force_login(org.office)
    page = client.get(reverse("indicators:import_detail", args=[batch.pk])).content.decode()
    assert "stopped while reading it" in page and "Check the file again" in page

    # Checking again: the living worker checks it; then it is confirmed and written.
    assert confirm_upload(batch_id=batch.pk, by=org.office)[1] is True
    wait_for(lambda: status(batch) == ImportStatus.PREVIEW, WAIT, "the file checked again")
    batch.refresh_from_db()
    assert (batch.rows_total, len(batch.preview), batch.errors) == (3, 3, [])
    assert confirm_upload(batch_id=batch.pk, by=org.office)[1] is True
    wait_for(lambda: status(batch) == ImportStatus.DONE, WAIT, "the import written")
    assert IndicatorValue.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_the_same_moment_queue_the_import_once(
    org: Any, previewed: ImportBatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks: SQLite serialises every writer on the whole file")
    barrier = threading.Barrier(2)
    outcomes: list[bool] = []

    def confirm() -> None:
        barrier.wait()
        try:
            outcomes.append(queue_import(batch_id=previewed.pk, by=org.office)[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, True]
    assert status(previewed) == ImportStatus.QUEUED
