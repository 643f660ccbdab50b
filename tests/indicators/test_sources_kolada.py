"""Kolada adapter (no database, no network).

Recorded fixtures exist only for Kolada *metadata* (v2 municipality and kpi
lists, bare ``values`` arrays). No Kolada *data* response was recorded, in v2
or v3, so the data payloads below are written from the documentation: the
v2 shape from the Hypergene/kolada README (``{"count", "values": [{"kpi",
"municipality", "period", "values": [{"count", "gender", "status",
"value"}]}], "next_page"}``), and v3 as the same item shape with a numeric
``period`` and ``next_url`` paging. They are not recordings.
"""

from __future__ import annotations

import io
import json
import os
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pejling.indicators.sources._http import SourceHttpError
from pejling.indicators.sources.kolada import (
    KoladaClient,
    kolada_next_url,
    parse_kolada_data,
    parse_kolada_kpis,
    parse_kolada_municipalities,
)
from pejling.indicators.sources.records import Period

FIXTURES = (
    Path(
        os.environ.get(
            "PEJLING_FIXTURES", Path(__file__).resolve().parents[3] / "shared" / "fixtures"
        )
    )
    / "kolada"
)
assert FIXTURES.is_dir(), f"recorded fixtures not found in {FIXTURES}"


def needs_fixtures(test):
    return test


def entry(municipality: str, period: Any, **values: Any) -> dict[str, Any]:
    return {
        "kpi": "N00090",
        "municipality": municipality,
        "period": period,
        "values": [
            {"count": 1, "gender": gender, "status": "", "value": value}
            for gender, value in values.items()
        ],
    }


V2_PAGE = {
    "count": 3,
    "values": [
        entry("0180", "2019", K=8.1, M=4.2, T=6.5),
        entry("1280", "2019", K=None, M=None, T=None),
        entry("1480", "2019", K=9.0, M=4.0, T=7.25),
    ],
    "next_page": None,
}


def test_it_reads_the_documented_v2_data_shape_taking_gender_t() -> None:
    result = parse_kolada_data(json.dumps(V2_PAGE))
    assert result.ok
    assert [(o.indicator, o.unit, o.period, o.value, o.row) for o in result.observations] == [
        ("N00090", "0180", Period(2019), Decimal("6.5"), 1),
        ("N00090", "1480", Period(2019), Decimal("7.25"), 3),
    ]


def test_it_skips_null_values_without_calling_them_errors() -> None:
    result = parse_kolada_data(V2_PAGE)
    assert result.errors == []
    assert [(s.row, s.column, s.code) for s in result.skipped] == [(2, "value", "null_value")]


def test_it_can_pick_another_gender() -> None:
    result = parse_kolada_data(V2_PAGE, gender="K")
    assert [o.value for o in result.observations] == [Decimal("8.1"), Decimal("9.0")]
    with pytest.raises(ValueError, match="gender"):
        parse_kolada_data(V2_PAGE, gender="F")


def test_an_entry_without_the_requested_gender_is_skipped() -> None:
    page = {"values": [entry("0180", "2019", T=3)]}
    result = parse_kolada_data(page, gender="M")
    assert [(s.row, s.code) for s in result.skipped] == [(1, "no_gender_value")]


def test_it_reads_the_v3_shape_with_numeric_period_and_next_url() -> None:
    """Not recorded: written from the v3 documentation (same items, next_url)."""
    page = {
        "count": 1,
        "values": [entry("0180", 2023, T=5)],
        "next_url": "https://api.kolada.se/v3/data/kpi/N00090/year/2023?page=2",
    }
    result = parse_kolada_data(page)
    assert [(o.unit, o.period) for o in result.observations] == [("0180", Period(2023))]
    assert kolada_next_url(page) == "https://api.kolada.se/v3/data/kpi/N00090/year/2023?page=2"
    assert kolada_next_url(V2_PAGE) is None
    assert kolada_next_url({"next_page": "http://api.kolada.se/v2/x?page=2"}) == (
        "http://api.kolada.se/v2/x?page=2"
    )


def test_it_reads_ou_data() -> None:
    page = {"values": [{"kpi": "N15033", "ou": "V15E144001301", "period": 2009, "values": [
        {"gender": "T", "value": 12, "count": 1, "status": None}
    ]}]}  # fmt: skip
    result = parse_kolada_data(page)
    assert result.observations[0].unit == "V15E144001301"


