"""Prometheus metrics (prometheus-client).

Per request (counted by ``RequestIdMiddleware``): requests by view, method and status, their
duration, and the database queries and query time of each. At each scrape (``JobsCollector``,
read from the database, so they are right whichever process did the work): background jobs by
task and state with the age of the oldest queued and running one and of the newest failure,
document builds by kind, format and state,
the worker heartbeat's age, import batches with their rows and durations, active sessions, and
the version as ``pejling_build_info``.

Under gunicorn with several workers set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory
(docs/operations.md): each process then writes its counters there and a scrape adds them up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from django.db.models import Count, Max, Min, Sum
from django.utils import timezone
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from pejling.ops.models import WorkerHeartbeat
from pejling.ops.version import app_version

REQUESTS = Counter("pejling_http_requests", "HTTP requests served", ["view", "method", "status"])
REQUEST_SECONDS = Histogram(
    "pejling_http_request_duration_seconds",
    "Time to answer a request",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
REQUEST_QUERIES = Histogram(
    "pejling_http_request_db_queries",
    "Database queries per request",
    ["view"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200, 500),
)
REQUEST_DB_SECONDS = Histogram(
    "pejling_http_request_db_duration_seconds",
    "Time spent in database queries per request",
    ["view"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)


def observe_request(
    *, view: str, method: str, status: int, seconds: float, queries: int, db_seconds: float
) -> None:
    REQUESTS.labels(view=view, method=method, status=str(status)).inc()
    REQUEST_SECONDS.labels(view=view).observe(seconds)
    REQUEST_QUERIES.labels(view=view).observe(queries)
    REQUEST_DB_SECONDS.labels(view=view).observe(db_seconds)


def _age(now: object, then: object) -> float:
    return max(0.0, (now - then).total_seconds()) if then else 0.0  # type: ignore[operator]


class JobsCollector(Collector):
    """Gauges read from the database at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily | InfoMetricFamily]:
        from django.contrib.sessions.models import Session
        from django_tasks_db.models import DBTaskResult

        from pejling.indicators.models import ImportBatch
        from pejling.reports.models import DocumentJob

        now = timezone.now()
        info = InfoMetricFamily("pejling_build", "Pejling's version")
        info.add_metric([], {"version": app_version()})
        yield info

        jobs = GaugeMetricFamily(
            "pejling_jobs", "Background jobs by task and state", labels=["task", "state"]
        )
        oldest = GaugeMetricFamily(
            "pejling_jobs_oldest_age_seconds",
            "Age of the oldest queued job (since enqueued) and running job (since started)",
            labels=["state"],
        )
        rows = DBTaskResult.objects.values("task_path", "status").annotate(n=Count("id"))
        for row in rows:
            jobs.add_metric([row["task_path"], row["status"].lower()], row["n"])
        yield jobs
        ready = DBTaskResult.objects.filter(status="READY").aggregate(t=Min("enqueued_at"))["t"]
        running = DBTaskResult.objects.filter(status="RUNNING").aggregate(t=Min("started_at"))["t"]
        oldest.add_metric(["queued"], _age(now, ready))
        oldest.add_metric(["running"], _age(now, running))
        yield oldest
        failed = DBTaskResult.objects.filter(status="FAILED").aggregate(t=Max("finished_at"))["t"]
        last_failure = GaugeMetricFamily(
            "pejling_jobs_last_failure_age_seconds",
            "Seconds since the newest failed job finished (absent: none failed)",
        )
        if failed:
            last_failure.add_metric([], _age(now, failed))
        yield last_failure

        beat = WorkerHeartbeat.objects.aggregate(t=Max("seen_at"))["t"]
        heartbeat = GaugeMetricFamily(
            "pejling_worker_heartbeat_age_seconds",
            "Seconds since a background worker last reported (absent: never)",
        )
        if beat:
            heartbeat.add_metric([], _age(now, beat))
        yield heartbeat

        imports = GaugeMetricFamily(
            "pejling_import_batches", "Indicator import batches by state", labels=["state"]
        )
        import_rows = GaugeMetricFamily(
            "pejling_import_rows",
            "Rows imported by indicator import batches, by state",
            labels=["state"],
        )
        batches = ImportBatch.objects.values("status").annotate(n=Count("id"), r=Sum("rows_done"))
        for batch in batches:
            imports.add_metric([batch["status"]], batch["n"])
            import_rows.add_metric([batch["status"]], batch["r"] or 0)
        yield imports
        yield import_rows
        durations = [
            _age(b["finished_at"], b["created_at"])
            for b in ImportBatch.objects.filter(finished_at__isnull=False)
            .order_by("-finished_at")
            .values("created_at", "finished_at")[:100]
        ]
        last_imports = GaugeMetricFamily(
            "pejling_import_duration_seconds",
            "Duration of the last 100 finished imports (upload to finish)",
            labels=["stat"],
        )
        if durations:
            last_imports.add_metric(["max"], max(durations))
            last_imports.add_metric(["mean"], sum(durations) / len(durations))
        yield last_imports

        documents = GaugeMetricFamily(
            "pejling_document_builds",
            "Document builds (PDF, Word, Excel) by kind, format and state",
            labels=["kind", "format", "state"],
        )
        for job in DocumentJob.objects.values("kind", "format", "status").annotate(n=Count("id")):
            documents.add_metric([job["kind"], job["format"], job["status"]], job["n"])
        yield documents

        sessions = GaugeMetricFamily("pejling_active_sessions", "Sessions not yet expired")
        sessions.add_metric([], Session.objects.filter(expire_date__gt=now).count())
        yield sessions


def render() -> bytes:
    """The metrics in Prometheus' text format."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in (REQUESTS, REQUEST_SECONDS, REQUEST_QUERIES, REQUEST_DB_SECONDS):
            registry.register(metric)
    registry.register(JobsCollector())
    return generate_latest(registry)
