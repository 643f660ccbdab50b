"""The published schema and the documentation's example are the ones the code uses."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from pejling.packages.formats import SCHEMA_PATH, decimal_text, parse, schema_problems
from pejling.strategy.models import Element
from tests.packages.helpers import dump_text, empty_the_database, load_text

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "schema" / "pejling-package.schema.json"
DOCS = ROOT / "docs" / "packages.md"


def docs_example() -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("```yaml\n", text.index("## A small complete example")) + len("```yaml\n")
    return text[start : text.index("```", start)]


def test_the_published_schema_is_a_valid_draft_2020_12_schema_and_the_one_the_loader_uses():
    schema = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA_PATH.read_bytes() == PUBLISHED.read_bytes()


@pytest.mark.django_db
def test_the_example_in_the_documentation_loads_and_round_trips():
    example = docs_example()
    assert schema_problems(parse(example)) == []
    report = load_text(example)
    assert report.kept == []
    assert Element.objects.get(code="T1.1").kpi.indicator.code == "SICK"
    first = dump_text()
    empty_the_database()
    load_text(first)
    assert dump_text() == first


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("30.0000"), "30"),
        (Decimal("13.5000"), "13.5"),
        (Decimal("0E-6"), "0"),
        (Decimal("-0.000"), "0"),
        (Decimal("-1250000.500000"), "-1250000.5"),
        (Decimal("0.000100"), "0.0001"),
        (None, None),
    ],
)
def test_decimals_are_written_in_their_shortest_plain_form(value, text):
    assert decimal_text(value) == text


def test_yaml_dates_stay_text_for_the_schema_to_check():
    assert parse("due: 2026-01-15\nbad: 2026-02-30\n") == {"due": "2026-01-15", "bad": "2026-02-30"}