def test_bad_kolada_entries_are_reported_with_their_position() -> None:
    page = {
        "values": [
            entry("0180", "2019", T=1),
            entry("0180", "2019", T=2),
            entry("0181", "2019H1", T=1),
            {"kpi": "N00090", "period": "2019", "values": []},
            entry("0182", "2019", T="mycket"),
            entry("0183", "2019", T=-1),
            "nonsense",
        ]
    }
    result = parse_kolada_data(page, nonnegative=True)
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (2, "period", "duplicate_row"),
        (3, "period", "unknown_period"),
        (4, "municipality", "missing_value"),
        (5, "value", "not_a_number"),
        (6, "value", "negative_count"),
        (7, None, "invalid_payload"),
    ]
    assert parse_kolada_data({"oops": 1}).errors[0].code == "invalid_payload"


@needs_fixtures
def test_it_reads_the_recorded_municipality_list() -> None:
    municipalities = parse_kolada_municipalities(
        (FIXTURES / "municipality-v2-values-all-2024-01.json").read_bytes()
    )
    assert len(municipalities) == 312
    by_id = {m.id: m for m in municipalities}
    assert (by_id["0180"].title, by_id["0180"].type) == ("Stockholm", "K")
    assert (by_id["1440"].title, by_id["1440"].type) == ("Ale", "K")
    assert (by_id["0000"].title, by_id["0000"].type) == ("Riket", "L")
    assert by_id["0014"].title == "Västra Götalandsregionen"
    assert sum(m.type == "K" for m in municipalities) == 290


@needs_fixtures
def test_it_reads_the_recorded_kpi_list() -> None:
    kpis = parse_kolada_kpis(
        (FIXTURES / "kpi-v2-values-kommunen-overgripande-incl-N00090-2020-02.json").read_bytes()
    )
    assert len(kpis) == 110
    sick_leave = next(k for k in kpis if k.id == "N00090")
    assert sick_leave.title == "Sjukfrånvaro kommunalt anställda totalt, (%)"
    assert sick_leave.is_divided_by_gender is True
    assert (sick_leave.publ_period, sick_leave.publication_date) == ("2019", "2020-03-11")
    assert {k.id for k in kpis} >= {"N00091", "N00092", "N00093", "N00094"}


class FakeOpener:
    """Stands in for urllib's OpenerDirector: answers from a dict, records requests."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.requests: list[urllib.request.Request] = []

    def open(self, request: urllib.request.Request, data: Any = None, timeout: float = 0) -> Any:
        self.requests.append(request)
        return io.BytesIO(json.dumps(self.answers[request.full_url]).encode("utf-8"))


def test_the_client_follows_next_url_pages_on_the_same_host() -> None:
    base = "https://kolada.example/v3"
    first_url = f"{base}/data/kpi/N00090/municipality/0180,1280/year/2019,2020"
    second_url = f"{base}/data/kpi/N00090/municipality/0180,1280/year/2019,2020?page=2"
    opener = FakeOpener(
        {
            first_url: {"values": [entry("0180", 2019, T=6.5)], "next_url": second_url},
            second_url: {"values": [entry("1280", 2020, T=4)], "next_url": None},
        }
    )
    client = KoladaClient(base, opener=opener)
    result = client.fetch_data("N00090", ["0180", "1280"], [2019, 2020])
    assert [(o.unit, o.period, o.value) for o in result.observations] == [
        ("0180", Period(2019), Decimal("6.5")),
        ("1280", Period(2020), Decimal(4)),
    ]
    assert [r.full_url for r in opener.requests] == [first_url, second_url]


def test_the_client_reports_duplicates_across_pages() -> None:
    base = "https://kolada.example/v3"
    first_url = f"{base}/data/kpi/N00090/year/2019"
    second_url = f"{first_url}?page=2"
    opener = FakeOpener(
        {
            first_url: {"values": [entry("0180", 2019, T=1)], "next_url": second_url},
            second_url: {"values": [entry("0180", 2019, T=2)]},
        }
    )
    result = KoladaClient(base, opener=opener).fetch_data("N00090", years=[2019])
    assert [o.value for o in result.observations] == [Decimal(1)]
    assert [(e.row, e.code) for e in result.errors] == [(1, "duplicate_row")]


def test_the_client_refuses_paging_links_to_another_host() -> None:
    base = "https://kolada.example/v3"
    url = f"{base}/data/kpi/N00090/year/2019"
    opener = FakeOpener({url: {"values": [], "next_url": "https://evil.example/steal"}})
    with pytest.raises(SourceHttpError):
        KoladaClient(base, opener=opener).fetch_data("N00090", years=[2019])


def test_the_client_needs_an_http_base_url_and_two_dimensions() -> None:
    with pytest.raises(ValueError, match="http"):
        KoladaClient("file:///etc/passwd")
    with pytest.raises(ValueError, match="municipalities or years"):
        KoladaClient("https://kolada.example/v3").data_url("N00090")
