from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pejling.packages.dumping import dump_package
from pejling.packages.formats import render


class Command(BaseCommand):
    help = (
        "Write the organisation, strategies, indicators and agreements as a Pejling package "
        "(YAML or JSON) to standard output; `pejling load` reads it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="only the agreements and deadlines of a year")
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
        parser.add_argument(
            "--without-values", action="store_true", help="leave out the indicator values"
        )
        parser.add_argument(
            "--without-people",
            action="store_true",
            help="leave out people, memberships and initiative owners",
        )
        parser.add_argument("--output", "-o", help="write to this file instead")

    def handle(self, *args: Any, **options: Any) -> None:
        package = dump_package(
            year=options["year"],
            with_values=not options["without_values"],
            with_people=not options["without_people"],
        )
        text = render(package, fmt=options["format"])
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
