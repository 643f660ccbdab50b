"""A request's id: taken from X-Request-ID (or made), returned, written in the request's log
line, carried into the background job the request enqueued (its log line and the audit trail
rows it writes)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from django_tasks_db.management.commands.db_worker import Worker

from pejling.audit.trail import AuditFilters, audit_page
from pejling.core.models import ChangeSource, ChangeVia
from pejling.indicators.models import ImportBatch, ImportStatus, IndicatorValue
from pejling.ops.logs import PejlingJsonFormatter, RedactingFilter
from pejling.ops.models import JobRequest
from tests.indicators.files import checked_upload
from tests.indicators.test_indicator_views import GOOD, kpis, upload  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the request and job loggers write, as the production JSON handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PejlingJsonFormatter())
    handler.addFilter(RedactingFilter())
    loggers = [logging.getLogger("pejling.request"), logging.getLogger("pejling.job")]
    for logger in loggers:
        logger.addHandler(handler)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_callers_request_id_is_kept_and_returned(client: Any) -> None:
    response = client.get(reverse("ops:live"), HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert response["X-Request-ID"] == "lb-7f3a.42"


def test_an_unusable_request_id_is_replaced(client: Any) -> None:
    response = client.get(reverse("ops:live"), HTTP_X_REQUEST_ID="bad id\nforged: line")
    assert response["X-Request-ID"] != "bad id\nforged: line"
    assert len(response["X-Request-ID"]) == 32
    assert client.get(reverse("ops:live"))["X-Request-ID"] != response["X-Request-ID"]


def test_a_request_writes_one_json_line(client: Any, org: Any, json_lines: io.StringIO) -> None:
    client.force_login(org.office)
    client.get(reverse("indicators:import_list") + "?q=190101-1234", HTTP_X_REQUEST_ID="req-1")
    (line,) = records(json_lines)
    assert line["request_id"] == "req-1"
    assert line["user_id"] == org.office.pk
    assert line["view"] == "indicators:import_list"
    assert line["status"] == 200
    assert line["method"] == "GET" and line["path"] == reverse("indicators:import_list")
    assert line["duration_ms"] >= 0 and line["queries"] >= 1
    assert line["level"] == "INFO" and line["time"]
    assert "190101-1234" not in json_lines.getvalue()  # the query string is never logged


def run_worker() -> None:
    """The worker (django-tasks-db's own loop) takes every waiting job and runs it."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


# Real commits: the job is enqueued when the view's transaction commits, inside the request.
@pytest.mark.django_db(transaction=True)
def test_the_request_id_travels_into_the_job_and_the_audit_trail(
    client: Any,
    org: Any,
    kpis: dict[str, Any],  # noqa: F811
    json_lines: io.StringIO,
) -> None:
    client.force_login(org.office)
    upload(client, GOOD)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.CHECKING  # the worker checks every upload
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEW
    response = client.post(
        reverse("indicators:import_confirm", args=[batch.pk]),
        HTTP_X_REQUEST_ID="req-import-77",
    )
    assert response["X-Request-ID"] == "req-import-77"
    batch.refresh_from_db()
    assert batch.status == ImportStatus.QUEUED  # waiting for the worker
    assert JobRequest.objects.get().request_id == "req-import-77"

    # The worker (django-tasks-db's own loop) picks the job up and runs it.
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    assert not JobRequest.objects.exists()  # read by the job's start, then gone
    assert IndicatorValue.objects.filter(period="2019-05").count() == 3

    job_lines = [r for r in records(json_lines) if r["logger"] == "pejling.job"]
    assert [r["task"] for r in job_lines] == [
        "pejling.indicators.tasks.run_check",
        "pejling.indicators.tasks.run_import",
    ]
    job = job_lines[1]
    assert job["request_id"] == "req-import-77"
    assert job["task"] == "pejling.indicators.tasks.run_import"
    assert job["status"] == "successful" and job["duration_ms"] >= 0
    request_lines = [r for r in records(json_lines) if r["logger"] == "pejling.request"]
    assert "req-import-77" in [r["request_id"] for r in request_lines]

    # The audit trail: the request queued the import (web) and the job, carrying the request's
    # id, wrote the batch's progress and result (task).
    sources = ChangeSource.objects.filter(request_id="req-import-77")
    assert {(s.via, s.history_model) for s in sources} == {
        (ChangeVia.WEB, "indicators.importbatch"),
        (ChangeVia.TASK, "indicators.importbatch"),
    }
    trail, _more = audit_page(AuditFilters(model="indicators.importbatch"), after=None, limit=20)
    by_job = [e for e in trail if e.source is not None and e.source.via == ChangeVia.TASK]
    # (the check of the upload, a job too, carries the upload's request id)
    assert by_job and "req-import-77" in {e.request_id for e in by_job}
    page = client.get(reverse("audit:trail") + "?model=indicators.importbatch")
    assert "req-import-77" in page.content.decode()


def test_a_web_change_records_its_request_id(
    client: Any,
    org: Any,
    kpis: dict[str, Any],  # noqa: F811
) -> None:
    client.force_login(org.office)
    batch = checked_upload(data=GOOD, filename="values.csv", by=org.office)
    client.post(
        reverse("indicators:import_confirm", args=[batch.pk]), HTTP_X_REQUEST_ID="req-web-1"
    )  # queued for the worker
    # The batch's change (its state, by the confirming request) carries the request's id.
    sources = ChangeSource.objects.filter(request_id="req-web-1")
    assert sources.exists()
    assert {(s.via, s.history_model) for s in sources} == {
        (ChangeVia.WEB, "indicators.importbatch")
    }
