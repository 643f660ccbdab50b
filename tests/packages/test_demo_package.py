"""The demo organisation as a package: its dump follows the schema and survives a round trip
through an empty database, and the committed ``fjardvik.yaml`` is that dump."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pejling.demo
from pejling.packages.formats import parse, schema_problems
from tests.demo_snapshot import demo_restored
from tests.packages.helpers import dump_text, empty_the_database, history_rows, load_text

pytestmark = pytest.mark.django_db

COMMITTED = Path(pejling.demo.__file__).with_name("fjardvik.yaml")


@pytest.fixture(scope="module")
def demo(demo_snapshot: str, django_db_blocker: Any) -> Iterator[None]:
    """The demo as its own loader (services, history) made it, for this module (a copy of the
    rows ``pejling demo`` wrote once for this test process, see tests/conftest.py)."""
    with django_db_blocker.unblock(), demo_restored():
        yield


def test_the_dump_of_the_demo_follows_the_published_schema(demo):
    package = parse(dump_text())
    assert schema_problems(package) == []
    assert len(package["units"]) >= 60
    assert package["indicator_values"]["SJUKDAGAR"]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_the_demo_dumped_loaded_into_an_empty_database_and_dumped_again_is_the_same_file(demo, fmt):
    first = dump_text(fmt=fmt)
    empty_the_database()
    load_text(first, fmt=fmt)
    assert dump_text(fmt=fmt) == first


def test_loading_the_dump_of_the_demo_over_the_demo_changes_nothing(demo):
    before = history_rows()
    report = load_text(dump_text())
    assert not report.changed, report.lines()
    assert report.kept == []
    assert history_rows() == before


def test_the_committed_demo_package_is_the_dump_of_the_demo(demo):
    assert dump_text() == COMMITTED.read_text(encoding="utf-8"), (
        "src/pejling/demo/fjardvik.yaml is out of date: run `pejling demo` on an empty "
        "database, then `pejling dump -o src/pejling/demo/fjardvik.yaml`"
    )


def test_the_committed_demo_package_loads_into_an_empty_database_and_dumps_back_to_itself(db):
    text = COMMITTED.read_text(encoding="utf-8")
    assert len(text.encode()) < 2_000_000
    load_text(text)
    assert dump_text() == text
