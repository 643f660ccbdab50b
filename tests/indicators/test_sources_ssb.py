"""Statistics Norway adapter against recorded responses (no database).

The municipal fixture is a v0 ``json-stat2`` answer; no PxWebApi v2 *data*
answer was recorded, so the v2 client is tested for the URL it builds and
for reading a JSON-stat 2 body of the same shape.
"""

from __future__ import annotations

import io
import os
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pejling.indicators.sources.records import Period
from pejling.indicators.sources.ssb import (
    SsbClient,
    parse_ssb_jsonstat,
    parse_ssb_table,
    ssb_region_code,
)

FIXTURES = (
    Path(
        os.environ.get(
            "PEJLING_FIXTURES", Path(__file__).resolve().parents[3] / "shared" / "fixtures"
        )
    )
    / "ssb"
)
assert FIXTURES.is_dir(), f"recorded fixtures not found in {FIXTURES}"

POPULATION = "ssb-v0-jsonstat2-table-07459-population-by-municipality-2022.json"
PRODUCTION = "ssb-v0-jsonstat1-table-29843-production-index.json"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_it_reads_population_by_municipality_with_k_prefixes_removed() -> None:
    result = parse_ssb_jsonstat(fixture(POPULATION), indicator="population")
    assert result.ok
    assert len(result.observations) == 359
    by_unit = {o.unit: o for o in result.observations}
    assert (by_unit["0301"].period, by_unit["0301"].value) == (Period(2022), Decimal(699827))
    assert by_unit["3001"].value == Decimal(31444)  # Halden
    assert "5444" in by_unit  # Sør-Varanger
    assert by_unit["K-Rest"].value == 0  # not a municipality; kept as sent


def test_it_can_keep_the_raw_region_codes_or_map_them() -> None:
    raw = parse_ssb_jsonstat(fixture(POPULATION), indicator="p", strip_region_prefix=False)
    assert "K-0301" in {o.unit for o in raw.observations}
    mapped = parse_ssb_jsonstat(
        fixture(POPULATION), indicator="p", region_codes=lambda code: f"NO-{code}"
    )
    assert "NO-0301" in {o.unit for o in mapped.observations}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("K-0301", "0301"),
        ("F-30", "30"),
        ("K-21-22", "21-22"),
        ("K-Rest", "K-Rest"),
        ("0301", "0301"),
    ],
)
def test_ssb_region_codes_lose_only_aggregation_prefixes(code: str, expected: str) -> None:
    assert ssb_region_code(code) == expected


def test_it_reads_the_jsonstat_1_bundle_with_monthly_periods_and_status() -> None:
    result = parse_ssb_jsonstat(
        fixture(PRODUCTION),
        indicator="production_index",
        region="PKoder",
        filters={"ContentsCode": "PeriodeRa"},
    )
    assert result.ok
    assert len(result.observations) + len(result.skipped) == 20 * 312
    by_key = {(o.unit, o.period): o.value for o in result.observations}
    assert by_key["P1021", Period(1995, "month", 1)] == Decimal("118.9")
    assert by_key["P106", Period(2010, "month", 6)] == Decimal(107)
    assert ("P1021", Period(1990, "month", 1)) not in by_key
    assert "status '.'" in result.skipped[0].message


def test_another_contents_code_gives_other_values() -> None:
    result = parse_ssb_jsonstat(
        fixture(PRODUCTION), indicator="w", region="PKoder", filters={"ContentsCode": "Vekter"}
    )
    by_key = {(o.unit, o.period): o.value for o in result.observations}
    assert by_key["P106", Period(2015, "month", 12)] == Decimal("42.7")


def test_without_a_contents_filter_the_index_is_ambiguous() -> None:
    result = parse_ssb_jsonstat(fixture(PRODUCTION), indicator="x", region="PKoder")
    error = result.errors[0]
    assert (error.row, error.column, error.code) == (None, "ContentsCode", "ambiguous_dimension")
    unknown = parse_ssb_jsonstat(
        fixture(POPULATION), indicator="x", filters={"ContentsCode": "Personer9"}
    )
    assert [(e.column, e.code) for e in unknown.errors] == [("ContentsCode", "unknown_category")]


def test_it_reads_the_v2_table_description() -> None:
    table = parse_ssb_table(fixture("ssb-v2-tables-05810-en-docs-example.json"))
    assert (table.id, table.first_period, table.last_period, table.time_unit) == (
        "05810",
        "1845",
        "2025",
        "Annual",
    )
    assert table.variable_names == ("gender", "age", "contents", "year")
    assert table.links["data"].endswith("/tables/05810/data?lang=en&outputFormat=json-stat2")


class FakeOpener:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requests: list[urllib.request.Request] = []

    def open(self, request: urllib.request.Request, data: Any = None, timeout: float = 0) -> Any:
        self.requests.append(request)
        return io.BytesIO(self.body)


def test_the_v2_client_builds_value_code_queries() -> None:
    opener = FakeOpener(fixture(POPULATION))
    client = SsbClient("https://ssb.example/api/pxwebapi/v2", opener=opener)
    payload = client.fetch(
        "07459",
        {"Region": ["0301", "1103"], "ContentsCode": "Personer1", "Tid": ["2022"]},
        codelists={"Region": "agg_KommSummer"},
    )
    assert opener.requests[0].full_url == (
        "https://ssb.example/api/pxwebapi/v2/tables/07459/data?lang=no&outputFormat=json-stat2"
        "&valueCodes[Region]=0301,1103&valueCodes[ContentsCode]=Personer1&valueCodes[Tid]=2022"
        "&codelist[Region]=agg_KommSummer"
    )
    result = parse_ssb_jsonstat(payload, indicator="population")
    assert len(result.observations) == 359
