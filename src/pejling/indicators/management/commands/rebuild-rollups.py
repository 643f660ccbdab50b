"""pejling rebuild-rollups [--indicator CODE ...]: derive the roll-up cache from the values."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pejling.indicators.aggregate import rebuild
from pejling.indicators.models import Indicator


class Command(BaseCommand):
    help = (
        "Derive the indicators' roll-up cache again from the stored values (all indicators, or"
        " those named) and say how many rows differed from the cache kept current on write."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--indicator", action="append", default=[], help="an indicator code (repeatable)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] | None = None
        if options["indicator"]:
            found = dict(
                Indicator.objects.filter(code__in=options["indicator"]).values_list("code", "pk")
            )
            missing = sorted(set(options["indicator"]) - set(found))
            if missing:
                raise CommandError(f"No indicator has the code {', '.join(missing)}.")
            ids = list(found.values())
            # A ratio's rows are its numerator's and denominator's.
            for parts in Indicator.objects.filter(pk__in=ids).values_list(
                "numerator_id", "denominator_id"
            ):
                ids += [pk for pk in parts if pk]
        rows, differing = rebuild(indicator_ids=ids)
        self.stdout.write(f"{rows} roll-up rows derived from the values; {differing} differed.")
