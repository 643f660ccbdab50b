"""Statistics Denmark StatBank adapter against recorded responses (no database)."""

from __future__ import annotations

import io
import json
import os
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

from pejling.indicators.sources.records import Period
from pejling.indicators.sources.statbank import (
    StatbankClient,
    parse_statbank_csv,
    parse_statbank_jsonstat,
    parse_tableinfo,
)

FIXTURES = (
    Path(
        os.environ.get(
            "PEJLING_FIXTURES", Path(__file__).resolve().parents[3] / "shared" / "fixtures"
        )
    )
    / "statbank"
)
assert FIXTURES.is_dir(), f"recorded fixtures not found in {FIXTURES}"

FOLK1A_AREAS = "data-FOLK1A-csv-da-text-all-areas-civilstand-2020K1.csv"
FOLK1A_NATIONAL = "data-FOLK1A-csv-da-text-HeleLandet-CIVILSTAND_TOT-2008K1-2020K4.csv"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_the_recorded_api_csv_really_has_a_bom_and_crlf() -> None:
    raw = fixture("data-STRAF42-csv-en-HERKOMST1_00-TID_2023.csv")
    assert raw.startswith(b"\xef\xbb\xbfHERKOMST1;TID;INDHOLD\r\n")


def test_it_reads_municipal_folk1a_csv_with_danish_texts_and_quarters() -> None:
    result = parse_statbank_csv(
        fixture(FOLK1A_AREAS), indicator="population", filters={"CIVILSTAND": "I alt"}
    )
    assert result.ok
    assert len(result.observations) == 105  # Hele landet, 5 regions, 99 kommuner
    by_unit = {o.unit: o for o in result.observations}
    copenhagen = by_unit["København"]
    assert (copenhagen.period, copenhagen.value, copenhagen.row) == (
        Period(2020, "quarter", 1),
        Decimal(632340),
        4,
    )
    assert by_unit["Hele landet"].value == Decimal(5822763)
    assert by_unit["Frederiksberg"].value == Decimal(104305)


def test_an_unfiltered_civilstand_column_is_ambiguous() -> None:
    result = parse_statbank_csv(fixture(FOLK1A_AREAS), indicator="population")
    assert [(e.column, e.code) for e in result.errors] == [("CIVILSTAND", "ambiguous_dimension")]
    assert result.observations == []


def test_area_texts_map_to_codes_and_unknown_areas_are_reported() -> None:
    codes = {"København": "101", "Frederiksberg": "147"}
    result = parse_statbank_csv(
        fixture(FOLK1A_AREAS),
        indicator="population",
        filters={"CIVILSTAND": "I alt"},
        region_codes=codes,
    )
    assert {o.unit: o.value for o in result.observations} == {
        "101": Decimal(632340),
        "147": Decimal(104305),
    }
    assert len(result.errors) == 103
    first = result.errors[0]
    assert (first.row, first.column, first.code) == (2, "OMRÅDE", "unknown_unit")
    assert "Hele landet" in first.message


def test_it_reads_the_national_quarterly_series_from_2008k1_to_2020k4() -> None:
    result = parse_statbank_csv(fixture(FOLK1A_NATIONAL), indicator="population")
    assert result.ok
    assert len(result.observations) == 52
    first, last = result.observations[0], result.observations[-1]
    assert (first.unit, first.period, first.value) == (
        "Hele landet",
        Period(2008, "quarter", 1),
        Decimal(5475791),
    )
    assert (last.period, last.value, last.row) == (Period(2020, "quarter", 4), Decimal(5837213), 53)


def test_it_reads_a_national_table_with_a_fixed_unit() -> None:
    result = parse_statbank_csv(
        fixture("data-STRAF42-csv-en-HERKOMST1_00-TID_2023.csv"),
        indicator="decisions",
        region=None,
        unit="DK",
    )
    assert [(o.unit, o.period, o.value) for o in result.observations] == [
        ("DK", Period(2023), Decimal(233454))
    ]


