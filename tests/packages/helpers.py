"""Helpers for the package tests: load and dump text, count rows, empty the database."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from pejling.packages.dumping import dump_package
from pejling.packages.formats import parse, render
from pejling.packages.loading import LoadReport, load_package

HERE = Path(__file__).parent
EVERY_KIND = HERE / "every_kind.yaml"


def load_text(text: str, *, fmt: str = "yaml") -> LoadReport:
    return load_package(parse(text, fmt=fmt))


def dump_text(*, fmt: str = "yaml", **options: Any) -> str:
    return render(dump_package(**options), fmt=fmt)


def dump_command(*args: str) -> str:
    out = StringIO()
    call_command("dump", *args, stdout=out)
    return out.getvalue()


def history_rows() -> int:
    return sum(
        model._default_manager.count()
        for model in apps.get_models()
        if model.__name__.startswith("Historical")
    )


def row_counts() -> dict[str, int]:
    """Rows of every model (history included), except the ones migrations fill."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model not in (ContentType, Permission)
    }


def empty_the_database() -> None:
    """Delete every row but content types and permissions, inside the test's transaction.

    Foreign keys are checked at commit on both databases, and the test rolls back."""
    for model in apps.get_models(include_auto_created=True):
        if model in (ContentType, Permission) or model._meta.proxy:
            continue
        model._base_manager.all()._raw_delete(connection.alias)
    assert not any(row_counts().values())
