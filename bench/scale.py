"""`pejling bench --scale small|large [--json]`: Pejling at the size of a municipality.

On PostgreSQL, in a throw-away database: ``pejling generate`` builds the organisation (small:
250 units, large: 2,500 units; 40 base measures × 60 months for every unit), then it measures
pages in the process (Django's test client, medians of several calls after a warm-up), the
production server (``pejling serve``: gunicorn, 2 workers, preloaded) over loopback HTTP, the
organisation sync of 2,500 units from a file and from OS2mo (``bench/org_sync.py``; alone:
``python -m bench.org_sync``), and the KPI import against a plain COPY. The last line printed is one JSON object with every
figure (see docs/performance.md for the budgets). Timings are measured, never asserted in tests.
"""

from __future__ import annotations

import cProfile
import gc
import http.client
import io
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCALES: dict[str, dict[str, int]] = {
    "small": {"units": 250, "indicators": 40, "months": 60, "import_rows": 200_000, "load_s": 15},
    "large": {
        "units": 2500,
        "indicators": 40,
        "months": 60,
        "import_rows": 1_000_000,
        "load_s": 20,
    },
}
YEAR = 2026
SERIES_QUERY = "period_from=2021-01&period_to=2025-12"
CONNECTIONS = 32
REPEAT = 7


def median_ms(fn: Callable[[], object], repeat: int = REPEAT) -> tuple[float, int]:
    """Median milliseconds of ``fn`` after one warm-up call, and the queries of the last call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()
    samples = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
        queries = len(ctx.captured_queries)
    return round(statistics.median(samples), 1), queries


def get_ok(client: Any, url: str, **headers: str) -> Callable[[], object]:
    def call() -> object:
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return call


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``pejling serve`` (gunicorn, 2 workers, preloaded) on the bench database."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PEJLING_DATA_DIR": str(data_dir),
            "PEJLING_BIND": f"127.0.0.1:{self.port}",
            "PEJLING_WORKERS": "2",
            "PEJLING_DEBUG": "0",
            "PEJLING_API_RATE_LIMIT": "100000000",
            "PEJLING_LOG_LEVEL": "WARNING",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pejling", "serve", "--log-level", "warning"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("pejling serve did not start")
        # Both workers up (forked after the preload): the master lists two children.
        while time.monotonic() < deadline and len(self.workers()) < 2:
            time.sleep(0.05)
        # Each worker connects and warms up after its fork (config/gunicorn.py): requests wait
        # for that a few tens of milliseconds, as a load balancer waits for its health check.
        time.sleep(1)

    def workers(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def peak_rss_mb(self) -> float:
        peaks = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return round(max(peaks), 1) if peaks else 0.0

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, float]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        start = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = (time.perf_counter() - start) * 1000
        connection.close()
        return response.status, elapsed


def load(server: Server, mix: list[tuple[str, dict[str, str]]], seconds: int) -> dict[str, float]:
    """``CONNECTIONS`` clients, each sending the mix in turn, for ``seconds``."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        n = offset
        mine = []
        bad = 0
        while time.monotonic() < stop_at:
            path, headers = mix[n % len(mix)]
            n += 1
            try:
                status, ms = server.get(path, headers)
            except OSError:
                bad += 1
                continue
            if status != 200:
                bad += 1
            mine.append(ms)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONNECTIONS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    latencies.sort()
    return {
        "http_rps": round(len(latencies) / elapsed, 1),
        "http_p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else 0.0,
        "http_p99_ms": round(latencies[int(len(latencies) * 0.99)], 1) if latencies else 0.0,
        "http_errors": errors[0],
        "http_requests": len(latencies),
    }


