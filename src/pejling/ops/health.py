"""Readiness checks: each answers (ok, detail) quickly, never raises, and names no person.

``readiness()`` runs them all; ``/health/ready`` and ``pejling doctor`` show the result.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from pejling.ops.models import WorkerHeartbeat


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    ms: float


class _MigratedCache:
    """Once the database was seen fully migrated, look again only every minute: loading the
    migration graph is the one slow part of a readiness check."""

    seen_at: float = 0.0


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        connection.close_if_unusable_or_obsolete()
        return False, f"database unreachable ({type(error).__name__})"
    return True, f"{connection.vendor} reachable"


def pending_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(targets)]


def check_migrations() -> tuple[bool, str]:
    if time.monotonic() - _MigratedCache.seen_at < 60:
        return True, "migrated"
    try:
        pending = pending_migrations()
    except DatabaseError as error:
        return False, f"migrations could not be read ({type(error).__name__})"
    if pending:
        return False, f"{len(pending)} migrations not applied (run `pejling migrate`)"
    _MigratedCache.seen_at = time.monotonic()
    return True, "migrated"


def check_cache() -> tuple[bool, str]:
    backend = str(settings.CACHES["default"]["BACKEND"])
    if backend.endswith("LocMemCache") or backend.endswith("DummyCache"):
        return True, "in-process cache"
    try:
        cache = caches["default"]
        cache.set("pejling:health", "1", 10)
        if cache.get("pejling:health") != "1":
            return False, "cache did not keep a value"
    except Exception as error:  # each cache library raises its own errors
        return False, f"cache unreachable ({type(error).__name__})"
    return True, "cache reachable"


def worker_required() -> bool:
    return settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


def check_worker() -> tuple[bool, str]:
    if not worker_required():
        return True, "jobs run in the web process"
    try:
        seen = (
            WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
        )
    except DatabaseError as error:
        return False, f"heartbeat could not be read ({type(error).__name__})"
    if seen is None:
        return False, "no background worker has reported (start `pejling db_worker`)"
    age = (timezone.now() - seen).total_seconds()
    limit = settings.PEJLING_WORKER_STALE_SECONDS
    if age > limit:
        return False, f"worker heartbeat is {int(age)} s old (limit {limit} s)"
    return True, f"worker seen {int(age)} s ago"


def check_disk() -> tuple[bool, str]:
    usage = shutil.disk_usage(settings.DATA_DIR)
    free_mb = usage.free // (1024 * 1024)
    if free_mb < settings.PEJLING_HEALTH_MIN_FREE_MB:
        return (
            False,
            f"{free_mb} MB free in the data directory (need {settings.PEJLING_HEALTH_MIN_FREE_MB})",
        )
    return True, f"{free_mb} MB free"


CHECKS: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
    ("database", check_database),
    ("migrations", check_migrations),
    ("cache", check_cache),
    ("worker", check_worker),
    ("disk", check_disk),
]


def readiness() -> list[Check]:
    results: list[Check] = []
    database_ok = True
    for name, check in CHECKS:
        start = time.perf_counter()
        if not database_ok and name in {"migrations", "worker"}:
            ok, detail = False, "database unreachable"
        else:
            try:
                ok, detail = check()
            except Exception as error:  # a check must never turn readiness into a 500
                ok, detail = False, f"check failed ({type(error).__name__})"
        if name == "database":
            database_ok = ok
        results.append(Check(name, ok, detail, round((time.perf_counter() - start) * 1000, 1)))
    return results
