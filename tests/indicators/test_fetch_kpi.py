"""``pejling fetch-kpi`` against a real HTTP server on 127.0.0.1 serving recorded answers.

StatBank (Statistics Denmark) and SSB (Statistics Norway) answers are the recorded responses in
``shared/fixtures`` (see its README), served byte for byte. Kolada has **no recorded data
response** (only metadata was recorded), so the Kolada pages served here are written by hand,
exactly in the documented v3 shape: ``{"count", "values": [{"kpi", "municipality", "period",
"values": [{"count", "gender", "status", "value"}]}], "next_url"}``, as in
``test_sources_kolada.py``. They are not recordings.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command

from pejling.indicators.models import (
    ImportBatch,
    ImportStatus,
    Indicator,
    IndicatorValue,
    Periodicity,
)
from tests.factories import IndicatorFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(
    os.environ.get("PEJLING_FIXTURES", Path(__file__).resolve().parents[3] / "shared" / "fixtures")
)
FOLK1A_AREAS = FIXTURES / "statbank" / "data-FOLK1A-csv-da-text-all-areas-civilstand-2020K1.csv"
FOLK1A_NATIONAL = (
    FIXTURES / "statbank" / "data-FOLK1A-csv-da-text-HeleLandet-CIVILSTAND_TOT-2008K1-2020K4.csv"
)
STRAF42_JSONSTAT = FIXTURES / "statbank" / "data-STRAF42-jsonstat-en-HERKOMST1_00-TID_2023.json"
SSB_07459 = FIXTURES / "ssb" / "ssb-v0-jsonstat2-table-07459-population-by-municipality-2022.json"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes


Answer = tuple[int, str, bytes]


@dataclass
class Server:
    url: str
    routes: dict[str, Answer | Callable[[], Answer]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def serve(self, path: str, body: bytes | Path, content_type: str = "application/json") -> None:
        data = body.read_bytes() if isinstance(body, Path) else body
        self.routes[path] = (200, content_type, data)


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="")

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            state.requests.append(
                Request(self.command, parts.path, parse_qs(parts.query), self.rfile.read(length))
            )
            route = state.routes.get(self.path) or state.routes.get(parts.path)
            status, content_type, body = (
                route() if callable(route) else route or (404, "text/plain", b"not found")
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = answer
        do_POST = answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def fetch(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("fetch-kpi", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def stored(code: str) -> dict[tuple[str, str], Decimal]:
    return {
        (unit, period): value
        for unit, period, value in IndicatorValue.objects.filter(indicator__code=code).values_list(
            "unit__code", "period", "value"
        )
    }


def test_the_fixtures_are_where_the_tests_expect_them() -> None:
    for path in (FOLK1A_AREAS, FOLK1A_NATIONAL, STRAF42_JSONSTAT, SSB_07459):
        assert path.is_file(), path


# Kolada ---------------------------------------------------------------------------------------


def kolada_entry(municipality: str, period: int, total: float | None) -> dict[str, Any]:
    return {
        "kpi": "N00090",
        "municipality": municipality,
        "period": period,
        "values": [
            {"count": 1, "gender": "K", "status": "", "value": None if total is None else total + 1},
            {"count": 1, "gender": "M", "status": "", "value": None if total is None else total - 1},
            {"count": 1, "gender": "T", "status": "" if total is not None else "Saknas", "value": total},
        ],
    }  # fmt: skip


@pytest.fixture
def kolada(server: Server, org: Any) -> Server:
    """Two pages, written per the v3 documentation (no recorded Kolada data exists)."""
    path = "/v3/data/kpi/N00090/municipality/0180,1480/year/2023,2024"
    server.serve(
        path,
        json.dumps(
            {
                "count": 3,
                "values": [
                    kolada_entry("0180", 2023, 6.1),
                    kolada_entry("0180", 2024, 6.5),
                    kolada_entry("1480", 2023, None),
                ],
                "next_url": f"{server.url}{path}?page=2",
            }
        ).encode(),
    )
    server.serve(
        f"{path}?page=2",
        json.dumps(
            {"count": 1, "values": [kolada_entry("1480", 2024, 7.25)], "next_url": None}
        ).encode(),
    )
    IndicatorFactory(code="SICK_KOLADA", periodicity=Periodicity.YEAR, measure_unit="percent")
    return server


def test_kolada_values_land_on_the_mapped_units_for_their_years(
    kolada: Server, settings: Any
) -> None:
    settings.PEJLING_KOLADA_URL = f"{kolada.url}/v3"
    out, _err = fetch(
        "--source=kolada", "--indicator=SICK_KOLADA", "--kpi=N00090",
        "--year=2023", "--year=2024", "--map", "0180=centre-a", "--map", "1480=centre-b",
    )  # fmt: skip
    assert stored("SICK_KOLADA") == {
        ("centre-a", "2023"): Decimal("6.1"),
        ("centre-a", "2024"): Decimal("6.5"),
        ("centre-b", "2024"): Decimal("7.25"),
    }
    assert [(r.method, r.path, r.query) for r in kolada.requests] == [
        ("GET", "/v3/data/kpi/N00090/municipality/0180,1480/year/2023,2024", {}),
        ("GET", "/v3/data/kpi/N00090/municipality/0180,1480/year/2023,2024", {"page": ["2"]}),
    ]
    assert "1 empty in the source" in out
    assert "3 values created, 0 updated" in out
    assert "Källa: Kolada" in out
    batch = ImportBatch.objects.get()
    assert (batch.source, batch.status) == ("kolada N00090", ImportStatus.DONE)
    assert batch.filename.startswith(kolada.url)


def test_kolada_can_be_fetched_for_women_and_refetching_updates(
    kolada: Server,
) -> None:
    args = [
        "--source=kolada", "--indicator=SICK_KOLADA", "--kpi=N00090", "--year=2023",
        "--year=2024", "--map=0180=centre-a", "--map=1480=centre-b", f"--base-url={kolada.url}/v3",
    ]  # fmt: skip
    fetch(*args)
    out, _err = fetch(*args, "--gender=K")
    assert "0 values created, 3 updated" in out
    assert stored("SICK_KOLADA")[("centre-a", "2024")] == Decimal("7.5")


def test_a_dry_run_fetches_and_checks_but_writes_nothing(kolada: Server) -> None:
    out, _err = fetch(
        "--source=kolada", "--indicator=SICK_KOLADA", "--kpi=N00090", "--year=2023",
        "--year=2024", "--map=0180=centre-a", "--map=1480=centre-b", f"--base-url={kolada.url}/v3",
        "--dry-run",
    )  # fmt: skip
    assert "dry run" in out
    assert len(kolada.requests) == 2
    assert IndicatorValue.objects.count() == 0


def test_values_of_the_wrong_period_kind_are_refused_whole(kolada: Server) -> None:
    Indicator.objects.filter(code="SICK_KOLADA").update(periodicity=Periodicity.MONTH)
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was imported: 3 problems"):
        call_command(
            "fetch-kpi", "--source=kolada", "--indicator=SICK_KOLADA", "--kpi=N00090",
            "--year=2023", "--year=2024", "--map=0180=centre-a", "--map=1480=centre-b",
            f"--base-url={kolada.url}/v3", stdout=StringIO(), stderr=err,
        )  # fmt: skip
    assert err.getvalue().count("kolumn period") == 3  # in the installation's language
    assert IndicatorValue.objects.count() == 0
    assert ImportBatch.objects.get().status == ImportStatus.FAILED


# Statistics Denmark ---------------------------------------------------------------------------


def test_statbank_csv_with_area_texts_lands_on_the_mapped_units(server: Server, org: Any) -> None:
    IndicatorFactory(code="POP_DK", periodicity=Periodicity.QUARTER, measure_unit="count")
    server.serve("/v1/data", FOLK1A_AREAS, "text/csv; charset=utf-8")
    out, _err = fetch(
        "--source=statbank", "--indicator=POP_DK", "--table=FOLK1A", "--format=csv",
        "--presentation=text", "--filter=CIVILSTAND=I alt", "--period=2020K1",
        "--map=København=centre-a", "--map=Aarhus=centre-b", "--map=Hele landet=exec",
        f"--base-url={server.url}/v1",
    )  # fmt: skip
    assert stored("POP_DK") == {
        ("centre-a", "2020Q1"): Decimal(632340),
        ("centre-b", "2020Q1"): Decimal(349983),
        ("exec", "2020Q1"): Decimal(5822763),
    }
    assert "105 values" in out and "3 for mapped regions" in out and "102 for other regions" in out
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/v1/data")
    body = json.loads(request.body)
    assert body["table"] == "FOLK1A"
    assert body["format"] == "csv"
    assert body["valuePresentation"] == "Default"
    assert {v["code"]: v["values"] for v in body["variables"]} == {
        "CIVILSTAND": ["*"],
        "OMRÅDE": ["*"],
        "Tid": ["2020K1"],
    }


def test_a_long_statbank_series_is_read_through_the_configured_url(
    server: Server, org: Any, settings: Any
) -> None:
    settings.PEJLING_STATBANK_URL = f"{server.url}/v1"
    IndicatorFactory(code="POP_DK", periodicity=Periodicity.QUARTER, measure_unit="count")
    server.serve("/v1/data", FOLK1A_NATIONAL, "text/csv; charset=utf-8")
    fetch(
        "--source=statbank", "--indicator=POP_DK", "--table=FOLK1A", "--presentation=text",
        "--map=Hele landet=exec",
    )  # fmt: skip
    values = stored("POP_DK")
    assert len(values) == 52
    assert values[("exec", "2008Q1")] == Decimal(5475791)
    assert values[("exec", "2020Q4")] == Decimal(5837213)
    value = IndicatorValue.objects.get(period="2020Q4")
    assert (value.period_start.isoformat(), value.period_end.isoformat()) == (
        "2020-10-01",
        "2020-12-31",
    )


def test_statbank_json_stat_is_read_with_codes(server: Server, org: Any) -> None:
    """STRAF42 (decisions by national origin) is not municipal; its ``HERKOMST1`` dimension
    stands in for the region here to carry the recorded JSON-stat answer onto a unit."""
    IndicatorFactory(code="DECISIONS", periodicity=Periodicity.YEAR, measure_unit="count")
    server.serve("/v1/data", STRAF42_JSONSTAT)
    fetch(
        "--source=statbank", "--indicator=DECISIONS", "--table=STRAF42", "--format=jsonstat",
        "--region-variable=HERKOMST1", "--period=2023", "--lang=en", "--map=00=exec",
        f"--base-url={server.url}/v1",
    )  # fmt: skip
    assert stored("DECISIONS") == {("exec", "2023"): Decimal(233454)}
    body = json.loads(server.requests[0].body)
    assert (body["format"], body["lang"], body["valuePresentation"]) == ("jsonstat", "en", "Code")
    assert {v["code"]: v["values"] for v in body["variables"]} == {
        "HERKOMST1": ["00"],
        "Tid": ["2023"],
    }


# Statistics Norway ----------------------------------------------------------------------------


def test_ssb_population_lands_on_the_mapped_units(server: Server, org: Any, settings: Any) -> None:
    settings.PEJLING_SSB_URL = f"{server.url}/api/pxwebapi/v2"
    IndicatorFactory(code="POP_NO", periodicity=Periodicity.YEAR, measure_unit="count")
    server.serve("/api/pxwebapi/v2/tables/07459/data", SSB_07459)
    out, _err = fetch(
        "--source=ssb", "--indicator=POP_NO", "--table=07459", "--filter=ContentsCode=Personer1",
        "--period=2022", "--codelist=Region=agg_KommSummer",
        "--map=0301=exec", "--map=3001=centre-a", "--map=5444=centre-b",
    )  # fmt: skip
    assert stored("POP_NO") == {
        ("exec", "2022"): Decimal(699827),  # Oslo
        ("centre-a", "2022"): Decimal(31444),  # Halden
        ("centre-b", "2022"): Decimal(9925),  # Sør-Varanger
    }
    assert "359 values" in out and "356 for other regions" in out
    (request,) = server.requests
    assert request.method == "GET"
    assert request.query == {
        "lang": ["no"],
        "outputFormat": ["json-stat2"],
        "valueCodes[ContentsCode]": ["Personer1"],
        "valueCodes[Region]": ["*"],
        "valueCodes[Tid]": ["2022"],
        "codelist[Region]": ["agg_KommSummer"],
    }


def test_a_mapped_region_missing_from_the_answer_is_reported(server: Server, org: Any) -> None:
    IndicatorFactory(code="POP_NO", periodicity=Periodicity.YEAR, measure_unit="count")
    server.serve("/api/pxwebapi/v2/tables/07459/data", SSB_07459)
    _out, err = fetch(
        "--source=ssb", "--indicator=POP_NO", "--table=07459", "--map=0301=exec",
        "--map=9999=centre-a", f"--base-url={server.url}/api/pxwebapi/v2",
    )  # fmt: skip
    assert "9999" in err
    assert stored("POP_NO") == {("exec", "2022"): Decimal(699827)}


# Refusals ---------------------------------------------------------------------------------------


def test_a_failing_server_is_reported_and_nothing_is_written(server: Server, org: Any) -> None:
    IndicatorFactory(code="POP_NO", periodicity=Periodicity.YEAR)
    server.routes["/api/pxwebapi/v2/tables/07459/data"] = (500, "text/plain", b"oops")
    with pytest.raises(CommandError, match="Could not fetch from ssb"):
        fetch(
            "--source=ssb", "--indicator=POP_NO", "--table=07459", "--map=0301=exec",
            f"--base-url={server.url}/api/pxwebapi/v2",
        )  # fmt: skip
    with pytest.raises(CommandError, match="Could not fetch from ssb"):
        fetch(
            "--source=ssb", "--indicator=POP_NO", "--table=99999", "--map=0301=exec",
            f"--base-url={server.url}/api/pxwebapi/v2",
        )  # fmt: skip
    assert IndicatorValue.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--indicator=NOPE", "--map=0180=exec"], "NOPE"),
        (["--indicator=RATIO", "--map=0180=exec"], "numerator"),
        (["--indicator=POP", "--map=0180=nowhere"], "nowhere"),
        (["--indicator=POP", "--map=0180"], "REGION|NAME=VALUE"),
        (["--indicator=POP", "--map=0180=exec", "--user=nobody"], "nobody"),
    ],
)
def test_bad_arguments_are_refused_before_fetching(
    server: Server, org: Any, args: list[str], message: str
) -> None:
    pop = IndicatorFactory(code="POP", periodicity=Periodicity.YEAR)
    IndicatorFactory(code="RATIO", aggregation="ratio", numerator=pop, denominator=pop)
    with pytest.raises(CommandError, match=message):
        fetch("--source=kolada", "--kpi=N00090", f"--base-url={server.url}/v3", *args)
    assert server.requests == []
