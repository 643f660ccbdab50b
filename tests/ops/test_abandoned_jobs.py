"""No background job is left "running" for ever: a job whose worker stopped beating is failed by
the next worker's check, and what it was working on (a document, a fetch of national
statistics) says what happened and can be tried again; a job that fails unexpectedly says so
too."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from pejling.indicators.models import FetchStatus, SourceFetch
from pejling.indicators.tasks import run_fetch
from pejling.ops.jobs import recover_abandoned_jobs
from pejling.ops.models import WorkerHeartbeat
from pejling.reports.models import DocumentJob, JobStatus
from pejling.reports.tasks import build_document_job
from tests.factories import IndicatorFactory

pytestmark = pytest.mark.django_db


def _claimed_by_a_gone_worker(job: Any) -> None:
    DBTaskResult.objects.get(pk=job.id).claim("w-gone")
    WorkerHeartbeat.objects.create(
        worker_id="w-gone",
        host="h",
        pid=1,
        started_at=timezone.now(),
        seen_at="2020-01-01T00:00Z",
    )


def _document(org: Any, language: str = "en") -> DocumentJob:
    return DocumentJob.objects.create(
        kind="strategy",
        format="pdf",
        language=language,
        params={"year": 2025},
        requested_by=org.office,
    )


def test_a_document_whose_worker_died_is_failed_and_can_be_tried_again(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    document = _document(org, language="sv")
    job = build_document_job.enqueue(document.pk)
    DocumentJob.objects.filter(pk=document.pk).update(status=JobStatus.RUNNING, progress=30)
    _claimed_by_a_gone_worker(job)

    assert recover_abandoned_jobs(stale_seconds=60) == [str(job.id)]
    assert recover_abandoned_jobs(stale_seconds=60) == []
    document.refresh_from_db()
    assert document.status == JobStatus.FAILED
    assert document.error == "Bakgrundsarbetaren stannade medan dokumentet byggdes. Försök igen."

    client = Client(headers={"accept-language": "en"})
    client.force_login(org.office)
    page = client.get(reverse("board_reports:document_detail", args=[document.pk]))
    assert "Try again" in page.content.decode()
    retry = reverse("board_reports:document_retry", args=[document.pk])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(retry)
        client.post(retry)  # a second click queues nothing more
    assert len(callbacks) == 1
    document.refresh_from_db()
    assert (document.status, document.error, document.progress) == (JobStatus.QUEUED, "", 0)
    queued = DBTaskResult.objects.filter(task_path=build_document_job.module_path)
    assert queued.ready().count() == 1


def test_someone_else_cannot_retry_my_document(org: Any) -> None:
    document = _document(org)
    DocumentJob.objects.filter(pk=document.pk).update(status=JobStatus.FAILED)
    client = Client()
    client.force_login(org.head)
    answer = client.post(reverse("board_reports:document_retry", args=[document.pk]))
    assert answer.status_code == 404
    document.refresh_from_db()
    assert document.status == JobStatus.FAILED


def test_a_document_job_that_fails_unexpectedly_says_so(org: Any) -> None:
    document = _document(org)
    with (
        mock.patch("pejling.reports.tasks.build_document", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        build_document_job.call(document.pk)
    document.refresh_from_db()
    assert document.status == JobStatus.FAILED
    assert "unexpected error" in document.error


def _fetch() -> SourceFetch:
    return SourceFetch.objects.create(
        indicator=IndicatorFactory(code="FOLK"),
        source="statbank",
        series="FOLK1A",
        area_dimension="OMRÅDE",
        time_dimension="Tid",
        schedule="weekly",
        status=FetchStatus.RUNNING,
    )


def test_a_fetch_whose_worker_died_is_failed_with_its_reason(org: Any) -> None:
    fetch = _fetch()
    job = run_fetch.enqueue(fetch.pk, None)
    _claimed_by_a_gone_worker(job)

    assert recover_abandoned_jobs(stale_seconds=60) == [str(job.id)]
    fetch.refresh_from_db()
    assert fetch.status == FetchStatus.FAILED
    # In the installation's language (Swedish here): a fetch may have no one asking.
    assert fetch.last_errors == ["Bakgrundsarbetaren stannade under hämtningen; inget skrevs."]
    assert fetch.next_run_at is not None and fetch.next_run_at > timezone.now()


def test_a_fetch_that_fails_unexpectedly_is_not_left_running(org: Any) -> None:
    fetch = _fetch()
    with (
        mock.patch("pejling.indicators.fetching.run", side_effect=RuntimeError("bug")),
        pytest.raises(RuntimeError),
    ):
        run_fetch.call(fetch.pk, None)
    fetch.refresh_from_db()
    assert fetch.status == FetchStatus.FAILED
    assert fetch.last_errors == ["Ett oväntat fel stoppade hämtningen; inget skrevs."]
