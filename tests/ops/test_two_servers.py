"""Two `pejling serve` processes on one PostgreSQL database with their cache in Redis, as
several stateless app servers behind a load balancer run (docs/scaling.md): the same person is
signed in on both (sessions in the database), and a write through one server is read through
the other at once, though the other had cached the answer before (the roll-ups' generation in
the shared cache). Needs PostgreSQL (``DATABASE_URL``) and Redis on 127.0.0.1:6379."""

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

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, json.loads(body) if body else None

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


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Served]]:
    if connection.vendor != "postgresql":
        pytest.skip("two server processes share one PostgreSQL database (set DATABASE_URL)")
    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    started = []
    for _ in range(2):
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PEJLING_CACHE_URL": REDIS_URL,
            "PEJLING_BIND": f"127.0.0.1:{port}",
            "PEJLING_WORKERS": "1",
            "PEJLING_DATA_DIR": str(tmp_path),
            "PEJLING_DEBUG": "0",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "pejling", "serve", "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(Served(port, process))
    try:
        for served in started:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if served.get("/health/live", {})[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "pejling serve did not start"
                time.sleep(0.1)
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

    assert value_on(a) == 3.0  # computed and cached by server A (in Redis)
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