def test_missing_markers_are_skipped_and_bad_cells_reported() -> None:
    text = (
        "OMRÅDE;TID;INDHOLD\r\n"
        "København;2020K1;..\r\n"
        "Aarhus;2020K5;1\r\n"
        "Odense;2020K1;12,5\r\n"
        "Aalborg;2020K1;mange\r\n"
        "Odense;2020K1;13\r\n"
    )
    result = parse_statbank_csv(text, indicator="x")
    assert [(s.row, s.column, s.code) for s in result.skipped] == [(2, "INDHOLD", "null_value")]
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (3, "TID", "unknown_period"),
        (5, "INDHOLD", "not_a_number"),
        (6, "TID", "duplicate_row"),
    ]
    assert [(o.unit, o.value) for o in result.observations] == [("Odense", Decimal("12.5"))]


def test_a_missing_column_is_named() -> None:
    result = parse_statbank_csv(fixture(FOLK1A_NATIONAL), indicator="x", filters={"KØN": "I alt"})
    assert [(e.row, e.column, e.code) for e in result.errors] == [(1, "KØN", "missing_column")]


def test_it_reads_the_jsonstat_answer_with_its_mixed_case_tid() -> None:
    result = parse_statbank_jsonstat(
        fixture("data-STRAF42-jsonstat-en-HERKOMST1_00-TID_2023.json"),
        indicator="decisions",
        region=None,
        unit="DK",
    )
    assert [(o.period, o.value) for o in result.observations] == [(Period(2023), Decimal(233454))]
    everything_eliminated = parse_statbank_jsonstat(
        fixture("data-STRAF42-jsonstat-en-no-variables.json"),
        indicator="decisions",
        region=None,
        unit="DK",
    )
    assert [(o.period, o.value) for o in everything_eliminated.observations] == [
        (Period(2024), Decimal(227774))
    ]


def test_it_reads_tableinfo_variables_and_values() -> None:
    info = parse_tableinfo(fixture("tableinfo-STRAF42-en.json"))
    assert (info.id, info.text, info.unit, info.suppressed_data_value) == (
        "STRAF42",
        "Decisions, total",
        "Number",
        "0",
    )
    assert [(v.id, len(v.values)) for v in info.variables] == [
        ("HERKOMST1", 7),
        ("OVERTRÆD", 97),
        ("AFGØRELSE", 47),
        ("ALDER", 19),
        ("KØN", 4),
        ("Tid", 30),
    ]
    time = info.time_variable
    assert time is not None
    assert (time.id, time.values[0].id, time.values[-1].id) == ("Tid", "1995", "2024")
    assert info.variable("TID") is time  # the CSV header spelling
    assert info.variable("HERKOMST1").code_for("Total") == "00"
    assert info.variable("køn").codes_by_text()["Men"] == "M"


def test_danish_tableinfo_texts_map_back_to_codes() -> None:
    info = parse_tableinfo(fixture("tableinfo-STRAF42-da.json"))
    assert info.text == "Strafferetlige afgørelser"
    herkomst = info.variable("HERKOMST1")
    assert herkomst.code_for(herkomst.values[0].text) == herkomst.values[0].id == "00"


class FakeOpener:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requests: list[urllib.request.Request] = []

    def open(self, request: urllib.request.Request, data: Any = None, timeout: float = 0) -> Any:
        self.requests.append(request)
        return io.BytesIO(self.body)


def test_the_client_posts_the_data_query_and_gets_tableinfo() -> None:
    opener = FakeOpener(fixture(FOLK1A_AREAS))
    client = StatbankClient("https://statbank.example/v1", opener=opener)
    body = client.data("FOLK1A", {"OMRÅDE": ["*"], "CIVILSTAND": ["TOT"], "Tid": ["2020K1"]})
    assert body == fixture(FOLK1A_AREAS)
    [request] = opener.requests
    assert (request.full_url, request.get_method()) == ("https://statbank.example/v1/data", "POST")
    assert isinstance(request.data, bytes)
    assert json.loads(request.data) == {
        "table": "FOLK1A",
        "lang": "da",
        "format": "csv",
        "valuePresentation": "Code",
        "variables": [
            {"code": "OMRÅDE", "values": ["*"]},
            {"code": "CIVILSTAND", "values": ["TOT"]},
            {"code": "Tid", "values": ["2020K1"]},
        ],
    }

    opener = FakeOpener(fixture("tableinfo-STRAF42-da.json"))
    info = StatbankClient("https://statbank.example/v1", opener=opener).tableinfo("STRAF42")
    assert info.id == "STRAF42"
    assert opener.requests[0].full_url == (
        "https://statbank.example/v1/tableinfo?id=STRAF42&format=json&lang=da"
    )
