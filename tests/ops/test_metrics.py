"""/metrics: refused without the token or an allowed address; counts the requests it saw;
reports background jobs, imports, sessions and the version."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.tasks import task
from django.urls import reverse

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token"


@task()
def noop() -> None:
    """A job for the metrics to count (never run here)."""


@pytest.fixture
def metrics_settings(settings: Any) -> Any:
    settings.PEJLING_METRICS_TOKEN = TOKEN
    settings.PEJLING_METRICS_ALLOW = ["10.20.0.0/16"]
    return settings


def scrape(client: Any, **extra: Any) -> str:
    response = client.get(reverse("ops:metrics"), **extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return str(response.content.decode())


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_are_refused_without_the_token(client: Any, metrics_settings: Any) -> None:
    assert client.get(reverse("ops:metrics")).status_code == 403
    wrong = client.get(reverse("ops:metrics"), HTTP_AUTHORIZATION="Bearer not-the-token")
    assert wrong.status_code == 403
    assert b"pejling_" not in wrong.content


def test_metrics_are_refused_to_everyone_when_nothing_is_configured(
    client: Any, settings: Any
) -> None:
    settings.PEJLING_METRICS_TOKEN = ""
    settings.PEJLING_METRICS_ALLOW = []
    assert client.get(reverse("ops:metrics"), HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_an_allowed_address_needs_no_token(client: Any, metrics_settings: Any) -> None:
    assert "pejling_build_info" in scrape(client, REMOTE_ADDR="10.20.3.4")
    assert client.get(reverse("ops:metrics"), REMOTE_ADDR="10.21.3.4").status_code == 403


def test_a_served_request_is_counted_with_its_duration_and_queries(
    client: Any, metrics_settings: Any
) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    labels = {"view": "ops:live", "method": "GET", "status": "200"}
    before = scrape(client, **auth)
    assert client.get(reverse("ops:live")).status_code == 200
    after = scrape(client, **auth)
    assert sample(after, "pejling_http_requests_total", **labels) == (
        sample(before, "pejling_http_requests_total", **labels) + 1
    )
    assert sample(after, "pejling_http_request_duration_seconds_count", view="ops:live") == (
        sample(before, "pejling_http_request_duration_seconds_count", view="ops:live") + 1
    )
    # A page that reads the database: its queries are counted.
    before_q = sample(after, "pejling_http_request_db_queries_sum", view="ops:ready")
    client.get(reverse("ops:ready"))
    final = scrape(client, **auth)
    assert sample(final, "pejling_http_request_db_queries_sum", view="ops:ready") > before_q
    assert 'pejling_build_info{version="' in final


def test_jobs_imports_and_sessions_are_reported(
    client: Any, metrics_settings: Any, org: Any
) -> None:
    noop.enqueue()
    noop.enqueue()
    client.force_login(org.office)
    text = scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert sample(text, "pejling_jobs", task="tests.ops.test_metrics.noop", state="ready") == 2
    assert sample(text, "pejling_jobs_oldest_age_seconds", state="queued") >= 0
    assert "pejling_jobs_oldest_age_seconds" in text
    assert sample(text, "pejling_active_sessions") == 1
    assert "# TYPE pejling_import_batches gauge" in text
    assert "# TYPE pejling_document_builds gauge" in text
