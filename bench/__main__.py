"""`make bench`: speed and memory budgets, measured (never asserted in tests).

Runs against a throw-away test database on the configured server (PostgreSQL in `make bench`):
loads the demo, grows the organisation to the size of a large municipality (2,500 units with
an agreement and four initiatives each), then times the pages people use most.

Then it imports 1,000,000 KPI values (every unit × 400 months, a CSV as a municipality's payroll
system exports it: ``;``, decimal comma) through ``imports.import_file`` and compares that with a
plain PostgreSQL ``COPY`` of the same rows, already as ids and dates, into the values table
(budget: the import at least half as fast). For information it also times a re-import, the exact
reader and a COPY into an index-less scratch table. ``PEJLING_BENCH_IMPORT_ROWS=0`` skips it.
"""

from __future__ import annotations

import functools
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pejling.config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    override_settings,
    setup_test_environment,
)

UNITS = int(os.environ.get("PEJLING_BENCH_UNITS", "2500"))
IMPORT_ROWS = int(os.environ.get("PEJLING_BENCH_IMPORT_ROWS", "1000000"))
IMPORT_BUDGET_RATIO = 0.5  # the import is at least half as fast as a plain COPY

# name, budget in milliseconds (median)
BUDGETS = {
    "demo load (74 units)": 15000,
    f"grow to {UNITS} units": 120000,
    "page: my part of the whole": 300,
    "page: organisation tree": 800,
    "page: annual agreements list": 800,
    "page: agreement detail": 300,
    "page: strategy detail": 300,
    "page: executive dashboard": 2000,
    "page: compliance matrix": 1500,
    "query: subtree of the root": 100,
}


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, int]:
    samples = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
        queries = len(ctx.captured_queries)
    return statistics.median(samples), queries


def grow(units: int) -> None:
    from django.contrib.auth import get_user_model

    from pejling.agreements.models import Agreement, Initiative, InitiativeGoal
    from pejling.organisation.models import Unit, UnitLevel
    from pejling.strategy.models import Element

    level = UnitLevel.objects.get(depth=4)
    departments = list(Unit.objects.filter(depth=3))
    goals = list(
        Element.objects.filter(level__holds_goals=True, strategy__code="koncernstrategi-2025-2026")
    )
    owner = get_user_model().objects.get(username="enhetschef")
    existing = Unit.objects.count()
    i = 0
    while existing + i < units:
        dept = departments[i % len(departments)]
        unit = Unit.objects.add_child(
            dept, create_kwargs={"code": f"B{i:05d}", "name": f"Enhet {i:05d}", "level": level}
        )
        agreement = Agreement.objects.create(unit=unit, year=2026, state="published")
        initiatives = Initiative.objects.bulk_create(
            [
                Initiative(agreement=agreement, title=f"Insats {n}", owner=owner, position=n)
                for n in range(4)
            ]
        )
        InitiativeGoal.objects.bulk_create(
            [
                InitiativeGoal(initiative=ini, goal=goals[(i + n) % len(goals)])
                for n, ini in enumerate(initiatives)
            ]
        )
        i += 1


BENCH_INDICATOR = "BENCH_SJUKDAGAR"


def import_payloads(rows: int, *, changed: bool = False) -> tuple[bytes, bytes, str]:
    """The same ``rows`` values twice: a CSV file to import, and COPY text (ids and dates).

    ``changed`` gives every value another number (a re-import where everything changed), and
    no COPY text.
    """
    from pejling.indicators.models import Indicator
    from pejling.indicators.sources.records import Period
    from pejling.organisation.models import Unit

    indicator, _ = Indicator.objects.get_or_create(
        code=BENCH_INDICATOR,
        defaults={"name": "Sjukfrånvarodagar (bench)", "measure_unit": "days"},
    )
    units = list(Unit.objects.order_by("path").values_list("pk", "code"))
    months = -(-rows // len(units))
    periods = [Period(1990 + m // 12, "month", m % 12 + 1) for m in range(months)]
    csv_lines = ["Nyckeltal;Enhet;Period;Värde"]
    copy_lines = []
    n = 0
    for period in periods:
        text = str(period)
        start, end = period.start_date().isoformat(), period.end_date().isoformat()
        for pk, code in units:
            if n == rows:
                break
            value = (n * 7919) % 100000 + (1 if changed else 0)
            csv_lines.append(f"{BENCH_INDICATOR};{code};{text};{value // 10},{value % 10}")
            if not changed:
                copy_lines.append(
                    f"{indicator.pk}\t{pk}\t{text}\t{start}\t{end}\t{value / 10}\t\\N"
                )
            n += 1
    shape = f"{len(units):,} units × {months} months"
    return (
        ("\n".join(csv_lines) + "\n").encode("utf-8"),
        ("\n".join(copy_lines) + "\n").encode("utf-8"),
        shape,
    )


COPY_COLUMNS = "(indicator_id, unit_id, period, period_start, period_end, value, batch_id)"


def copy_into(table: str, data: bytes) -> float:
    """Seconds to COPY ``data`` into ``table`` and commit (deferred foreign keys included)."""
    from django.db import transaction

    start = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} {COPY_COLUMNS} FROM STDIN") as copy,
    ):
        view = memoryview(data)
        for offset in range(0, len(data), 1 << 20):
            copy.write(view[offset : offset + (1 << 20)])
    return time.perf_counter() - start


def settle() -> None:
    """Start each timed write from the same state: no bench values, the table vacuumed and
    analysed, and a checkpoint just done (so none falls into one measurement by chance)."""
    from pejling.indicators.models import IndicatorValue

    table = IndicatorValue._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE indicator_id ="  # noqa: S608 - table name from the model
            " (SELECT id FROM indicators_indicator WHERE code = %s)",
            [BENCH_INDICATOR],
        )
        cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("CHECKPOINT")


