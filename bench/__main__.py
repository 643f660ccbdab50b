"""`make bench`: speed and memory budgets, measured (never asserted in tests).

Runs against a throw-away test database on the configured server (PostgreSQL in `make bench`):
loads the demo, grows the organisation to the size of a large municipality (2,500 units with
an agreement and four initiatives each), then times the pages people use most.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pejling.config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

UNITS = int(os.environ.get("PEJLING_BENCH_UNITS", "2500"))

# name, budget in milliseconds (median)
BUDGETS = {
    "demo load (74 units)": 15000,
    f"grow to {UNITS} units": 120000,
    "page: my part of the whole": 300,
    "page: organisation tree": 800,
    "page: annual agreements list": 800,
    "page: agreement detail": 300,
    "page: strategy detail": 300,
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
    goals = list(Element.objects.filter(level__holds_goals=True, strategy__code="koncernstrategi-2025-2026"))
    owner = get_user_model().objects.get(username="enhetschef")
    existing = Unit.objects.count()
    i = 0
    while existing + i < units:
        dept = departments[i % len(departments)]
        unit = Unit.objects.add_child(dept, create_kwargs={"code": f"B{i:05d}", "name": f"Enhet {i:05d}", "level": level})
        agreement = Agreement.objects.create(unit=unit, year=2026, state="published")
        initiatives = Initiative.objects.bulk_create(
            [Initiative(agreement=agreement, title=f"Insats {n}", owner=owner, position=n) for n in range(4)]
        )
        InitiativeGoal.objects.bulk_create(
            [InitiativeGoal(initiative=ini, goal=goals[(i + n) % len(goals)]) for n, ini in enumerate(initiatives)]
        )
        i += 1


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
        client.login(username="enhetschef", password="fjardvik-enhetschef")
        office = Client()
        office.login(username="strategi", password="fjardvik-strategi")
        pages = [
            ("page: my part of the whole", client, "/?year=2026"),
            ("page: organisation tree", client, "/organisation/"),
            ("page: annual agreements list", office, "/agreements/?year=2026"),
            ("page: agreement detail", client, "/agreements/VOF-HEM-NOR/2026/"),
            ("page: strategy detail", client, "/strategies/koncernstrategi-2025-2026/"),
        ]
        for name, c, url in pages:
            c.get(url)  # warm up
            ms, q = timed(lambda c=c, url=url: c.get(url), repeat=5)
            results.append((name, ms, q))
        root = Unit.objects.get(depth=1)
        ms, q = timed(lambda: list(Unit.objects.filter(path__startswith=root.path).values_list("pk")), repeat=5)
        results.append(("query: subtree of the root", ms, q))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    over = 0
    print(f"{'measure':<34} {'median ms':>10} {'budget':>8} {'queries':>8}  verdict")
    for name, ms, q in results:
        budget = BUDGETS[name]
        verdict = "ok" if ms <= budget else "OVER BUDGET"
        over += ms > budget
        print(f"{name:<34} {ms:>10.1f} {budget:>8} {q:>8}  {verdict}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MiB (budget 512)")
    over += peak > 512
    print(f"database: {connection.vendor}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
