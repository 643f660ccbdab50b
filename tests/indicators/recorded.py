"""A transport for the national statistics clients that answers with the fixtures in
``tests/indicators/fixtures`` (see its README): the real clients build the real requests to the
real base URLs, and this opener answers them, so no test reaches the internet.

``RecordedSources().install()`` makes :mod:`pejling.indicators.national` use it; every request
is kept in ``requests`` (method, URL, body) for the tests to read.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pejling.indicators import national

FIXTURES = Path(__file__).parent / "fixtures"

# (source, path after the base) → fixture file; the longest route the request's path starts
# with answers. A route with a query (``/kpi?id=U15011``) is matched against the path and the
# query, so it answers before the bare path.
ROUTES: dict[tuple[str, str], Path] = {
    ("kolada", "/kpi"): FIXTURES
    / "kolada"
    / "kpi-v2-values-kommunen-overgripande-incl-N00090-2020-02.json",
    ("kolada", "/municipality"): FIXTURES / "kolada" / "municipality-v2-values-all-2024-01.json",
    ("kolada", "/data/kpi/N00090"): FIXTURES
    / "kolada"
    / "data-v3-N00090-0180-1480-2023-2024.constructed.json",
    ("kolada", "/kpi?id=U15011"): FIXTURES / "kolada" / "kpi-v3-id-U15011.constructed.json",
    ("kolada", "/ou"): FIXTURES / "kolada" / "ou-v3-municipality-1440-title-skola.constructed.json",
    ("kolada", "/oudata/kpi/U15011"): FIXTURES
    / "kolada"
    / "oudata-v3-U15011-V15E144001301-V15E144001401-2023-2024.constructed.json",
    ("statbank", "/tables"): FIXTURES / "statbank" / "tables-da.constructed.json",
    ("statbank", "/tableinfo"): FIXTURES / "statbank" / "tableinfo-FOLK1A-da.constructed.json",
    ("statbank", "/data"): FIXTURES
    / "statbank"
    / "data-FOLK1A-csv-da-code-OMRAADE-KOEN-ALDER-2024K1-2024K2.constructed.csv",
    ("ssb", "/tables/07459/metadata"): FIXTURES
    / "ssb"
    / "ssb-v2-metadata-07459-no.constructed.json",
    ("ssb", "/tables/07459/data"): FIXTURES
    / "ssb"
    / "ssb-v2-jsonstat2-07459-region-kjonn-alder-2023-2024.constructed.json",
    ("ssb", "/tables"): FIXTURES / "ssb" / "ssb-v2-tables-query-befolkning-no.constructed.json",
}
BASES = {
    "kolada": "https://api.kolada.se/v3",
    "statbank": "https://api.statbank.dk/v1",
    "ssb": "https://data.ssb.no/api/pxwebapi/v2",
}


class _Response(io.BytesIO):
    status = 200

    def __enter__(self) -> _Response:
        return self


@dataclass
class RecordedSources:
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    # (source, path) → bytes, to answer something else than the fixture (a broken answer)
    overrides: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def open(
        self, request: urllib.request.Request, data: bytes | None = None, timeout: float = 0
    ) -> Any:
        url = request.full_url
        body = json.loads(request.data) if request.data else None
        self.requests.append((request.get_method(), url, body))
        for source, base in BASES.items():
            if url.startswith(base):
                parts = urllib.parse.urlsplit(url)
                path = parts.path[len(urllib.parse.urlsplit(base).path) :]
                if parts.query:
                    path += "?" + parts.query
                for (route_source, prefix), fixture in sorted(
                    ROUTES.items(), key=lambda item: -len(item[0][1])
                ):
                    if route_source == source and path.startswith(prefix):
                        answer = self.overrides.get((source, prefix))
                        return _Response(answer if answer is not None else fixture.read_bytes())
        raise urllib.error.URLError(f"no recorded answer for {url}")

    def install(self) -> RecordedSources:
        national.use_opener(self)
        return self

    def uninstall(self) -> None:
        national.use_opener(None)