# The import, run in a process of its own (so its peak memory is its own): the file from disk,
# as `pejling import-kpi` and the worker read it. Prints seconds, counts and peak RSS as JSON.
_IMPORT_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
import django
django.setup()
from pejling.indicators.imports import import_file
start = time.perf_counter()
batch = import_file(path=Path(sys.argv[1]), filename="bench.csv", by=None)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "status": batch.status, "created": batch.created,
    "updated": batch.updated, "errors": batch.errors[:3],
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


def timed_import(data: bytes, expected: tuple[int, int]) -> tuple[float, float]:
    """Seconds for ``import_file`` of ``data`` (a file on disk), and its process's peak
    resident memory in MiB."""
    import json
    import subprocess
    import tempfile

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    with tempfile.NamedTemporaryFile(suffix=".csv") as file:
        file.write(data)
        file.flush()
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        }
        done = subprocess.run(
            [sys.executable, "-c", _IMPORT_SCRIPT, file.name],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "done", result["errors"]
    assert (result["created"], result["updated"]) == expected, result
    return float(result["seconds"]), float(result["peak_rss_mb"])


def print_storage(values: str, history: str) -> None:
    """What the values and their history take on disk (PostgreSQL), after a first import."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        sizes = []
        for table in (values, history):
            cursor.execute("SELECT pg_total_relation_size(%s::regclass)", [table])
            row = cursor.fetchone()
            sizes.append(int(row[0]) if row else 0)
    print(
        f"storage after the first import: values {sizes[0] / 2**20:,.0f} MiB, their history"
        f" {sizes[1] / 2**20:,.0f} MiB (+{100 * sizes[1] / max(sizes[0], 1):.0f} %)"
    )


def bench_import(rows: int) -> tuple[list[tuple[str, float, int]], float, float, float]:
    """Seconds for reading and importing ``rows`` values, and for COPYing the same rows.

    Returns the measurements, then the import's speed as a share of the speed of a plain COPY
    of the same rows into the values table (the budget), and into an index-less scratch table,
    and the peak resident memory (MiB) of the import processes (each import runs in a process
    of its own, reading the CSV file from disk).
    """
    from pejling.indicators.imports import check_observations, parse_upload, read_and_check
    from pejling.indicators.models import IndicatorValue

    csv_data, copy_data, shape = import_payloads(rows)
    changed_csv, _copy, _shape = import_payloads(rows, changed=True)
    print(f"import benchmark: {rows:,} rows ({shape}), CSV {len(csv_data) / 1e6:.0f} MB")
    results: list[tuple[str, float, int]] = []

    start = time.perf_counter()
    total, checked = read_and_check(csv_data, "bench.csv")
    results.append(("read + check, clean CSV (polars)", time.perf_counter() - start, rows))
    assert checked.frame is not None and not checked.errors and total == rows
    del checked

    # The budget's yardstick: what an operator would do by hand with psql, bypassing Pejling:
    # the same rows, already as ids and dates, COPYed into the values table as it stands (its
    # indexes, its unique constraint, its foreign keys checked at commit).
    table = IndicatorValue._meta.db_table
    settle()
    copy_seconds = copy_into(table, copy_data)
    results.append(("COPY into the values table (psql)", copy_seconds, rows))

    settle()
    import_seconds, peak = timed_import(csv_data, (rows, 0))
    results.append(("import_file, all values new", import_seconds, rows))
    print_storage(table, IndicatorValue.history.model._meta.db_table)
    again, again_peak = timed_import(csv_data, (0, 0))
    results.append(("import_file again, nothing changed", again, rows))
    changed, changed_peak = timed_import(changed_csv, (0, rows))
    results.append(("import_file, every value changed", changed, rows))
    print_storage(table, IndicatorValue.history.model._meta.db_table)
    peak = max(peak, again_peak, changed_peak)

    # For information: the exact reader, which reads XLSX files and every file with an error
    # (it holds a Python object per row, so it runs last, after the peak memory is taken).
    start = time.perf_counter()
    exact = check_observations(parse_upload(csv_data, "bench.csv"))
    results.append(("read + check, exact (XLSX, bad files)", time.perf_counter() - start, rows))
    assert not exact.errors and len(exact.values) == rows, exact.errors[:3]
    del exact

    # For information: the same COPY into a scratch table without indexes or constraints.
    columns = (
        "indicator_id bigint, unit_id bigint, period varchar(10), period_start date,"
        " period_end date, value numeric(20,6), batch_id bigint"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_copy_plain ({columns})")
        cursor.execute("CHECKPOINT")
    try:
        plain_seconds = copy_into("bench_copy_plain", copy_data)
        results.append(("COPY into an index-less scratch table", plain_seconds, rows))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_copy_plain")
    return results, copy_seconds / import_seconds, plain_seconds / import_seconds, peak


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    # Pages without a collectstatic manifest (`make bench` does not collect static files), as
    # in the tests: serving static files is not what is measured.
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    if argv:
        # `pejling bench --scale small|large [--json]`: the organisation at scale (bench/scale.py).
        from bench.scale import main as scale_main

        return scale_main(argv)
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    results: list[tuple[str, float, int]] = []
    try:
        from django.core.management import call_command

        ms, q = timed(lambda: call_command("demo", stdout=open(os.devnull, "w")))  # noqa: SIM115
        results.append(("demo load (74 units)", ms, q))
        ms, q = timed(lambda: grow(UNITS))
        results.append((f"grow to {UNITS} units", ms, q))

        from django.contrib.auth import get_user_model

        from pejling.organisation.models import Unit

        users = get_user_model().objects
        # force_login: django-axes wants a request in authenticate(), which Client.login lacks.
        client = Client()
        client.force_login(users.get(username="enhetschef"))
        office = Client()
        office.force_login(users.get(username="strategi"))
        pages = [
            ("page: my part of the whole", client, "/?year=2026"),
            ("page: organisation tree", client, "/organisation/"),
            ("page: annual agreements list", office, "/agreements/?year=2026"),
            ("page: agreement detail", client, "/agreements/VOF-HEM-NOR/2026/"),
            ("page: strategy detail", client, "/strategies/koncernstrategi-2025-2026/"),
            ("page: executive dashboard", office, "/followup/dashboard/?year=2026"),
            ("page: compliance matrix", office, "/followup/compliance/?year=2026"),
        ]
        for name, c, url in pages:
            c.get(url)  # warm up
            ms, q = timed(functools.partial(c.get, url), repeat=5)
            results.append((name, ms, q))
        root = Unit.objects.get(depth=1)
        ms, q = timed(
            lambda: list(Unit.objects.filter(path__startswith=root.path).values_list("pk")),
            repeat=5,
        )
        results.append(("query: subtree of the root", ms, q))
        pages_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        imported: list[tuple[str, float, int]] = []
        ratio = plain_ratio = import_peak = 0.0
        if IMPORT_ROWS and connection.vendor == "postgresql":
            imported, ratio, plain_ratio, import_peak = bench_import(IMPORT_ROWS)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    over = 0
    print(f"{'measure':<34} {'median ms':>10} {'budget':>8} {'queries':>8}  verdict")
    for name, ms, q in results:
        budget = BUDGETS[name]
        verdict = "ok" if ms <= budget else "OVER BUDGET"
        over += ms > budget
        print(f"{name:<34} {ms:>10.1f} {budget:>8} {q:>8}  {verdict}")
    print(f"peak memory of this process before the import: {pages_peak:.0f} MiB (budget 512)")
    over += pages_peak > 512
    if imported:
        print()
        print(
            f"{'import of ' + format(IMPORT_ROWS, ',') + ' values':<38} {'seconds':>8} {'rows/s':>10}"
        )
        for name, seconds, rows in imported:
            print(f"{name:<38} {seconds:>8.2f} {rows / seconds:>10,.0f}")
        verdict = "ok" if ratio >= IMPORT_BUDGET_RATIO else "OVER BUDGET"
        over += ratio < IMPORT_BUDGET_RATIO
        print(
            "budget: import_file of the CSV file ÷ COPY of the same rows (ids, dates) into the"
            f" values table: {ratio:.2f} of its speed (budget ≥ {IMPORT_BUDGET_RATIO})  {verdict}"
        )
        print(
            "information: the same ÷ COPY into an index-less scratch table:"
            f" {plain_ratio:.2f} of its speed"
        )
        print(f"import_peak_rss_mb (the import's own process): {import_peak:.0f} MiB (budget 500)")
    print(f"database: {connection.vendor}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
