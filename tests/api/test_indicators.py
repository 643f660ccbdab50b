"""Indicators and their values over the API: bulk read, and bulk write all or nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pejling.indicators.completeness import completeness
from pejling.indicators.models import (
    Aggregation,
    ImportBatch,
    ImportStatus,
    Indicator,
    IndicatorValue,
)
from tests.api.helpers import assert_error
from tests.factories import IndicatorFactory, IndicatorValueFactory


def test_indicators_are_listed_and_read_by_code(api: Any, org: Any) -> None:
    days = IndicatorFactory(code="SICK_DAYS", name="Sick days")
    fte = IndicatorFactory(code="FTE", name="FTE")
    IndicatorFactory(
        code="SICK_RATE", aggregation=Aggregation.RATIO, numerator=days, denominator=fte, scale=100
    )
    client = api(org.employee)
    assert [i["code"] for i in client.walk("/indicators", limit=2)] == [
        "FTE",
        "SICK_DAYS",
        "SICK_RATE",
    ]
    rate = client.get("/indicators/SICK_RATE").json()
    assert (rate["numerator"], rate["denominator"], rate["scale"]) == ("SICK_DAYS", "FTE", 100.0)
    assert_error(client.get("/indicators/NOPE"), 404, "not_found")


def test_values_are_read_by_indicator_subtree_and_period_range(api: Any, org: Any) -> None:
    days = IndicatorFactory(code="SICK_DAYS")
    other = IndicatorFactory(code="OTHER")
    for unit in (org.unit, org.sibling, org.unit_b1a):
        for period in ("2025-12", "2026-01", "2026-02"):
            IndicatorValueFactory(indicator=days, unit=unit, period=period, value=Decimal("1.5"))
    IndicatorValueFactory(indicator=other, unit=org.unit, period="2026-01", value=9)
    values = api(org.employee).walk(
        "/values",
        indicator="SICK_DAYS",
        within="dept-a1",
        period_from="2026-01",
        period_to="2026-02",
    )
    assert sorted((v["unit"], v["period"]) for v in values) == [
        ("unit-a1a", "2026-01"),
        ("unit-a1a", "2026-02"),
        ("unit-a1b", "2026-01"),
        ("unit-a1b", "2026-02"),
    ]
    assert {v["value"] for v in values} == {1.5}
    body = assert_error(api(org.employee).get("/values", period_from="last year"), 400, "invalid")
    assert "period_from" in body["fields"]


def test_the_strategy_office_writes_values_in_bulk(api: Any, org: Any) -> None:
    IndicatorFactory(code="SICK_DAYS")
    IndicatorValueFactory(indicator__code="SICK_DAYS", unit=org.unit, period="2026-01", value=1)
    response = api(org.office).post(
        "/values",
        {
            "values": [
                {"indicator": "SICK_DAYS", "unit": "unit-a1a", "period": "2026-01", "value": 3},
                {
                    "indicator": "SICK_DAYS",
                    "unit": "unit-a1b",
                    "period": "2026M01",
                    "value": "2.25",
                },
            ]
        },
    )
    assert response.status_code == 201, response.content
    assert (response.json()["created"], response.json()["updated"]) == (1, 1)
    stored = dict(IndicatorValue.objects.values_list("unit__code", "value"))
    assert stored == {"unit-a1a": Decimal(3), "unit-a1b": Decimal("2.25")}
    assert ImportBatch.objects.get(pk=response.json()["batch"]).created_by == org.office


def test_a_bulk_write_with_any_bad_value_writes_nothing_and_lists_every_problem(
    api: Any, org: Any
) -> None:
    IndicatorFactory(code="SICK_DAYS")
    response = api(org.office).post(
        "/values",
        {
            "values": [
                {"indicator": "SICK_DAYS", "unit": "unit-a1a", "period": "2026-01", "value": 3},
                {"indicator": "SICK_DAYS", "unit": "nowhere", "period": "2026-01", "value": 1},
                {"indicator": "NOPE", "unit": "unit-a1a", "period": "2026-01", "value": 1},
                {"indicator": "SICK_DAYS", "unit": "unit-a1a", "period": "2026-13", "value": 1},
                {"indicator": "SICK_DAYS", "unit": "unit-a1b", "period": "2026-01", "value": -4},
            ]
        },
    )
    body = assert_error(response, 400, "invalid_values")
    assert set(body["fields"]) == {
        "values.1.unit",
        "values.2.indicator",
        "values.3.period",
        "values.4.value",
    }
    assert not IndicatorValue.objects.exists()
    assert ImportBatch.objects.get().status == ImportStatus.FAILED


def test_a_dry_run_checks_values_without_writing(api: Any, org: Any) -> None:
    IndicatorFactory(code="SICK_DAYS")
    response = api(org.office).post(
        "/values",
        {
            "values": [
                {"indicator": "SICK_DAYS", "unit": "unit-a1a", "period": "2026-03", "value": 1}
            ],
            "dry_run": True,
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "preview"
    assert not IndicatorValue.objects.exists()


def test_only_the_strategy_office_writes_values(api: Any, org: Any) -> None:
    IndicatorFactory(code="SICK_DAYS")
    payload = {
        "values": [{"indicator": "SICK_DAYS", "unit": "unit-a1a", "period": "2026-01", "value": 1}]
    }
    assert_error(api(org.head).post("/values", payload), 403, "forbidden")
    assert_error(api(org.office, scope="read").post("/values", payload), 403, "read_only_token")
    assert not IndicatorValue.objects.exists()


def test_an_empty_or_malformed_bulk_write_is_a_422(api: Any, org: Any) -> None:
    assert_error(api(org.office).post("/values", {"values": []}), 422, "invalid_request")
    body = assert_error(
        api(org.office).post(
            "/values",
            {"values": [{"indicator": "X", "unit": "u", "period": "2026", "value": "lots"}]},
        ),
        422,
    )
    assert "values.0.value" in body["fields"]


def test_a_series_is_rolled_up_for_a_unit_its_own_values_or_its_children_side_by_side(
    api: Any, org: Any, django_assert_max_num_queries: Any
) -> None:
    days = IndicatorFactory(code="SICK_DAYS")
    fte = IndicatorFactory(code="FTE", aggregation=Aggregation.LATEST)
    IndicatorFactory(
        code="SICK_RATE", aggregation=Aggregation.RATIO, numerator=days, denominator=fte, scale=100
    )
    for unit, d, f in ((org.unit, 3, 10), (org.sibling, 1, 10), (org.unit_b1a, 6, 20)):
        for period in ("2026-01", "2026-02"):
            IndicatorValueFactory(indicator=days, unit=unit, period=period, value=d)
            IndicatorValueFactory(indicator=fte, unit=unit, period=period, value=f)
    IndicatorValueFactory(indicator=days, unit=org.dept_a1, period="2026-02", value=2)
    for unit in (org.unit, org.sibling):  # March: one of the three usual units is missing
        IndicatorValueFactory(indicator=days, unit=unit, period="2026-03", value=1)
        IndicatorValueFactory(indicator=fte, unit=unit, period="2026-03", value=10)
    client = api(org.employee)

    whole = client.get(
        "/indicators/SICK_RATE/series", period_from="2026-02", period_to="2026-02"
    ).json()
    assert (whole["aggregation"], whole["unit"], whole["scope"]) == ("ratio", "exec", "subtree")
    [series] = whole["series"]
    [point] = series["points"]
    assert point["period"] == "2026-02"
    assert point["value"] == 12 / 40 * 100  # Σ days ÷ Σ FTE, never a mean of ratios
    assert point["count"] == 4
    # Completeness is the one rule (units that usually report), judged against January even
    # though the answer starts in February: the three units of January all reported.
    assert point["completeness"] == 1.0
    march = client.get("/indicators/SICK_RATE/series", period_from="2026-03").json()
    [point] = march["series"][0]["points"]
    assert (point["period"], point["count"]) == ("2026-03", 2)
    judged = completeness(Indicator.objects.get(code="SICK_RATE"), org.root)["2026-03"]
    assert (judged.reported, judged.expected) == (2, 3)
    assert point["completeness"] == round(2 / 3, 4)

    own = client.get("/indicators/SICK_DAYS/series", unit="dept-a1", scope="own").json()
    assert [(p["period"], p["value"]) for p in own["series"][0]["points"]] == [("2026-02", 2.0)]

    children = client.get("/indicators/SICK_DAYS/series", unit="dept-a1", scope="children")
    assert children.status_code == 200
    by_unit = {s["unit"]: [p["value"] for p in s["points"]] for s in children.json()["series"]}
    assert by_unit["unit-a1a"] == [3.0, 3.0, 1.0]
    assert by_unit["unit-a1b"] == [1.0, 1.0, 1.0]

    # Its cost does not grow with the tree: the same queries for the root and a department.
    with django_assert_max_num_queries(12):
        assert client.get("/indicators/SICK_DAYS/series", scope="children").status_code == 200

    assert_error(client.get("/indicators/NOPE/series"), 404, "not_found")
    assert_error(client.get("/indicators/SICK_DAYS/series", unit="nowhere"), 400, "invalid")
    assert client.get("/indicators/SICK_DAYS/series", scope="everything").status_code == 422


def test_a_series_cached_in_one_process_is_not_read_after_another_process_wrote(
    api: Any, org: Any
) -> None:
    """With each server process's own cache (no Redis), a write committed by another process
    must stop this one answering from its cache: the key carries the data generation kept in
    the database, not a counter kept in the cache."""
    from django.db.models import F

    from pejling.core.models import DataGeneration
    from pejling.indicators.models import IndicatorRollup

    days = IndicatorFactory(code="SICK_DAYS")
    IndicatorValueFactory(indicator=days, unit=org.unit, period="2026-01", value=3)
    client = api(org.employee)

    def first_value() -> float:
        body = client.get("/indicators/SICK_DAYS/series", unit=org.unit.code, scope="own").json()
        return float(body["series"][0]["points"][0]["value"])

    assert first_value() == 3.0
    # Another process's write: its rows (no signal in this process) and, after its commit, its
    # raise of the stored generation. This process's own counter and cache know nothing of it.
    IndicatorValue.objects.filter(indicator=days, unit=org.unit).update(value=Decimal(5))
    IndicatorRollup.objects.filter(indicator=days, unit=org.unit).update(total=Decimal(5))
    assert first_value() == 3.0  # answered from this process's cache
    DataGeneration.objects.get_or_create(pk=1, defaults={"value": 0})
    DataGeneration.objects.filter(pk=1).update(value=F("value") + 1)
    assert first_value() == 5.0


# KPI files --------------------------------------------------------------------------------------

FILE = b"Indikator;Enhet;Period;V\xc3\xa4rde\nSICK_DAYS;unit-a1a;2026-02;4,5\nSICK_DAYS;unit-a1b;2026-02;2\n"


def _upload(client: Any, data: bytes, name: str = "values.csv", **fields: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.client.post("/api/v1/imports", {"file": SimpleUploadedFile(name, data), **fields})


def test_a_file_is_uploaded_checked_by_the_worker_and_confirmed(
    api: Any, org: Any, run_jobs: None
) -> None:
    IndicatorFactory(code="SICK_DAYS")
    client = api(org.office)
    answer = _upload(client, FILE)
    assert answer.status_code == 202, answer.content
    body = answer.json()
    batch = ImportBatch.objects.get(pk=body["batch"])
    assert body["url"] == f"http://testserver/api/v1/imports/{batch.pk}"
    assert (body["status"], body["rows"], body["errors_total"]) == ("preview", 2, 0)
    assert [(r["unit_code"], r["value"]) for r in body["preview"]] == [
        ("unit-a1a", "4.5"),
        ("unit-a1b", "2"),
    ]
    assert body["confirm_url"] == body["url"] + "/confirm"
    assert not IndicatorValue.objects.exists()
    polled = client.get(f"/imports/{batch.pk}").json()
    assert polled["status"] == "preview"

    confirmed = client.post(f"/imports/{batch.pk}/confirm")
    assert confirmed.status_code == 202, confirmed.content
    assert confirmed.json()["status"] == "done"
    assert (confirmed.json()["created"], confirmed.json()["confirm_url"]) == (2, None)
    assert IndicatorValue.objects.filter(period="2026-02").count() == 2
    # Confirming again writes nothing more.
    assert_error(client.post(f"/imports/{batch.pk}/confirm"), 409, "conflict")
    assert IndicatorValue.objects.filter(period="2026-02").count() == 2


def test_an_uploaded_file_with_bad_rows_reports_them(api: Any, org: Any, run_jobs: None) -> None:
    IndicatorFactory(code="SICK_DAYS")
    client = api(org.office)
    body = _upload(client, FILE.replace(b"unit-a1b", b"unit-zz")).json()
    assert (body["status"], body["errors_total"], body["confirm_url"]) == ("failed", 1, None)
    assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [
        (3, "unit", "unknown_unit")
    ]
    assert_error(client.post(f"/imports/{body['batch']}/confirm"), 409, "conflict")


def test_an_upload_waits_for_the_worker_and_says_so(api: Any, org: Any) -> None:
    IndicatorFactory(code="SICK_DAYS")
    body = _upload(api(org.office), FILE, indicator="SICK_DAYS").json()
    assert (body["status"], body["phase"], body["rows"]) == ("checking", "queued", 0)
    assert ImportBatch.objects.get(pk=body["batch"]).default_indicator.code == "SICK_DAYS"


def test_only_the_strategy_office_uploads_and_reads_imports(api: Any, org: Any) -> None:
    assert_error(_upload(api(org.head), FILE), 403, "forbidden")
    assert_error(_upload(api(org.office, scope="read"), FILE), 403, "read_only_token")
    assert_error(api(org.head).get("/imports/1"), 403, "forbidden")
    assert_error(api(org.office).get("/imports/99999"), 404, "not_found")
    assert_error(api(org.office).post("/imports/99999/confirm"), 404, "not_found")
    assert not ImportBatch.objects.exists()


def test_an_upload_without_a_file_or_of_another_kind_is_refused(api: Any, org: Any) -> None:
    client = api(org.office)
    assert_error(client.client.post("/api/v1/imports", {}), 400, "invalid")
    assert_error(_upload(client, b"%PDF-1.4", name="values.pdf"), 400, "invalid")
    assert_error(_upload(client, FILE, indicator="NOPE"), 400, "invalid")
    assert not ImportBatch.objects.exists()


def test_more_values_than_one_request_takes_point_at_the_file_endpoint(api: Any, org: Any) -> None:
    from pejling.api.endpoints.indicators import MAX_VALUES_PER_REQUEST

    value = {"indicator": "SICK_DAYS", "unit": "unit-a1a", "period": "2026-01", "value": 1}
    body = assert_error(
        api(org.office).post("/values", {"values": [value] * (MAX_VALUES_PER_REQUEST + 1)}),
        400,
        "too_many_values",
    )
    assert "/api/v1/imports" in body["message"]
    assert not ImportBatch.objects.exists()


def test_a_series_is_cached_under_a_key_memcached_takes(api: Any, org: Any) -> None:
    """The key once held the JSON of its parts, spaces and all (Django's CacheKeyWarning)."""
    import warnings

    from django.core.cache.backends.base import CacheKeyWarning

    days = IndicatorFactory(code="SICK_DAYS")
    IndicatorValueFactory(indicator=days, unit=org.unit, period="2026-01", value=3)
    client = api(org.employee)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        for _ in range(2):  # computed, then read from the cache
            answer = client.get(
                "/indicators/SICK_DAYS/series", unit=org.unit.code, period_from="2026-01"
            )
            assert answer.status_code == 200
