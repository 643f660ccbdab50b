from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pejling.packages.formats import (
    MAX_PACKAGE_BYTES,
    PackageError,
    format_for,
    parse,
    size_problem,
)
from pejling.packages.loading import load_package


class Command(BaseCommand):
    help = (
        "Load a Pejling package (YAML or JSON): check it completely, then write it in one "
        "transaction. Loading the same file again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the package file, or - for standard input (YAML)")
        parser.add_argument(
            "--format", choices=["yaml", "json"], help="default: from the file name (.json)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, but write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["file"]
        fmt = options["format"] or format_for(name)
        try:
            # Never more than the limit (and one byte to see it passed) is read into memory.
            raw = (
                _read_stdin(MAX_PACKAGE_BYTES + 1)
                if name == "-"
                else _read_at_most(Path(name), MAX_PACKAGE_BYTES + 1)
            )
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc}") from None
        too_large = size_problem(len(raw))
        if too_large is not None:  # refused before the bytes are decoded (a second copy)
            raise CommandError(f"{name}: {too_large}; nothing was written.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CommandError(f"Cannot read {name}: {exc}") from None
        del raw
        try:
            report = load_package(parse(text, fmt=fmt), dry_run=options["dry_run"])
        except PackageError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            count = len(exc.problems)
            raise CommandError(
                f"{name}: {count} problem{'s' if count != 1 else ''}; nothing was written."
            ) from None
        for line in report.lines():
            self.stdout.write(f"  {line}")
        for line in report.kept:
            self.stderr.write(self.style.WARNING(f"  {line}"))
        verb = "Checked (dry run, nothing written)" if options["dry_run"] else "Loaded"
        outcome = "" if report.changed else " (no changes)"
        self.stdout.write(self.style.SUCCESS(f"{verb} {name}{outcome}."))


def _read_at_most(path: Path, size: int) -> bytes:
    with path.open("rb") as file:
        return file.read(size)


def _read_stdin(size: int) -> bytes:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return bytes(buffer.read(size))
    return sys.stdin.read(size).encode("utf-8")
