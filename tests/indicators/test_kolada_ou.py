"""Kolada's organisational units (schools, care homes…): the ``/ou`` list and ``/oudata``
values parsed, searched within a municipality, picked and mapped to our units in the browser,
fetched into those units by the worker and by ``pejling fetch-kpi --ou``. The answers are
constructed in Kolada's documented shape (``fixtures/README.md``) and served to the real clients
by the recorded transport: nothing reaches the internet."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from pejling.indicators import national
from pejling.indicators.models import (
    Aggregation,
    AreaMapping,
    Indicator,
    IndicatorValue,
    SourceFetch,
)
from pejling.indicators.sources.kolada import (
    KoladaClient,
    is_kolada_ou,
    parse_kolada_data,
    parse_kolada_ous,
)
from pejling.indicators.tasks import run_fetch
from tests.factories import IndicatorFactory
from tests.indicators.recorded import FIXTURES, RecordedSources

OUDATA = (
    FIXTURES / "kolada" / "oudata-v3-U15011-V15E144001301-V15E144001401-2023-2024.constructed.json"
)
OUS = FIXTURES / "kolada" / "ou-v3-municipality-1440-title-skola.constructed.json"
NOLSKOLAN, AROSENIUS, SKEPPLANDA = "V15E144001301", "V15E144001401", "V15E144002201"


@pytest.fixture
def recorded() -> Iterator[RecordedSources]:
    sources = RecordedSources().install()
    yield sources
    sources.uninstall()


@pytest.fixture
def passed(org: Any) -> Indicator:
    return IndicatorFactory(
        code="PASS9",
        name="Pupils passing every subject",
        measure_unit="%",
        periodicity="year",
        aggregation=Aggregation.MEAN,
        direction="higher",
    )


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# Parsing ---------------------------------------------------------------------------------------


def test_ou_values_are_parsed_per_unit_and_year_with_nulls_skipped() -> None:
    result = parse_kolada_data(OUDATA.read_bytes(), indicator="PASS9")
    assert not result.errors
    assert [(o.indicator, o.unit, str(o.period), o.value) for o in result.observations] == [
        ("PASS9", NOLSKOLAN, "2023", Decimal("77.8")),
        ("PASS9", NOLSKOLAN, "2024", Decimal("79.5")),
        ("PASS9", AROSENIUS, "2023", Decimal("69.1")),
    ]
    assert [s.code for s in result.skipped] == ["null_value"]
    assert "Missing" in result.skipped[0].message
    women = parse_kolada_data(OUDATA.read_bytes(), gender="K")
    assert women.observations[0].value == Decimal("81.2")


def test_ou_lists_and_ids() -> None:
    ous = parse_kolada_ous(OUS.read_bytes())
    assert [(o.id, o.title, o.municipality) for o in ous] == [
        (NOLSKOLAN, "Nolskolan", "1440"),
        (AROSENIUS, "Aroseniusskolan", "1440"),
        (SKEPPLANDA, "Skepplanda skola", "1440"),
    ]
    # A bare list and entries without an id.
    assert parse_kolada_ous(json.dumps([{"id": "X1", "title": "T"}, {"title": "no id"}])) == [
        parse_kolada_ous(json.dumps([{"id": "X1", "title": "T"}]))[0]
    ]
    assert is_kolada_ou(NOLSKOLAN) and not is_kolada_ou("1440") and not is_kolada_ou("0000")
    client = KoladaClient("https://api.kolada.se/v3")
    assert client.data_url("U15011", [NOLSKOLAN, AROSENIUS], [2023, 2024], ou=True) == (
        f"https://api.kolada.se/v3/oudata/kpi/U15011/ou/{NOLSKOLAN},{AROSENIUS}/year/2023,2024"
    )
    with pytest.raises(ValueError, match="organisational units"):
        client.data_url("U15011", None, [2024], ou=True)


# Searching -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_units_are_searched_within_a_municipality(recorded: RecordedSources) -> None:
    hits = national.search_ous("1440", "skolan")
    assert [h.id for h in hits] == [NOLSKOLAN, AROSENIUS]
    assert recorded.requests[-1][1] == (
        "https://api.kolada.se/v3/ou?municipality=1440&title=skolan"
    )
    assert national.search_ous("", "skolan") == []
    # Only municipalities (not regions, not the whole country) to choose the units' from.
    municipalities = national.kolada_municipalities()
    assert "1440" in {m.id for m in municipalities}
    assert not {"0000", "0014"} & {m.id for m in municipalities}
    recorded.overrides[("kolada", "/ou")] = b"<html>busy</html>"
    with pytest.raises(national.SourceUnavailable):
        national.search_ous("1440", "")


# The browser: pick units, map them, preview, save, fetch ---------------------------------------


@pytest.mark.django_db
def test_the_office_picks_units_of_a_municipality_and_fetches_them(
    client, org, passed, recorded, django_capture_on_commit_callbacks
) -> None:
    # A municipality mapped before stays out of the units' fetch (and is not touched).
    AreaMapping.objects.create(source="kolada", area="0180", label="Stockholm", unit=org.root)
    client.force_login(org.office)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = reverse("indicators:fetch_new", args=["PASS9"])
    base = {"source": "kolada", "series": "U15011", "areas": "ou"}
    page = text(client.get(url, base))
    assert "Organisational units (schools, care homes…)" in page
    assert "Choose a municipality above to find its units." in page
    assert '<option value="1440" >Ale</option>' in page
    search = base | {"ou_municipality": "1440", "ou_q": "skola"}
    page = text(client.get(url, search))
    assert "3 units found" in page
    for name in ("Nolskolan", "Aroseniusskolan", "Skepplanda skola"):
        assert name in page
    assert f'name="area-{NOLSKOLAN}"' in page
    assert "Kön" in page  # the KPI is divided by gender
    post = search | {
        "dim-gender": "T",
        "periods": ["2023", "2024"],
        "schedule": "manual",
        f"area-{NOLSKOLAN}": "centre-a",
        f"area-{AROSENIUS}": "centre-b",
        f"area-{SKEPPLANDA}": "",
    }
    page = text(client.post(url, post | {"action": "preview"}))
    assert "3 values in the answer, 3 for our units, 1 empty in the source." in page
    assert f"centre-a ({NOLSKOLAN})" in page
    assert recorded.requests[-1][1] == (
        f"https://api.kolada.se/v3/oudata/kpi/U15011/ou/{NOLSKOLAN},{AROSENIUS}/year/2023,2024"
    )
    assert not IndicatorValue.objects.exists()
    assert national.stored_mapping("kolada", national.KOLADA_OU) == {
        NOLSKOLAN: "centre-a",
        AROSENIUS: "centre-b",
    }
    assert national.stored_mapping("kolada") == {"0180": org.root.code}
    assert AreaMapping.objects.get(area=NOLSKOLAN).label == "Nolskolan"
    # Mapped units are offered again without a search.
    assert "Nolskolan" in text(client.get(url, base))
    response = client.post(url, post | {"action": "save"})
    fetch = SourceFetch.objects.get()
    assert response.status_code == 302
    assert (fetch.area_dimension, fetch.picks) == ("ou", {"gender": "T"})
    page = text(client.get(fetch.get_absolute_url()))
    assert "Nolskolan → Centre A" in page and "Stockholm" not in page
    assert run_fetch.call(fetch.pk, org.office.pk) == "done", SourceFetch.objects.get().last_errors
    stored = dict(
        IndicatorValue.objects.filter(indicator=passed)
        .values_list("unit__code", "period")
        .values_list("period", "value")
        .filter(unit=org.centre_a)
    )
    assert stored == {"2023": Decimal("77.8"), "2024": Decimal("79.5")}
    assert IndicatorValue.objects.filter(unit=org.centre_b).count() == 1
    assert not IndicatorValue.objects.filter(unit=org.root).exists()


@pytest.mark.django_db
def test_an_unknown_unit_code_beside_an_ou_is_named_and_nothing_kept(
    client, org, passed, recorded
) -> None:
    client.force_login(org.office)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = reverse("indicators:fetch_new", args=["PASS9"])
    post = {
        "source": "kolada",
        "series": "U15011",
        "areas": "ou",
        "ou_municipality": "1440",
        "dim-gender": "T",
        "schedule": "manual",
        f"area-{NOLSKOLAN}": "nowhere",
        "action": "save",
    }
    page = text(client.post(url, post))
    assert "No unit has the code nowhere." in page
    assert not AreaMapping.objects.exists() and not SourceFetch.objects.exists()


@pytest.mark.django_db
def test_fetch_kpi_fetches_organisational_units(org, passed, recorded) -> None:
    out = StringIO()
    call_command(
        "fetch-kpi", "--source=kolada", "--indicator=PASS9", "--kpi=U15011", "--ou",
        "--year=2023", "--year=2024", f"--map={NOLSKOLAN}=centre-a",
        f"--map={AROSENIUS}=centre-b", stdout=out, stderr=StringIO(),
    )  # fmt: skip
    assert "Imported PASS9 from kolada: 3 values created" in out.getvalue()
    assert recorded.requests[-1][1].endswith(
        f"/oudata/kpi/U15011/ou/{NOLSKOLAN},{AROSENIUS}/year/2023,2024"
    )
    assert IndicatorValue.objects.filter(indicator=passed).count() == 3
