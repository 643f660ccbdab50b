"""Two `pejling serve` processes on one PostgreSQL database with their cache in Redis, as
several stateless app servers behind a load balancer run (docs/scaling.md), or in the files of
one data directory, as the processes of one machine share it without Redis: the same person is
signed in on both (sessions in the database), and a write through one server is read through
the other at once, though the other had cached the answer before (the data generation kept in
the database). A server restarted on the same cache answers from it. Needs PostgreSQL
(``DATABASE_URL``) and, for the Redis case, Redis on 127.0.0.1:6379."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from pejling.api.tokens import token_create
from pejling.indicators.models import IndicatorRollup, IndicatorValue
from pejling.organisation import services as organisation_services
from pejling.organisation.models import Membership, Role
from tests.factories import IndicatorFactory, IndicatorValueFactory

REDIS_URL = os.environ.get("PEJLING_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")

pytestmark = pytest.mark.django_db(transaction=True)


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, port: int, process: subprocess.Popen[bytes]) -> None:
        self.port, self.process = port, process

    def page(self, path: str, headers: dict[str, str]) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read().decode()
        conn.close()
        return response.status, body

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        status, body = self.page(path, headers)
        return status, json.loads(body) if body else None

    def post(self, path: str, data: Any, headers: dict[str, str]) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(
            "POST",
            path,
            body=json.dumps(data),
            headers={**headers, "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, json.loads(body) if body else None


def _start(url: str, cache_url: str, data_dir: Path, *, pages: bool = False) -> Served:
    """``pejling serve`` on ``url``; with ``pages``, able to render HTML pages without a
    collectstatic run (static files through the finders, as in the other tests: ``DEBUG``)."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PEJLING_CACHE_URL": cache_url,
        "PEJLING_BIND": f"127.0.0.1:{port}",
        "PEJLING_WORKERS": "1",
        "PEJLING_DATA_DIR": str(data_dir),
        "PEJLING_DEBUG": "1" if pages else "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "pejling", "serve", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    served = Served(port, process)
    deadline = time.monotonic() + 120
    while True:
        try:
            if served.get("/health/live", {})[0] == 200:
                return served
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.terminate()
            raise AssertionError("pejling serve did not start")
        time.sleep(0.1)


@pytest.fixture
def database_url() -> str:
    if connection.vendor != "postgresql":
        pytest.skip("two server processes share one PostgreSQL database (set DATABASE_URL)")
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(params=["redis", "data directory"])
def servers(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[list[Served]]:
    cache_url = ""  # empty: the files of the data directory both share
    if request.param == "redis":
        if not _redis_up():
            pytest.skip("no Redis on 127.0.0.1:6379")
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        cache_url = REDIS_URL
    started: list[Served] = []
    try:
        for _ in range(2):
            started.append(_start(database_url, cache_url, tmp_path, pages=True))
        yield started
    finally:
        for served in started:
            served.process.terminate()
            served.process.wait(timeout=30)


def test_two_servers_serve_the_same_people_and_drop_a_cached_answer_written_through_the_other(
    servers: list[Served], org: Any
) -> None:
    a, b = servers
    days = IndicatorFactory(code="SICK_DAYS")
    IndicatorValueFactory(indicator=days, unit=org.unit, period="2026-01", value=3)
    # One sign-in (a session in the database), served by both.
    browser = Client()
    browser.force_login(org.employee)
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={browser.cookies['sessionid'].value}"}
    for served in servers:
        status, body = served.get("/api/v1/units?limit=5", cookie)
        assert status == 200
        assert body["items"]
    token = token_create(user=org.office, name="two", scope="read_write", expires_in_days=1)
    office = {"Authorization": f"Bearer {token.secret}"}
    series = "/api/v1/indicators/SICK_DAYS/series?unit=unit-a1a&scope=own"

    def value_on(served: Served) -> float:
        status, body = served.get(series, office)
        assert status == 200, body
        return float(body["series"][0]["points"][0]["value"])

    assert value_on(a) == 3.0  # computed and cached by server A (in the shared cache)
    assert value_on(b) == 3.0  # server B reads the same cached answer
    status, body = b.post(
        "/api/v1/values",
        {
            "values": [
                {"indicator": "SICK_DAYS", "unit": "unit-a1a", "period": "2026-01", "value": 7}
            ]
        },
        office,
    )
    assert status == 201, body
    assert value_on(a) == 7.0  # A no longer serves what it cached: B's write started anew
    assert value_on(b) == 7.0

    # A unit page and a reader's memberships (what they may do), cached by the servers, follow
    # a write committed by another process (this one).
    unit_page = "/organisation/unit-a1a/"
    for served in servers:
        status, html = served.page(unit_page, cookie)
        assert status == 200 and "Unit A1a" in html
    org.unit.name = "Enhet Ett"
    organisation_services.unit_save(by=org.office, unit=org.unit)
    for served in servers:
        assert "Enhet Ett" in served.page(unit_page, cookie)[1]
    signed_in = Client()
    signed_in.force_login(org.office)
    office_cookie = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={signed_in.cookies['sessionid'].value}"
    }
    for served in servers:
        assert served.page("/audit/", office_cookie)[0] == 200
    Membership.objects.get(user=org.office, role=Role.STRATEGY_OFFICE).delete()
    for served in servers:
        assert served.page("/audit/", office_cookie)[0] == 403


def test_a_restarted_server_answers_from_the_cache_in_the_data_directory(
    database_url: str, tmp_path: Path, org: Any
) -> None:
    """Without Redis the cache is the data directory's files: a server started again answers
    its first request from what it computed before (``cold_first_request_ms`` in the bench)."""
    days = IndicatorFactory(code="SICK_DAYS")
    value = IndicatorValueFactory(indicator=days, unit=org.unit, period="2026-01", value=3)
    token = token_create(user=org.office, name="restart", scope="read", expires_in_days=1)
    office = {"Authorization": f"Bearer {token.secret}"}
    series = "/api/v1/indicators/SICK_DAYS/series?unit=unit-a1a&scope=own"
    served = _start(database_url, "", tmp_path)
    try:
        status, body = served.get(series, office)
        assert status == 200, body
        assert body["series"][0]["points"][0]["value"] == 3.0
    finally:
        served.process.terminate()
        served.process.wait(timeout=30)
    assert list((tmp_path / "cache").glob("*.djcache"))
    # Changed behind the application's back (no write raises the generation): only a server
    # answering from the cache it kept still says 3.
    IndicatorValue.objects.filter(pk=value.pk).update(value=9)  # sends no signal
    IndicatorRollup.objects.filter(indicator=days).update(total=9, lowest=9, highest=9)
    served = _start(database_url, "", tmp_path)
    try:
        status, body = served.get(series, office)
        assert status == 200, body
        assert body["series"][0]["points"][0]["value"] == 3.0
        value.value = 5
        value.save()  # a write: the generation is raised, the cached answer is old
        status, body = served.get(series, office)
        assert body["series"][0]["points"][0]["value"] == 5.0
    finally:
        served.process.terminate()
        served.process.wait(timeout=30)
