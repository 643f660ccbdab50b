"""`make bench`: speed and memory budgets, measured (never asserted in tests).

Runs against a throw-away test database on the configured server (PostgreSQL in `make bench`):
loads the demo, grows the organisation to the size of a large municipality (2,500 units with
an agreement and four initiatives each), then times the pages people use most.

Then it imports 1,000,000 KPI values (every unit × 400 months, a CSV as a municipality's payroll
system exports it: ``;``, decimal comma) through ``imports.import_file`` and compares that with a
plain PostgreSQL ``COPY`` of the same rows, already as ids and dates, into a scratch table with
the same columns (budget: the import at least half as fast). ``PEJLING_BENCH_IMPORT_ROWS=0``
skips it.
"""

from __future__ import annotations

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
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

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


def import_payloads(rows: int) -> tuple[bytes, bytes, str]:
    """The same ``rows`` values twice: a CSV file to import, and COPY text (ids and dates)."""
    from pejling.indicators.models import Indicator
    from pejling.indicators.sources.records import Period
    from pejling.organisation.models import Unit

    indicator, _ = Indicator.objects.get_or_create(
        code="BENCH_SJUKDAGAR",
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
            value = (n * 7919) % 100000
            csv_lines.append(f"BENCH_SJUKDAGAR;{code};{text};{value // 10},{value % 10}")
            copy_lines.append(f"{indicator.pk}\t{pk}\t{text}\t{start}\t{end}\t{value / 10}\t\\N")
            n += 1
    shape = f"{len(units):,} units × {months} months"
    return (
        ("\n".join(csv_lines) + "\n").encode("utf-8"),
        ("\n".join(copy_lines) + "\n").encode("utf-8"),
        shape,
    )


def copy_into(table: str, data: bytes) -> float:
    """Seconds to COPY ``data`` into ``table`` and commit (deferred foreign keys included)."""
    from django.db import transaction

    start = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} FROM STDIN") as copy,
    ):
        view = memoryview(data)
        for offset in range(0, len(data), 1 << 20):
            copy.write(view[offset : offset + (1 << 20)])
    return time.perf_counter() - start


def bench_import(rows: int) -> tuple[list[tuple[str, float, int]], float, float]:
    """Seconds for parsing and importing ``rows`` values, and for COPYing the same rows."""
    from pejling.indicators.imports import import_file, parse_upload
    from pejling.indicators.models import ImportStatus, IndicatorValue

    csv_data, copy_data, shape = import_payloads(rows)
    print(f"import benchmark: {rows:,} rows ({shape}), CSV {len(csv_data) / 1e6:.0f} MB")
    results: list[tuple[str, float, int]] = []

    start = time.perf_counter()
    parsed = parse_upload(csv_data, "bench.csv")
    results.append(("parse only (CSV → observations)", time.perf_counter() - start, rows))
    assert not parsed.errors and len(parsed.observations) == rows, parsed.errors[:3]
    del parsed

    start = time.perf_counter()
    batch = import_file(data=csv_data, filename="bench.csv", by=None)
    import_seconds = time.perf_counter() - start
    assert batch.status == ImportStatus.DONE, batch.errors[:3]
    assert (batch.created, batch.updated) == (rows, 0)
    results.append(("import_file, all values new", import_seconds, rows))

    start = time.perf_counter()
    batch = import_file(data=csv_data, filename="bench.csv", by=None)
    assert (batch.created, batch.updated) == (0, 0)
    results.append(("import_file again, nothing changed", time.perf_counter() - start, rows))

    # The same rows as ids and dates: into a plain table with the same columns, and into a
    # table shaped like the values table (its indexes and its deferred foreign keys).
    table = IndicatorValue._meta.db_table
    columns = (
        "indicator_id bigint, unit_id bigint, period varchar(10), period_start date,"
        " period_end date, value numeric(20,6), batch_id bigint"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_copy_plain ({columns})")
        cursor.execute(f"CREATE TABLE bench_copy_shaped (LIKE {table} INCLUDING ALL)")
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        for (definition,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE bench_copy_shaped ADD {definition}")
    try:
        copy_seconds = copy_into("bench_copy_plain", copy_data)
        results.append(("COPY into a plain table", copy_seconds, rows))
        shaped = copy_into(
            "bench_copy_shaped (indicator_id, unit_id, period, period_start, period_end, value,"
            " batch_id)",
            copy_data,
        )
        results.append(("COPY into a table shaped like values", shaped, rows))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_copy_plain, bench_copy_shaped")
    return results, copy_seconds / import_seconds, shaped / import_seconds


def main() -> int:
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    results: list[tuple[str, float, int]] = []
    try:
        from django.core.management import call_command

        ms, q = timed(lambda: call_command("demo", stdout=open(os.devnull, "w")))  # noqa: SIM115
        results.append(("demo load (74 units)", ms, q))
        ms, q = timed(lambda: grow(UNITS))
        results.append((f"grow to {UNITS} units", ms, q))

        from pejling.organisation.models import Unit

        client = Client()
        client.login(username="enhetschef", password="fjardvik-enhetschef")  # noqa: S106 - demo
        office = Client()
        office.login(username="strategi", password="fjardvik-strategi")  # noqa: S106 - demo
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
            ms, q = timed(lambda c=c, url=url: c.get(url), repeat=5)
            results.append((name, ms, q))
        root = Unit.objects.get(depth=1)
        ms, q = timed(
            lambda: list(Unit.objects.filter(path__startswith=root.path).values_list("pk")),
            repeat=5,
        )
        results.append(("query: subtree of the root", ms, q))
        pages_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        imported: list[tuple[str, float, int]] = []
        ratio = shaped_ratio = 0.0
        if IMPORT_ROWS and connection.vendor == "postgresql":
            imported, ratio, shaped_ratio = bench_import(IMPORT_ROWS)
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
            f"import speed ÷ plain COPY speed: {ratio:.2f} (budget ≥ {IMPORT_BUDGET_RATIO})  {verdict}"
        )
        print(f"import speed ÷ speed of COPY into a table shaped like values: {shaped_ratio:.2f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory with the import: {peak:.0f} MiB")
    print(f"database: {connection.vendor}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
