"""``pejling report KIND --format pdf|docx|xlsx --output FILE``: the documents of the web's
download buttons, from the command line (for scheduling), with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from pejling.reports.documents.generate import LANGUAGES, build_document, render
from pejling.reports.models import DocumentFormat, DocumentKind


class Command(BaseCommand):
    help = "Write a document (an annual agreement, a follow-up, the strategies or a board report) as PDF, Word or Excel."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=DocumentKind.values)
        parser.add_argument("--unit", help="unit code (agreement: required; followup: one unit)")
        parser.add_argument("--year", type=int)
        parser.add_argument("--period", help="follow-up period, e.g. T1")
        parser.add_argument(
            "--report", type=int, help="board report id (default: the period's latest)"
        )
        parser.add_argument("--language", choices=LANGUAGES, default="sv")
        parser.add_argument("--format", choices=DocumentFormat.values, required=True)
        parser.add_argument("--output", required=True, help="file to write")
        parser.add_argument(
            "--user",
            help="build as this person sees it (default: the public view: published content only)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user named {options['user']!r}.")
        output = Path(options["output"])
        if not output.parent.exists():
            raise CommandError(f"The folder {output.parent} does not exist.")
        quiet = options["verbosity"] == 0
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            disable=quiet,
            transient=False,
        ) as bar:
            task = bar.add_task(f"{options['kind']} → {output.name}", total=100)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=int(60 * done / max(total, 1)))

            try:
                with translation.override(options["language"]):
                    doc = build_document(
                        kind=options["kind"],
                        user=user,
                        language=options["language"],
                        unit=options["unit"],
                        year=options["year"],
                        period=options["period"],
                        report_id=options["report"],
                        progress=progress,
                    )
                    bar.update(task, completed=60)
                    content = render(doc, options["format"])
            except (ValidationError, PermissionDenied) as exc:
                raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
            output.write_bytes(content)
            bar.update(task, completed=100)
        if not quiet:
            self.stdout.write(f"{output} ({len(content):,} bytes)")
