"""/health/live and /health/ready: a stopped database, an unmigrated one and a dead worker each
make the instance not ready, with the reason; live never touches the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from pejling.ops.models import WorkerHeartbeat
from tests.ops.helpers import child_env, get_in_child, pejling

# The tests that start Pejling in a child process give it a database of its own (a new SQLite
# file, or an address where nothing listens) whatever the test database is: they use no
# database fixture, so the PostgreSQL pass (--database-tests-only) does not run them again.

LIVE, READY = "/health/live", "/health/ready"


def heartbeat(seconds_ago: float) -> WorkerHeartbeat:
    seen = timezone.now() - timedelta(seconds=seconds_ago)
    return WorkerHeartbeat.objects.create(
        worker_id="w1", host="worker-1", pid=42, started_at=seen, seen_at=seen
    )


@pytest.mark.django_db
def test_live_answers_without_the_database_and_is_never_cached(
    client: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = client.get(reverse("ops:live"))
    assert response.status_code == 200
    assert response.json()["status"] == "alive"
    assert "no-cache" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_ready_with_database_migrations_and_a_fresh_worker(client: Any) -> None:
    heartbeat(seconds_ago=5)
    response = client.get(reverse("ops:ready"))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "cache", "worker", "disk"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["worker"]["detail"].startswith("worker seen")
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_dead_worker_makes_the_instance_not_ready(client: Any, settings: Any) -> None:
    settings.PEJLING_WORKER_STALE_SECONDS = 60
    # The clock stands still: the first request of a test process (URLs, middleware) can take
    # seconds on a busy machine, and the age is reported to the second.
    with time_machine.travel(timezone.now(), tick=False):
        heartbeat(seconds_ago=600)
        response = client.get(reverse("ops:ready"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["worker"] == {
        "ok": False,
        "detail": "worker heartbeat is 600 s old (limit 60 s)",
        "ms": body["checks"]["worker"]["ms"],
    }
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_no_worker_ever_is_not_ready_but_jobs_run_inline_need_none(
    client: Any, settings: Any
) -> None:
    response = client.get(reverse("ops:ready"))
    assert response.status_code == 503
    assert "no background worker has reported" in response.json()["checks"]["worker"]["detail"]
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    assert client.get(reverse("ops:ready")).status_code == 200


@pytest.mark.django_db
def test_too_little_disk_is_not_ready(client: Any, settings: Any) -> None:
    heartbeat(seconds_ago=1)
    settings.PEJLING_HEALTH_MIN_FREE_MB = 10**12
    response = client.get(reverse("ops:ready"))
    assert response.status_code == 503
    assert "MB free in the data directory" in response.json()["checks"]["disk"]["detail"]


def test_a_stopped_database_is_not_ready_and_live_still_answers(tmp_path: Path) -> None:
    # Nothing listens on port 1: the database is away.
    env = child_env(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:1/pejling")
    answers = get_in_child(env, LIVE, READY)
    assert answers[LIVE]["status"] == 200
    ready = answers[READY]
    assert ready["status"] == 503
    checks = ready["body"]["checks"]
    assert checks["database"] == {
        "ok": False,
        "detail": "database unreachable (OperationalError)",
        "ms": checks["database"]["ms"],
    }
    assert checks["migrations"]["detail"] == "database unreachable"
    assert checks["worker"]["detail"] == "database unreachable"
    # No address, user name or password of the database in the answer.
    assert "127.0.0.1" not in str(ready["body"]) and "postgres" not in str(ready["body"])


def test_an_unmigrated_database_is_not_ready(tmp_path: Path) -> None:
    env = child_env(tmp_path)  # a new, empty SQLite file
    answers = get_in_child(env, READY)
    checks = answers[READY]["body"]["checks"]
    assert answers[READY]["status"] == 503
    assert checks["database"]["ok"] is True
    assert checks["migrations"]["ok"] is False
    assert checks["migrations"]["detail"].endswith("migrations not applied (run `pejling migrate`)")
    # After migrating, with a worker that reported, the same instance is ready.
    assert pejling(env, "migrate", "-v0").returncode == 0
    env["PEJLING_TASK_BACKEND"] = "django.tasks.backends.immediate.ImmediateBackend"
    assert get_in_child(env, READY)[READY]["status"] == 200


def test_the_worker_command_writes_its_heartbeat_and_then_the_instance_is_ready(
    tmp_path: Path, migrated: Callable[[Path], None]
) -> None:
    env = child_env(tmp_path)
    migrated(tmp_path)
    assert get_in_child(env, READY)[READY]["body"]["checks"]["worker"]["ok"] is False
    # The real worker, once through its loop (--batch: stop when no job is left).
    done = pejling(env, "db_worker", "--batch", "--no-startup-delay", "--worker-id", "w-test")
    assert done.returncode == 0, done.stderr
    answers = get_in_child(env, READY)
    assert answers[READY]["status"] == 200, answers
    assert answers[READY]["body"]["checks"]["worker"]["detail"].startswith("worker seen")
