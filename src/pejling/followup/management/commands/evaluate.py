"""pejling evaluate [--year Y] [--json]"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone, translation

from pejling.followup.evaluation import all_goal_evaluations


class Command(BaseCommand):
    help = "Evaluate every goal: value, target, progress, forecast, status and the reason."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="only goals of strategies in force this year")
        parser.add_argument(
            "--json", action="store_true", help="print JSON (a list, one object per goal)"
        )
        parser.add_argument(
            "--language", default="en", help="language of the reasons (sv, da, nb, en)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            evaluations = all_goal_evaluations(year=options["year"] or timezone.localdate().year)
            if options["json"]:
                self.stdout.write(
                    json.dumps([e.as_dict() for e in evaluations], ensure_ascii=False, indent=2)
                )
                return
            for e in evaluations:
                value = "–" if e.value is None else f"{e.value:g}"
                target = "–" if e.target is None else f"{e.target:g}"
                self.stdout.write(
                    f"{e.goal.code:<8} {e.status_label:<10} {value:>10} → {target:<10} {e.goal.title}"
                )
                self.stdout.write(f"         {e.reason}")
