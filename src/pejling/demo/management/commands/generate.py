"""pejling generate --units N --indicators M --months K --seed S"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pejling.demo.generate import generate


class Command(BaseCommand):
    help = (
        "Build a deterministic large organisation in the configured (empty) database: a tree"
        " of up to six levels, a strategy with goals of every kind, agreements with initiatives,"
        " follow-up reports and a value for every unit, measure and month. For measuring."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--units", type=int, default=2500)
        parser.add_argument("--indicators", type=int, default=40, help="base measures")
        parser.add_argument("--months", type=int, default=60)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--year", type=int, default=2026, help="the agreements' year")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = generate(
                units=options["units"],
                indicators=options["indicators"],
                months=options["months"],
                seed=options["seed"],
                year=options["year"],
                say=lambda text: self.stderr.write(text),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(done.__dict__))
