"""``load_package``: check a package completely, then write it in one transaction.

First the JSON Schema, then every reference and rule (the domain's rules from their homes, the
``validation`` modules the services call too), each problem reported with its path in the file;
nothing is written while anything is wrong. Then every object is written through its domain
service (indicator values set-based, after the same checks); should a service still refuse
something, that too is reported with its path and the whole load is rolled back. Writing is
idempotent: objects are found by their codes, handed to their service only when a value
differs (so loading the same file again adds no history rows), and what the file no longer
lists is removed where that is safe (units are end-dated, never deleted). See docs/packages.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone, translation

from pejling.packages.formats import PackageError, schema_problems
from pejling.packages.loading.checking import Checker
from pejling.packages.loading.write_base import LoadReport
from pejling.packages.loading.writing import Writer

__all__ = ["Checker", "LoadReport", "Writer", "load_package"]


def load_package(data: Any, *, today: date | None = None, dry_run: bool = False) -> LoadReport:
    """Check ``data`` (a parsed package) and write it; raise :class:`PackageError` listing
    every problem, having written nothing, when anything is wrong."""
    # In English, as the command's other output and the package format's own messages are;
    # the rules' messages come from their homes, translated.
    with translation.override("en"):
        problems = schema_problems(data)
        if problems:
            raise PackageError(problems)
        checked = Checker(data).run()
        with transaction.atomic():
            report = Writer(data, checked, today or timezone.localdate()).run()
            if dry_run:
                transaction.set_rollback(True)
    return report
