"""``pejling doctor``: what an operator needs to know, each part probed with a short timeout.

Exits 1 when something failed (a database that does not answer, migrations not applied, a
stale worker, an integration that does not answer), 0 otherwise. Never a traceback: a part that
cannot be read says so and the rest still runs.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pejling.ops.doctor import FAIL, OK, WARN, Line, sections


class Command(BaseCommand):
    help = "Show version, database, migrations, worker heartbeat and integrations, and whether each answers."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout", type=float, default=3.0, help="Seconds per probe (default 3)."
        )
        parser.add_argument(
            "--no-probe", action="store_true", help="List integrations without calling them."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        failed = False
        styles = {OK: self.style.SUCCESS, WARN: self.style.WARNING, FAIL: self.style.ERROR}
        for title, lines in sections(timeout=options["timeout"], probe=not options["no_probe"]):
            self.stdout.write(self.style.MIGRATE_HEADING(title))
            try:
                rows = list(lines())
            except Exception as error:  # a part that cannot be read says so; the rest runs
                rows = [
                    Line(
                        title.lower(),
                        FAIL,
                        f"could not be read ({type(error).__name__}: {error})"[:300],
                    )
                ]
            for line in rows:
                failed = failed or line.state == FAIL
                mark = styles.get(line.state, str)(f"[{line.state:>4}]")
                self.stdout.write(f"  {mark} {line.label}: {line.detail}")
        if failed:
            raise SystemExit(1)
