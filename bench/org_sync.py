"""The organisation sync at the size of a large municipality: 2,500 units from a file and from
OS2mo, through ``pejling sync-org`` as an operator runs it (budget: under 10 s each).

* file: a CSV of 2,500 new units (a tree eight wide, five deep) into the organisation there is;
  then the same file with 100 units moved and 100 renamed (``sync_org_2500_moves_s``);
* OS2mo: a 2,500-unit answer CONSTRUCTED in the shape of the recorded Kolding answer (its 84
  real units plus made-up ones; ``tests/organisation/fake_os2mo.constructed_org``), served over
  HTTP by the same stand-in the OS2mo tests use, in pages of 100.

Each run is in a transaction rolled back afterwards, so the database is left as it was.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

UNITS = 2500
WIDTH = 8


def org_csv(units: int, *, moved: int = 0, renamed: int = 0, prefix: str = "BS") -> bytes:
    """``units`` units, unit n below unit (n - 1) // WIDTH; then the last ``moved`` leaves
    hung below other units of the level above and ``renamed`` units renamed."""
    parent = {n: (n - 1) // WIDTH if n else None for n in range(units)}
    depth = {0: 1}
    for n in range(1, units):
        depth[n] = depth[parent[n]] + 1  # type: ignore[index]
    for n in range(units - moved, units):
        same_level = [m for m in range(n) if depth[m] == depth[n] - 1 and m != parent[n]]
        parent[n] = same_level[(n * 31) % len(same_level)]
    lines = ["code;name;parent code;level"]
    for n in range(units):
        name = f"Enhet {n:04d}" + (" (ny)" if n < renamed else "")
        up = "" if parent[n] is None else f"{prefix}-{parent[n]:04d}"
        lines.append(f"{prefix}-{n:04d};{name};{up};{depth[n]}")
    return ("\n".join(lines) + "\n").encode()


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return round(time.perf_counter() - started, 2)


def measure(units: int = UNITS) -> dict[str, float]:
    from django.core.management import call_command
    from django.db import transaction
    from django.test.utils import override_settings
    from tests.organisation.fake_os2mo import TOKEN, FakeOS2mo, constructed_org

    from pejling.organisation.models import UnitLevel

    def levels() -> None:
        for depth in range(1, 8):
            UnitLevel.objects.get_or_create(
                depth=depth, defaults={"name": f"Bench {depth}", "name_plural": f"Bench {depth}"}
            )

    summaries: list[str] = []

    def command(*args: str) -> None:
        out = io.StringIO()
        call_command("sync-org", *args, stdout=out, stderr=io.StringIO())
        summaries.append(out.getvalue().strip())

    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder) / "units.csv", Path(folder) / "moved.csv"
        first.write_bytes(org_csv(units))
        second.write_bytes(org_csv(units, moved=100, renamed=100))
        with transaction.atomic():
            levels()
            result[f"sync_org_{units}_file_s"] = _timed(
                lambda: command("--source", "file", str(first))
            )
            result[f"sync_org_{units}_moves_s"] = _timed(
                lambda: command("--source", "file", str(second))
            )
            transaction.set_rollback(True)
    server = FakeOS2mo(constructed_org(units, page_size=100)).start()
    try:
        with transaction.atomic(), override_settings(PEJLING_OS2MO_TOKEN=TOKEN):
            result[f"sync_org_{units}_os2mo_s"] = _timed(
                lambda: command("--source", "os2mo", "--url", server.url, "--page-size", "100")
            )
            transaction.set_rollback(True)
    finally:
        server.stop()
    for line in summaries:  # what each run did, for the log
        print(f"  sync-org: {line}", file=sys.stderr)
    print(f"  organisation sync: {result}", file=sys.stderr)
    return result


def main() -> int:
    """``python -m bench.org_sync``: only these figures, in a throw-away test database."""
    import json
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pejling.config.settings")
    import django

    django.setup()
    from django.db import connection

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        result = measure(int(sys.argv[1]) if len(sys.argv) > 1 else UNITS)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