def kpi_series_sql(indicator: Any, root: Any) -> Callable[[], object]:
    """The plain SQL aggregate a BI tool would run: Σ numerator ÷ Σ denominator per month over
    the whole organisation, straight from the values."""
    from django.db import connection

    sql = (
        "SELECT v.period, SUM(v.value) FILTER (WHERE v.indicator_id = %s)"
        " / NULLIF(SUM(v.value) FILTER (WHERE v.indicator_id = %s), 0) * %s"
        " FROM indicators_indicatorvalue v JOIN organisation_unit u ON u.id = v.unit_id"
        " WHERE v.indicator_id IN (%s, %s) AND u.path LIKE %s"
        " AND v.period_start BETWEEN '2021-01-01' AND '2025-12-01'"
        " GROUP BY v.period ORDER BY v.period"
    )
    params = [
        indicator.numerator_id,
        indicator.denominator_id,
        indicator.scale,
        indicator.numerator_id,
        indicator.denominator_id,
        root.path + "%",
    ]

    def run() -> object:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def profile_of(fn: Callable[[], object], top: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def run(scale: str, *, profile: bool = False) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    config = SCALES[scale]
    if connection.vendor != "postgresql":
        raise SystemExit("pejling bench measures on PostgreSQL: set DATABASE_URL.")
    result: dict[str, Any] = {"scale": scale}
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    data_dir = Path(tempfile.mkdtemp(prefix="pejling-bench-"))
    server: Server | None = None
    try:
        from django.contrib.auth import get_user_model

        from pejling.api.tokens import token_create
        from pejling.demo.generate import RATIO_CODE, generate
        from pejling.followup.evaluation import all_goal_evaluations
        from pejling.indicators.models import Indicator, IndicatorValue
        from pejling.organisation.models import Unit

        started = time.perf_counter()
        generate(
            units=config["units"],
            indicators=config["indicators"],
            months=config["months"],
            seed=1,
            year=YEAR,
            say=lambda text: print(f"  generate: {text}", file=sys.stderr),
        )
        result["generate_s"] = round(time.perf_counter() - started, 1)
        result["units"] = Unit.objects.count()
        result["values"] = IndicatorValue.objects.count()
        users = get_user_model().objects
        director = Client()
        director.force_login(users.get(username="direktor"))
        root = Unit.objects.get(depth=1)
        widest = Unit.objects.order_by("-numchild", "path").values_list("code", "numchild").first()
        assert widest is not None
        result["unit_page_children"] = widest[1]
        ratio = Indicator.objects.get(code=RATIO_CODE)
        htmx = {"HTTP_HX_REQUEST": "true"}

        pages: dict[str, Callable[[], object]] = {
            "minimal_view": get_ok(director, "/healthz"),
            "dashboard": get_ok(director, f"/followup/dashboard/?year={YEAR}"),
            "unit_page": get_ok(director, f"/organisation/{widest[0]}/"),
            "root_indicators": get_ok(director, f"/indicators/units/{root.code}/", **htmx),
            "agreement_list": get_ok(director, f"/agreements/?year={YEAR}"),
        }
        # What generating left behind collected, the rest frozen, as `pejling serve` does
        # before its workers take requests (config/gunicorn.py: when_ready): the pages are
        # measured in a process whose garbage collector has as little to walk as a worker's.
        gc.collect()
        gc.freeze()
        for name, fn in pages.items():
            ms, queries = median_ms(fn)
            result[f"{name}_ms"] = ms
            result[f"{name}_queries"] = queries
        result["kpi_series_sql_ms"], _q = median_ms(kpi_series_sql(ratio, root))
        result["evaluate_all_ms"], result["evaluate_all_queries"] = median_ms(
            lambda: all_goal_evaluations(year=YEAR), repeat=3
        )
        # The organisation sync, 2,500 units from a file and from OS2mo (rolled back after).
        from bench.org_sync import measure as measure_org_sync

        result.update(measure_org_sync())
        slowest = max(pages, key=lambda name: result[f"{name}_ms"])
        result["slowest_page"] = slowest
        if profile:
            print(f"profile of the slowest page ({slowest}):", file=sys.stderr)
            print(profile_of(pages[slowest]), file=sys.stderr)

        # The production server over loopback HTTP.
        subprocess.run(
            [sys.executable, "-m", "pejling", "collectstatic", "--noinput", "-v0"],
            env={**os.environ, "PEJLING_DATA_DIR": str(data_dir)},
            check=True,
        )
        db = settings.DATABASES["default"]
        database_url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        token = token_create(
            user=users.get(username="direktor"), name="bench", scope="read", expires_in_days=1
        ).secret
        api = {"Authorization": f"Bearer {token}"}
        series_url = f"/api/v1/indicators/{RATIO_CODE}/series?{SERIES_QUERY}"
        server = Server(database_url, data_dir)
        server.start()
        # The first request ever: nothing cached, computed on a worker's first connection.
        status, first = server.get(series_url, api)
        assert status == 200, status
        result["first_uncached_request_ms"] = round(first, 1)
        # The first request after a restart: new processes, the cache kept (the data
        # directory's files, or Redis), as after a deployment or a crash.
        server.stop()
        server = Server(database_url, data_dir)
        server.start()
        status, cold = server.get(series_url, api)
        assert status == 200, status
        result["cold_first_request_ms"] = round(cold, 1)
        warm = []
        for _ in range(15):
            status, ms = server.get(series_url, api)
            warm.append(ms)
        result["kpi_series_ms"] = round(statistics.median(warm), 1)
        session = {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}="
            f"{director.cookies[settings.SESSION_COOKIE_NAME].value}"
        }
        units = list(
            Unit.objects.filter(depth__lte=4).order_by("path").values_list("code", flat=True)
        )
        mix: list[tuple[str, dict[str, str]]] = []
        for n in range(12):
            mix.append((f"/followup/dashboard/?year={YEAR}", session))
            mix.append((f"/organisation/{units[n * 7 % len(units)]}/", session))
            mix.append((f"/organisation/{units[n * 13 % len(units)]}/", session))
            mix.append(
                (
                    f"/api/v1/indicators/{RATIO_CODE}/series?unit={units[n * 5 % len(units)]}&{SERIES_QUERY}",
                    api,
                )
            )
        result.update(load(server, mix, config["load_s"]))
        result["rss_mb"] = server.peak_rss_mb()
        server.stop()
        server = None

        # The KPI import against a plain COPY of the same rows (kept from the first bench).
        from bench.__main__ import bench_import

        rows = config["import_rows"]
        imported, ratio_copy, _plain, import_peak = bench_import(rows)
        seconds = {name: s for name, s, _n in imported}
        result["import_rows_per_s"] = round(rows / seconds["import_file, all values new"])
        result["copy_rows_per_s"] = round(rows / seconds["COPY into the values table (psql)"])
        result["import_vs_copy"] = round(ratio_copy, 2)
        result["import_peak_rss_mb"] = round(import_peak)
    finally:
        if server is not None:
            server.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return result


