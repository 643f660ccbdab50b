"""Indicators run from the browser: administration, goal links, completeness and staleness,
header names, the import template, and national statistics fetched through the pages (search,
pick, sum, map areas, preview, fetch now, the schedule), against recorded answers only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from pejling.indicators import completeness, national, services
from pejling.indicators.evaluation import evaluate_kpi
from pejling.indicators.models import (
    Aggregation,
    AreaMapping,
    FetchStatus,
    Indicator,
    IndicatorValue,
    KpiGoal,
    Schedule,
    SourceFetch,
)
from pejling.indicators.tasks import enqueue_due, run_fetch
from tests.factories import IndicatorFactory, IndicatorValueFactory
from tests.indicators.recorded import RecordedSources

pytestmark = pytest.mark.django_db


def login(client: Any, user: Any) -> Any:
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def recorded() -> Iterator[RecordedSources]:
    sources = RecordedSources().install()
    yield sources
    sources.uninstall()


# Administration ------------------------------------------------------------------------------


def test_the_office_creates_an_indicator_with_names_in_each_language(client, org) -> None:
    login(client, org.office)
    response = client.post(
        reverse("indicators:indicator_new"),
        {
            "code": "SJUKDAGAR",
            "name": "Sick days",
            "name_sv": "Sjukdagar",
            "name_da": "Sygedage",
            "name_nb": "Sykedager",
            "measure_unit": "days",
            "direction": "lower",
            "periodicity": "month",
            "aggregation": "sum",
            "scale": "1",
            "reported_by": "Lönekontoret",
            "update_frequency": "31",
        },
    )
    assert response.status_code == 302, text(response)
    indicator = Indicator.objects.get(code="SJUKDAGAR")
    assert indicator.names == {"sv": "Sjukdagar", "da": "Sygedage", "nb": "Sykedager"}
    assert indicator.update_frequency == 31 and indicator.reported_by == "Lönekontoret"
    assert indicator.history.count() == 1
    with translation.override("da"):
        assert indicator.display_name == "Sygedage"
    with translation.override("en"):
        assert indicator.display_name == "Sick days"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"aggregation": "ratio"}, "A ratio needs a numerator and a denominator."),
        ({"aggregation": "weighted_mean"}, "A weighted mean needs a weight measure."),
        ({"code": "två ord"}, "A code has letters a–z"),
        ({"code": "new"}, "is a word the addresses use"),
    ],
)
def test_a_bad_indicator_is_refused_in_words(client, org, changes, message) -> None:
    login(client, org.office)
    data = {
        "code": "X1",
        "name": "X",
        "measure_unit": "count",
        "direction": "higher",
        "periodicity": "month",
        "aggregation": "sum",
        "scale": "1",
    } | changes
    response = client.post(reverse("indicators:indicator_new"), data)
    assert response.status_code == 200
    assert message in text(response)
    assert not Indicator.objects.filter(code=data["code"]).exists()


def test_only_the_office_administers_indicators(client, org) -> None:
    indicator = IndicatorFactory(code="SICK")
    login(client, org.head)
    assert client.get(reverse("indicators:indicator_new")).status_code == 403
    assert client.get(reverse("indicators:indicator_edit", args=["SICK"])).status_code == 403
    assert client.post(reverse("indicators:indicator_archive", args=["SICK"])).status_code == 403
    indicator.refresh_from_db()
    assert indicator.archived_at is None


def test_an_indicator_with_values_is_archived_not_removed(client, org) -> None:
    indicator = IndicatorFactory(code="SICK", name="Sick days")
    IndicatorValueFactory(indicator=indicator, unit=org.unit, period="2019-03", value=3)
    login(client, org.office)
    response = client.post(reverse("indicators:indicator_delete", args=["SICK"]), follow=True)
    assert "has values: archive it instead" in text(response)
    assert Indicator.objects.filter(code="SICK").exists()
    client.post(
        reverse("indicators:indicator_archive", args=["SICK"]), {"archived": "1"}, follow=True
    )
    indicator.refresh_from_db()
    assert indicator.is_archived
    listing = text(client.get(reverse("indicators:indicator_list")))
    assert "Sick days" not in listing
    assert "Sick days" in text(client.get(reverse("indicators:indicator_list") + "?archived=1"))
    client.post(reverse("indicators:indicator_archive", args=["SICK"]), {"archived": "0"})
    indicator.refresh_from_db()
    assert not indicator.is_archived
    empty = IndicatorFactory(code="EMPTY")
    client.post(reverse("indicators:indicator_delete", args=["EMPTY"]))
    assert not Indicator.objects.filter(pk=empty.pk).exists()


def test_the_code_is_fixed_once_the_indicator_exists(client, org) -> None:
    IndicatorFactory(code="SICK", name="Sick days")
    login(client, org.office)
    data = {
        "code": "OTHER",
        "name": "Sick days, all",
        "measure_unit": "days",
        "direction": "lower",
        "periodicity": "month",
        "aggregation": "sum",
        "scale": "1",
    }
    client.post(reverse("indicators:indicator_edit", args=["SICK"]), data)
    assert Indicator.objects.get(code="SICK").name == "Sick days, all"
    assert not Indicator.objects.filter(code="OTHER").exists()


# Goals -----------------------------------------------------------------------------------------


def test_the_office_links_a_goal_from_its_page(client, org, cascade) -> None:
    indicator = IndicatorFactory(code="SICK", name="Sick days")
    goal = cascade.goal_2
    login(client, org.office)
    panel = text(client.get(reverse("indicators:goal_panel", args=[goal.pk])))
    assert "No indicator is linked to this goal." in panel
    assert reverse("indicators:goal_link", args=[goal.pk]) in panel
    response = client.post(
        reverse("indicators:goal_link", args=[goal.pk]),
        {
            "indicator": indicator.pk,
            "unit": org.centre_a.pk,
            "baseline_value": "14.9",
            "baseline_date": "2025-01-01",
            "target_value": "12",
            "target_date": "2026-12-31",
            "version": goal.version,
        },
    )
    assert response.status_code == 302, text(response)
    goal.refresh_from_db()
    assert goal.measure_kind == "kpi" and goal.target_value == Decimal("12")
    assert goal.baseline_value == Decimal("14.9")
    kpi = KpiGoal.objects.get(goal=goal)
    assert kpi.indicator == indicator and kpi.unit == org.centre_a


def test_a_stale_goal_link_is_refused_and_keeps_the_input(client, org, cascade) -> None:
    indicator = IndicatorFactory(code="SICK")
    goal = cascade.goal_2
    login(client, org.office)
    data = {
        "indicator": indicator.pk,
        "baseline_value": "10",
        "baseline_date": "2025-01-01",
        "target_value": "8",
        "target_date": "2026-12-31",
        "version": goal.version,
    }
    assert client.post(reverse("indicators:goal_link", args=[goal.pk]), data).status_code == 302
    second = client.post(
        reverse("indicators:goal_link", args=[goal.pk]), data | {"target_value": "7"}
    )
    assert second.status_code == 200
    goal.refresh_from_db()
    assert goal.target_value == Decimal("8")


def test_others_cannot_link_goals(client, org, cascade) -> None:
    login(client, org.head)
    assert client.get(reverse("indicators:goal_link", args=[cascade.goal_2.pk])).status_code == 403
    panel = text(client.get(reverse("indicators:goal_panel", args=[cascade.goal_2.pk])))
    assert reverse("indicators:goal_link", args=[cascade.goal_2.pk]) not in panel


# Completeness and staleness ------------------------------------------------------------------


@pytest.fixture
def monthly(org) -> Indicator:
    """Four units report 2019-01..03; only one has a value for 2019-04 (the cliff)."""
    indicator = IndicatorFactory(code="SICK", name="Sick days", direction="lower")
    units = [org.unit, org.sibling, org.unit_a2a, org.unit_b1a]
    for month in ("2019-01", "2019-02", "2019-03"):
        for unit in units:
            IndicatorValueFactory(indicator=indicator, unit=unit, period=month, value=300)
    IndicatorValueFactory(indicator=indicator, unit=org.unit, period="2019-04", value=46)
    return indicator


def test_a_period_where_few_usual_units_report_is_incomplete(org, monthly) -> None:
    judged = completeness.completeness(monthly, org.root)
    assert [c.complete for c in judged.values()] == [True, True, True, False]
    april = judged["2019-04"]
    assert (april.reported, april.expected) == (1, 4)
    assert set(april.missing) == {org.sibling.pk, org.unit_a2a.pk, org.unit_b1a.pk}
    # Within a centre, only its own units count.
    assert "2019-04" not in completeness.completeness(monthly, org.centre_b)
    assert completeness.completeness(monthly, org.dept_a1)["2019-04"].expected == 2


def test_judge_needs_two_of_three_earlier_periods() -> None:
    judged = completeness.judge(
        [("a", {1, 2, 3}), ("b", {1, 2}), ("c", {1, 2}), ("d", {1, 2}), ("e", {1})]
    )
    assert judged["b"].expected == 3 and not judged["b"].complete
    assert judged["d"].expected == 2 and judged["d"].complete  # 3 left two periods ago
    assert (judged["e"].reported, judged["e"].expected) == (1, 2)


def test_the_page_marks_the_incomplete_period_in_chart_and_breakdown(client, org, monthly) -> None:
    login(client, org.employee)
    page = text(client.get(reverse("indicators:indicator_detail", args=["SICK"])))
    assert "Incomplete: 1 of the 4 units that usually report have values for 2019-04." in page
    assert "Incomplete: values from 1 of 4 units" in page  # the chart's table
    assert "An orange triangle marks a period" in page
    assert "1/4" in page  # the label on the chart itself
    march = text(
        client.get(reverse("indicators:indicator_detail", args=["SICK"]) + "?period=2019-03")
    )
    assert "Complete: 4 of 4 units that usually report have values." in march


def test_goal_evaluation_uses_the_last_complete_period_and_says_so(org, cascade, monthly) -> None:
    kpi = KpiGoal.objects.create(goal=cascade.goal_1, indicator=monthly)
    with translation.override("en"):
        evaluation = evaluate_kpi(cascade.goal_1, kpi, org.root, today=date(2019, 5, 1))
    assert evaluation.latest_period == "2019-03"
    assert evaluation.value == 1200
    assert [c.period for c in evaluation.incomplete] == ["2019-04"]
    assert (
        "Judged on 2019-03, the last complete period; 2019-04 has values from 1 of 4 units."
        in evaluation.reason
    )
    assert evaluation.as_dict()["incomplete_periods"] == [
        {"period": "2019-04", "reported": 1, "expected": 4}
    ]


def test_goals_evaluated_together_judge_completeness_and_staleness_as_one_goal_alone(
    org, cascade, monthly
) -> None:
    from pejling.indicators.evaluation import kpi_goals, kpi_inputs

    monthly.update_frequency = 31
    monthly.save()
    KpiGoal.objects.create(goal=cascade.goal_1, indicator=monthly)
    today = date(2019, 7, 1)
    goals = [g for g in kpi_goals() if g.pk == cascade.goal_1.pk]
    inputs = kpi_inputs(goals, org.root, today)[cascade.goal_1.pk]
    together = evaluate_kpi(goals[0], goals[0].kpi, org.root, today=today, **inputs)
    alone = evaluate_kpi(goals[0], goals[0].kpi, org.root, today=today)
    assert together.as_dict() == alone.as_dict()
    assert together.latest_period == "2019-03" and together.outdated == alone.outdated
    assert together.outdated is not None and together.outdated.newest_period == "2019-04"


def test_an_indicator_older_than_its_update_frequency_is_outdated(client, org, monthly) -> None:
    today = timezone.localdate()
    assert completeness.outdated(monthly, today) is None  # no frequency expected
    monthly.update_frequency = 31
    monthly.save()
    stale = completeness.outdated(monthly, today)
    assert stale is not None and stale.newest_period == "2019-04"
    assert stale.due == date(2019, 4, 30) + timedelta(days=31)
    assert completeness.outdated(monthly, date(2019, 5, 20)) is None
    login(client, org.employee)
    assert "Outdated" in text(client.get(reverse("indicators:indicator_list")))
    assert "Outdated: the newest value is for 2019-04" in text(
        client.get(reverse("indicators:indicator_detail", args=["SICK"]))
    )


def test_the_import_preview_says_the_month_is_incomplete(client, org, monthly, settings) -> None:
    from pejling.indicators.models import ImportBatch
    from pejling.indicators.tasks import run_check

    login(client, org.office)
    upload = SimpleUploadedFile(
        "may.csv",
        b"Measure;Unit;Period;Value\nSICK;unit-a1a;2019-05;40\nSICK;unit-a1b;2019-05;41\n",
    )
    client.post(reverse("indicators:import_new"), {"file": upload})
    batch = ImportBatch.objects.get()
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    run_check.enqueue(batch.pk)  # the worker's check
    response = client.get(reverse("indicators:import_detail", args=[batch.pk]))
    page = text(response)
    assert "The file is valid: 2 rows." in page  # a header called Measure is the indicator
    assert "Some periods will be incomplete" in page
    assert "Sick days, 2019-05: values from 2 of the 4 units that usually report" in page


@pytest.mark.parametrize(
    "header", ["measure", "KPI", "Nøgletal", "NOEGLETAL", "nøkkeltall", "Nyckeltal", "Indikator"]
)
def test_the_indicator_column_has_the_names_people_use(org, header) -> None:
    from pejling.indicators.sources import parse_csv_text

    result = parse_csv_text(f"{header};enhet;period;värde\nSICK;unit-a1a;2019-05;4\n")
    assert result.ok, result.errors
    assert result.observations[0].indicator == "SICK"


@pytest.mark.parametrize("language", ["sv", "da", "nb", "en"])
def test_the_template_file_reads_back_in_every_language(client, org, language) -> None:
    IndicatorFactory(code="SICK")
    login(client, org.office)
    with translation.override(language):
        response = client.get(
            reverse("indicators:import_template") + "?format=csv", HTTP_ACCEPT_LANGUAGE=language
        )
    assert response.status_code == 200
    from pejling.indicators.sources import parse_table_file

    result = parse_table_file(response.content, "template.csv")
    assert result.ok, result.errors
    assert {o.indicator for o in result.observations} == {"SICK"}
    xlsx = client.get(reverse("indicators:import_template") + "?format=xlsx")
    assert parse_table_file(xlsx.content, "template.xlsx").ok


# National statistics -------------------------------------------------------------------------


@pytest.fixture
def population(org) -> Indicator:
    return IndicatorFactory(
        code="FOLK",
        name="Population",
        measure_unit="count",
        periodicity="quarter",
        aggregation=Aggregation.LATEST,
        direction="higher",
    )


def test_search_statbank_tables(client, org, population, recorded) -> None:
    login(client, org.office)
    url = reverse("indicators:fetch_new", args=["FOLK"])
    page = text(client.get(url, {"source": "statbank", "q": "befolkningen kvartalet"}))
    assert "FOLK1A: Befolkningen den 1. i kvartalet" in page
    assert "SYGFRA1" not in page


def test_search_kolada_and_ssb(org, recorded) -> None:
    hits = national.search("kolada", "sjukfrånvaro")
    assert "N00090" in {h.id for h in hits}
    assert recorded.requests[0][1].startswith("https://api.kolada.se/v3/kpi?title=")
    assert [h.id for h in national.search("ssb", "befolkning")][:1] == ["07459"]


def test_pick_shows_the_breakdowns_and_the_areas(client, org, population, recorded) -> None:
    AreaMapping.objects.create(source="statbank", area="101", label="København", unit=org.centre_a)
    login(client, org.office)
    page = text(
        client.get(
            reverse("indicators:fetch_new", args=["FOLK"]),
            {"source": "statbank", "series": "FOLK1A"},
        )
    )
    assert "FOLK1A: Befolkningen den 1. i kvartalet" in page
    for dimension in ("køn", "alder", "civilstand"):
        assert f">{dimension}:<" in page
    assert 'name="area-101" value="centre-a"' in page  # the stored mapping is reused
    assert "Frederiksberg" in page


def _series_post(**extra: str) -> dict[str, str]:
    return {
        "source": "statbank",
        "series": "FOLK1A",
        "dim-KØN": "__sum__",
        "dim-ALDER": "__sum__",
        "dim-CIVILSTAND": "TOT",
        "periods": ["2024K1", "2024K2"],
        "schedule": "weekly",
        "area-101": "centre-a",
        "area-147": "centre-b",
        **extra,
    }


def test_preview_sums_what_is_not_mapped_and_writes_nothing(
    client, org, population, recorded
) -> None:
    login(client, org.office)
    url = reverse("indicators:fetch_new", args=["FOLK"])
    page = text(client.post(url, _series_post(action="preview")))
    assert "Preview: the first rows as they would be stored" in page
    assert "6 values in the answer, 4 for our units" in page
    assert "KØN: 2 values are summed." in page
    assert "ALDER: the source's own total (IALT) is used." in page
    assert str(321548 + 331012) in page
    assert not IndicatorValue.objects.exists()
    assert not SourceFetch.objects.exists()
    # The mapping is kept as data (and used by fetch-kpi too).
    assert national.stored_mapping("statbank") == {"101": "centre-a", "147": "centre-b"}
    body = recorded.requests[-1][2]
    assert {"code": "KØN", "values": ["*"]} in body["variables"]
    assert {"code": "OMRÅDE", "values": ["101", "147"]} in body["variables"]


def test_save_fetch_now_and_the_outcome_on_the_page(
    client, org, population, recorded, django_capture_on_commit_callbacks
) -> None:
    login(client, org.office)
    url = reverse("indicators:fetch_new", args=["FOLK"])
    response = client.post(url, _series_post(action="save"))
    fetch = SourceFetch.objects.get()
    assert response.status_code == 302 and response.url == fetch.get_absolute_url()
    assert fetch.sums == ["KØN", "ALDER"] and fetch.picks == {"CIVILSTAND": "TOT"}
    assert fetch.next_run_at is not None and fetch.schedule == Schedule.WEEKLY
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("indicators:fetch_run", args=[fetch.pk]))
    fetch.refresh_from_db()
    assert fetch.status == FetchStatus.QUEUED and callbacks
    # A second "fetch now" while it is queued is refused.
    refused = text(client.post(reverse("indicators:fetch_run", args=[fetch.pk]), follow=True))
    assert "already queued or running" in refused
    # The worker runs it.
    assert run_fetch.call(fetch.pk, org.office.pk) == "done", SourceFetch.objects.get().last_errors
    fetch.refresh_from_db()
    assert (fetch.last_fetched, fetch.last_kept, fetch.last_created) == (6, 4, 4)
    stored = dict(
        IndicatorValue.objects.filter(indicator=population)
        .values_list("unit__code", "period")
        .annotate()
        .values_list("period", "value")
        .filter(unit=org.centre_a)
    )
    assert stored["2024Q1"] == Decimal(321548 + 331012)
    page = text(client.get(fetch.get_absolute_url()))
    assert "Fetched" in page and "Values for our units</dt><dd>4" in page
    # The picks by the source's names, the code beside the value.
    assert "<dt>civilstand</dt><dd>I alt (TOT)</dd>" in page
    assert "<dt>køn</dt><dd>Sum over all (the source" in page
    detail = text(client.get(population.get_absolute_url()))
    assert "Fetched from national statistics" in detail and "4 created, 0 updated" in detail
    # Again: nothing changed, nothing written.
    run_fetch.call(fetch.pk, None)
    fetch.refresh_from_db()
    assert (fetch.last_created, fetch.last_updated, fetch.status) == (0, 0, "done")


def test_a_broken_answer_is_recorded_as_the_outcome(org, population, recorded) -> None:
    AreaMapping.objects.create(source="statbank", area="101", unit=org.centre_a)
    fetch = SourceFetch.objects.create(
        indicator=population,
        source="statbank",
        series="FOLK1A",
        area_dimension="OMRÅDE",
        time_dimension="Tid",
    )
    recorded.overrides[("statbank", "/data")] = (
        "OMRÅDE;KØN;TID;INDHOLD\r\n101;1;2024K1;12\r\n101;2;2024K1;13\r\n".encode()
    )
    fetching_result = run_fetch.call(fetch.pk, None)
    fetch.refresh_from_db()
    assert fetching_result == "failed" and fetch.status == FetchStatus.FAILED
    assert any("several values" in e or "KØN" in e for e in fetch.last_errors), fetch.last_errors
    assert not IndicatorValue.objects.exists()


def test_summing_is_refused_where_values_do_not_add_up(client, org, recorded) -> None:
    IndicatorFactory(
        code="SHARE", measure_unit="percent", aggregation=Aggregation.MEAN, periodicity="quarter"
    )
    login(client, org.office)
    response = client.post(
        reverse("indicators:fetch_new", args=["SHARE"]), _series_post(action="save")
    )
    assert "Only values that add up" in text(response)
    assert not SourceFetch.objects.exists()


def test_ssb_from_the_browser_sums_sex_and_age(org, population, recorded) -> None:
    info = national.describe("ssb", "07459")
    assert {d.id for d in info.others} == {"Kjonn", "Alder", "ContentsCode"}
    area = info.dimension("area")
    assert area is not None and [c.code for c in area.categories][:2] == ["0301", "4601"]
    assert next(d for d in info.others if d.id == "Kjonn").total.code == "0"
    AreaMapping.objects.create(source="ssb", area="0301", unit=org.centre_a)
    population.periodicity = "year"
    population.save()
    fetch = SourceFetch.objects.create(
        indicator=population,
        source="ssb",
        series="07459",
        area_dimension="Region",
        time_dimension="Tid",
        picks={"ContentsCode": "Personer1"},
        sums=["Kjonn", "Alder"],
    )
    assert run_fetch.call(fetch.pk, None) == "done"
    values = dict(IndicatorValue.objects.filter(unit=org.centre_a).values_list("period", "value"))
    assert values["2023"] == Decimal(3490 + 3312 + 3402 + 3251 + 3361 + 3198)


def test_kolada_describe_and_fetch(org, recorded) -> None:
    info = national.describe("kolada", "N00090")
    assert info.label.startswith("Sjukfrånvaro")
    assert len(info.dimension("area").categories) == 312
    sick = IndicatorFactory(
        code="SJUK", measure_unit="percent", periodicity="year", aggregation=Aggregation.MEAN
    )
    AreaMapping.objects.create(source="kolada", area="0180", unit=org.centre_a)
    fetch = SourceFetch.objects.create(
        indicator=sick,
        source="kolada",
        series="N00090",
        picks={"gender": "T"},
        periods=["2023", "2024"],
    )
    assert run_fetch.call(fetch.pk, None) == "done"
    assert dict(IndicatorValue.objects.values_list("period", "value")) == {
        "2023": Decimal("7.4"),
        "2024": Decimal("7.1"),
    }


def test_a_source_that_does_not_answer_is_said_in_words(client, org, population) -> None:
    RecordedSources().uninstall()  # the network is never reached: the opener refuses

    class Refusing:
        def open(self, *args: Any, **kwargs: Any) -> Any:
            raise OSError("connection refused")

    national.use_opener(Refusing())
    try:
        login(client, org.office)
        page = text(
            client.get(
                reverse("indicators:fetch_new", args=["FOLK"]), {"source": "statbank", "q": "folk"}
            )
        )
    finally:
        national.use_opener(None)
    assert "The source could not be asked" in page and "connection refused" in page


def test_the_schedule_queues_due_fetches_once(
    org, population, django_capture_on_commit_callbacks
) -> None:
    now = timezone.now()
    due = SourceFetch.objects.create(
        indicator=population,
        source="statbank",
        series="FOLK1A",
        schedule=Schedule.DAILY,
        next_run_at=now - timedelta(minutes=1),
    )
    SourceFetch.objects.create(
        indicator=population,
        source="statbank",
        series="FOLK1A",
        schedule=Schedule.DAILY,
        next_run_at=now + timedelta(hours=1),
    )
    SourceFetch.objects.create(
        indicator=population,
        source="statbank",
        series="FOLK1A",
        schedule=Schedule.MANUAL,
        next_run_at=now - timedelta(days=1),
    )
    with django_capture_on_commit_callbacks(execute=False):
        assert enqueue_due(now) == [due.pk]
        assert enqueue_due(now) == []  # queued already
    due.refresh_from_db()
    assert due.status == FetchStatus.QUEUED
    assert services.next_run("weekly", now) > now + timedelta(days=6)
    assert services.next_run("manual", now) is None


def test_fetch_kpi_uses_the_stored_mapping_and_sums(org, population, recorded) -> None:
    AreaMapping.objects.create(source="statbank", area="151", unit=org.centre_b)
    out = StringIO()
    call_command(
        "fetch-kpi",
        "--source",
        "statbank",
        "--indicator",
        "FOLK",
        "--table",
        "FOLK1A",
        "--sum",
        "KØN",
        "--sum",
        "ALDER",
        "--period",
        "2024K1",
        stdout=out,
    )
    assert "KØN: 2 values summed." in out.getvalue()
    assert "ALDER: the source's total 'IALT' is used." in out.getvalue()
    assert IndicatorValue.objects.get(unit=org.centre_b, period="2024Q1").value == 25092 + 24809


def test_fetch_kpi_refuses_sums_for_a_mean(org, recorded) -> None:
    from django.core.management import CommandError

    IndicatorFactory(code="SHARE", aggregation=Aggregation.MEAN)
    with pytest.raises(CommandError, match="Only values that add up"):
        call_command(
            "fetch-kpi",
            "--source",
            "statbank",
            "--indicator",
            "SHARE",
            "--table",
            "FOLK1A",
            "--sum",
            "KØN",
            "--map",
            "101=exec",
        )


def test_upload_completeness_reads_the_fast_readers_frame(org, monthly) -> None:
    import polars as pl

    from pejling.indicators.imports import Checked

    frame = pl.DataFrame(
        {
            "indicator_id": [monthly.pk, monthly.pk],
            "unit_id": [org.unit.pk, org.sibling.pk],
            "period": ["2019-05", "2019-05"],
            "period_start": [date(2019, 5, 1), date(2019, 5, 1)],
            "period_end": [date(2019, 5, 31), date(2019, 5, 31)],
            "value": ["1", "2"],
        }
    )
    incoming = completeness.incoming_units(Checked([], [], [], frame=frame))
    assert incoming == {(monthly.pk, "2019-05", date(2019, 5, 1)): {org.unit.pk, org.sibling.pk}}
    judged = completeness.of_upload(incoming)[(monthly.pk, "2019-05")]
    # April had one unit, March four: the usual units are those of two of the three before.
    assert (judged.reported, judged.expected) == (2, 4)
