"""pejling import-kpi FILE [--indicator CODE] [--dry-run]"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any, cast

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from pejling.indicators.imports import LIMIT_SENTENCES, batch_errors, import_file
from pejling.indicators.models import ImportStatus, Indicator


class Command(BaseCommand):
    help = "Import KPI values from a CSV or Excel file, all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--indicator", help="indicator code for every row when the file has no indicator column"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file without writing anything"
        )
        parser.add_argument("--user", help="username recorded as the importer")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        indicator = None
        if options["indicator"]:
            indicator = Indicator.objects.filter(code=options["indicator"]).first()
            if indicator is None:
                raise CommandError(f"No indicator has the code {options['indicator']!r}.")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
        console = Console(file=cast(IO[str], self.stdout._out), stderr=False)
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task(f"Reading {path.name}", total=None)

            def report(phase: str, done: int, total: int) -> None:
                labels = {"checking": "Checking", "writing": "Checking and writing"}
                if phase in labels:
                    share = f"{100 * done // total} %" if total else ""
                    progress.update(task, description=f"{labels[phase]} {path.name} {share}")

            batch = import_file(
                path=path,
                filename=path.name,
                by=user,
                indicator=indicator,
                dry_run=options["dry_run"],
                progress=report,
            )
        if batch.status == ImportStatus.FAILED:
            errors = batch_errors(batch)
            if errors and errors[0].code in LIMIT_SENTENCES:
                # Over a limit (the same check, the same message as for an upload).
                self.stderr.write(errors[0].describe(nowhere="file"))
                raise CommandError(f"Nothing was imported: {path.name} was refused.")
            total = max(batch.errors_total, len(errors))
            for error in errors[:200]:
                self.stderr.write(error.describe(nowhere="file"))
            if total > 200:
                self.stderr.write(f"... and {total - 200} more")
            raise CommandError(f"Nothing was imported: {total} bad rows in {path.name}.")
        if options["dry_run"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{path.name} is valid: {batch.rows_total:,} rows (dry run, nothing written)."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {path.name}: {batch.created:,} values created, {batch.updated:,} updated."
                )
            )