BUDGETS = [
    ("kpi_series_ms", lambda r: r["kpi_series_ms"] <= 20, "≤ 20"),
    (
        "kpi_series_ms",
        lambda r: r["kpi_series_ms"] <= 0.1 * r["kpi_series_sql_ms"],
        "≤ 0.1 × kpi_series_sql_ms",
    ),
    ("root_indicators_ms", lambda r: r["root_indicators_ms"] <= 300, "≤ 300"),
    ("dashboard_ms", lambda r: r["dashboard_ms"] <= 100, "≤ 100"),
    (
        "dashboard_ms",
        lambda r: r["dashboard_ms"] <= 20 * r["minimal_view_ms"],
        "≤ 20 × minimal_view_ms",
    ),
    ("unit_page_ms", lambda r: r["unit_page_ms"] <= 80, "≤ 80"),
    (
        "unit_page_ms",
        lambda r: r["unit_page_ms"] <= 10 * r["minimal_view_ms"],
        "≤ 10 × minimal_view_ms",
    ),
    ("evaluate_all_ms", lambda r: r["evaluate_all_ms"] <= 1000, "≤ 1000"),
    (
        "cold_first_request_ms",
        lambda r: r["cold_first_request_ms"] <= 3 * r["kpi_series_ms"],
        "≤ 3 × warm (kpi_series_ms)",
    ),
    ("http_rps", lambda r: r["http_rps"] >= 100, "≥ 100"),
    ("http_p99_ms", lambda r: r["http_p99_ms"] <= 500, "≤ 500"),
    ("rss_mb", lambda r: r["rss_mb"] <= 250, "≤ 250"),
    ("sync_org_2500_file_s", lambda r: r["sync_org_2500_file_s"] <= 10, "≤ 10"),
    ("sync_org_2500_os2mo_s", lambda r: r["sync_org_2500_os2mo_s"] <= 10, "≤ 10"),
]


def report(result: dict[str, Any]) -> int:
    over = 0
    print(f"{'figure':<26} {'value':>12}  budget")
    for name, ok, text in BUDGETS:
        verdict = "ok" if ok(result) else "OVER BUDGET"
        over += verdict != "ok"
        print(f"{name:<26} {result[name]:>12}  {text}  {verdict}")
    return over


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="pejling bench")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    parser.add_argument("--profile", action="store_true", help="profile the slowest page")
    options = parser.parse_args(argv)
    result = run(options.scale, profile=options.profile)
    over = report(result) if options.scale == "large" else 0
    if options.json:
        print(json.dumps(result, sort_keys=True))
    return 1 if over else 0
