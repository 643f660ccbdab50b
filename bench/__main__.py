"""`make bench`: speed and memory budgets, measured (never asserted in tests).

Runs against a throw-away test database on the configured server (PostgreSQL in `make bench`):
loads the demo, grows the organisation to the size of a large municipality (2,500 units with
an agreement and four initiatives each), then times the pages people use most.

Then it imports 6,000,000 KPI values (every unit × 60 months × as many measures as that takes:
40 at 2,500 units; a CSV as a municipality's payroll system exports it: ``;``, decimal comma)
through ``imports.import_file`` in a process of its own and compares that with a plain PostgreSQL
``COPY`` of the same rows, already as ids and dates, into the values table. Budgets: the import at
least half as fast as the COPY, its process's peak resident memory under 500 MiB, and the history
and import tables after a first import, and after a second one changing a tenth of the values, at
most half the values' own storage. For information it also times a re-import changing nothing, the
exact reader and a COPY into an index-less scratch table. ``PEJLING_BENCH_IMPORT_ROWS`` sets the
number of values (0 skips the import).
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
IMPORT_ROWS = int(os.environ.get("PEJLING_BENCH_IMPORT_ROWS", "6000000"))
IMPORT_BUDGET_RATIO = 0.5  # the import is at least half as fast as a plain COPY
IMPORT_BUDGET_RSS_MB = 500  # the import's own process, at its peak
IMPORT_BUDGET_HISTORY = 0.5  # history and import tables ÷ the values table, after an import
IMPORT_MONTHS = 60  # the bench file: every unit × 60 months × as many measures as it takes

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

    Every unit × :data:`IMPORT_MONTHS` months of one measure, then the next measure (as many
    as ``rows`` takes). ``changed`` gives every tenth value another number (a second import
    changing a tenth of the values), and no COPY text.
    """
    from pejling.indicators.models import Indicator
    from pejling.indicators.sources.records import Period
    from pejling.organisation.models import Unit

    units = list(Unit.objects.order_by("path").values_list("pk", "code"))
    per_measure = len(units) * IMPORT_MONTHS
    measures = -(-rows // per_measure)
    indicators = [
        Indicator.objects.get_or_create(
            code=f"{BENCH_INDICATOR}_{m:02d}",
            defaults={"name": f"Sjukfrånvarodagar {m} (bench)", "measure_unit": "days"},
        )[0]
        for m in range(measures)
    ]
    periods = [Period(2020 + m // 12, "month", m % 12 + 1) for m in range(IMPORT_MONTHS)]
    # One block of text a measure and month (millions of rows: no Python string per row kept).
    csv_blocks = ["Nyckeltal;Enhet;Period;Värde\n"]
    copy_blocks = []
    n = 0
    for indicator in indicators:
        for period in periods:
            text = str(period)
            dates = f"{text}\t{period.start_date().isoformat()}\t{period.end_date().isoformat()}"
            csv_lines, copy_lines = [], []
            for pk, code in units[: rows - n]:
                value = (n * 7919) % 100000 + (1 if changed and n % 10 == 0 else 0)
                csv_lines.append(f"{indicator.code};{code};{text};{value // 10},{value % 10}\n")
                if not changed:
                    copy_lines.append(f"{indicator.pk}\t{pk}\t{dates}\t{value / 10}\t\\N\n")
                n += 1
            csv_blocks.append("".join(csv_lines))
            copy_blocks.append("".join(copy_lines))
    shape = f"{len(units):,} units × {IMPORT_MONTHS} months × {measures} measures"
    return "".join(csv_blocks).encode(), "".join(copy_blocks).encode(), shape


def _end_of_row(data: bytes, row: int) -> int:
    """Where the ``row``-th line of ``data`` ends (after its line break)."""
    at = -1
    for _ in range(row):
        at = data.index(b"\n", at + 1)
    return at + 1


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
            f"DELETE FROM {table} WHERE indicator_id IN"  # noqa: S608 - table name from the model
            " (SELECT id FROM indicators_indicator WHERE code LIKE %s)",
            [f"{BENCH_INDICATOR}_%"],
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


def storage(label: str) -> tuple[str, int, int, int]:
    """What the values, their history and the imports take on disk (PostgreSQL, indexes and
    TOAST included): ``(label, values, history, imports)`` in bytes."""
    from pejling.indicators.models import ImportBatch, IndicatorValue

    tables = [
        [IndicatorValue._meta.db_table],
        [IndicatorValue.history.model._meta.db_table],
        [ImportBatch._meta.db_table, ImportBatch.history.model._meta.db_table],
    ]
    sizes = []
    with connection.cursor() as cursor:
        for names in tables:
            cursor.execute(
                "SELECT SUM(pg_total_relation_size(name::regclass)) FROM unnest(%s::text[]) name",
                [names],
            )
            row = cursor.fetchone()
            sizes.append(int(row[0]) if row and row[0] else 0)
    return label, sizes[0], sizes[1], sizes[2]


def print_storage(figures: list[tuple[str, int, int, int]]) -> int:
    """The storage figures against their budget; how many are over it."""
    over = 0
    print(
        f"{'storage (MiB)':<38} {'values':>8} {'history':>8} {'imports':>8} {'share':>7}"
        f" {'budget':>7}  verdict"
    )
    for label, values, history, batches in figures:
        share = (history + batches) / max(values, 1)
        verdict = "ok" if share <= IMPORT_BUDGET_HISTORY else "OVER BUDGET"
        over += share > IMPORT_BUDGET_HISTORY
        print(
            f"{label:<38} {values / 2**20:>8,.0f} {history / 2**20:>8,.1f} {batches / 2**20:>8,.1f}"
            f" {100 * share:>6.1f}% {100 * IMPORT_BUDGET_HISTORY:>6.0f}%  {verdict}"
        )
    return over


def bench_import(
    rows: int, *, stored: list[tuple[str, int, int, int]] | None = None
) -> tuple[list[tuple[str, float, int]], float, float, float]:
    """Seconds for reading and importing ``rows`` values, and for COPYing the same rows.

    Returns the measurements, then the import's speed as a share of the speed of a plain COPY
    of the same rows into the values table (the budget), and into an index-less scratch table,
    and the peak resident memory (MiB) of the import processes (each import runs in a process
    of its own, reading the CSV file from disk). ``stored`` is given the storage figures
    (:func:`storage`) after the first import and after a second one changing a tenth.
    """
    from pejling.indicators.imports import check_observations, parse_upload, read_and_check
    from pejling.indicators.models import IndicatorValue

    csv_data, copy_data, shape = import_payloads(rows)
    print(f"import benchmark: {rows:,} rows ({shape}), CSV {len(csv_data) / 1e6:.0f} MB")
    results: list[tuple[str, float, int]] = []

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
    figures = [storage("after the first import")]
    again, again_peak = timed_import(csv_data, (0, 0))
    results.append(("import_file again, nothing changed", again, rows))
    changed_csv, _copy, _shape = import_payloads(rows, changed=True)
    tenth = len(range(0, rows, 10))
    changed, changed_peak = timed_import(changed_csv, (0, tenth))
    del changed_csv
    results.append(("import_file, a tenth of the values changed", changed, rows))
    figures.append(storage("after a second one changing a tenth"))
    if stored is not None:
        stored.extend(figures)
    peak = max(peak, again_peak, changed_peak)

    # For information, in this process, on the first million rows at most (its memory is not
    # the import's): the file read and checked in one piece by the fast reader, then by the
    # exact reader, which reads XLSX files and every file with an error (a Python object a row).
    sample = min(rows, 1_000_000)
    head = csv_data[: _end_of_row(csv_data, sample + 1)]
    start = time.perf_counter()
    total, checked = read_and_check(head, "bench.csv")
    results.append(("read + check in one piece (polars)", time.perf_counter() - start, sample))
    assert checked.frame is not None and not checked.errors and total == sample
    del checked
    start = time.perf_counter()
    exact = check_observations(parse_upload(head, "bench.csv"))
    results.append(("read + check, exact (XLSX, bad files)", time.perf_counter() - start, sample))
    assert not exact.errors and len(exact.values) == sample, exact.errors[:3]
    del exact, head

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
        stored: list[tuple[str, int, int, int]] = []
        ratio = plain_ratio = import_peak = 0.0
        if IMPORT_ROWS and connection.vendor == "postgresql":
            imported, ratio, plain_ratio, import_peak = bench_import(IMPORT_ROWS, stored=stored)
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
            f"{'import of ' + format(IMPORT_ROWS, ',') + ' values':<44} {'seconds':>8} {'rows/s':>10}"
        )
        for name, seconds, rows in imported:
            print(f"{name:<44} {seconds:>8.2f} {rows / seconds:>10,.0f}")
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
        verdict = "ok" if import_peak < IMPORT_BUDGET_RSS_MB else "OVER BUDGET"
        over += import_peak >= IMPORT_BUDGET_RSS_MB
        print(
            f"budget: import_peak_rss_mb (the import's own process, at its peak):"
            f" {import_peak:.0f} MiB (budget < {IMPORT_BUDGET_RSS_MB})  {verdict}"
        )
        print()
        over += print_storage(stored)
        print(
            "budget: the history and import tables at most"
            f" {100 * IMPORT_BUDGET_HISTORY:.0f} % of the values' own storage"
        )
    print(f"database: {connection.vendor}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
