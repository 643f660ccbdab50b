"""Indicator pages through the test client: list, detail with drill-down, the goal and unit
panels (as htmx fragments and as whole pages), and the upload → preview → confirm flow."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pejling.audit.trail import AuditFilters, audit_page
from pejling.core.models import ChangeVia
from pejling.indicators import views
from pejling.indicators.evaluation import Status
from pejling.indicators.models import (
    Aggregation,
    ImportBatch,
    ImportStatus,
    Indicator,
    IndicatorValue,
    KpiGoal,
)
from tests.factories import IndicatorFactory, IndicatorValueFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
GOOD = b"Nyckeltal;Enhet;Period;V\xc3\xa4rde\nSICK;unit-a1a;2019-05;4,5\nSICK;unit-a1b;2019-05;2\nFTE;unit-a1a;2019-05;3\n"
BAD = b"indicator;unit;period;value\nSICK;unit-a1a;2019-05;4\nSICK;unit-zz;2019-05;2\nSICK;unit-a1b;2019-13;1\n"


def login(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


@pytest.fixture
def kpis(org: Any) -> dict[str, Indicator]:
    days = IndicatorFactory(code="SICK", name="Sick days")
    fte = IndicatorFactory(
        code="FTE", name="FTEs", measure_unit="fte", aggregation=Aggregation.LATEST
    )
    ratio = IndicatorFactory(
        code="SICK_PER_FTE",
        name="Sick days per FTE",
        aggregation=Aggregation.RATIO,
        numerator=days,
        denominator=fte,
        scale=12,
        measure_unit="days_per_fte",
    )
    for period in ("2019-03", "2019-04"):
        for unit, d, f in (
            (org.centre_a, 2, 10),
            (org.unit, 10, 5),
            (org.unit_a2a, 8, 1),
            (org.unit_b1a, 20, 4),
        ):
            IndicatorValueFactory(indicator=days, unit=unit, period=period, value=d)
            IndicatorValueFactory(indicator=fte, unit=unit, period=period, value=f)
    return {"days": days, "fte": fte, "ratio": ratio}


def test_the_indicator_list_shows_every_indicator(
    client: Any, org: Any, kpis: dict[str, Indicator]
) -> None:
    response = login(client, org.employee).get(reverse("indicators:indicator_list"))
    assert response.status_code == 200
    for indicator in kpis.values():
        assert indicator.name in response.content.decode()


def test_an_indicator_page_shows_the_organisation_and_its_breakdown_for_the_latest_period(
    client: Any, org: Any, kpis: dict[str, Indicator]
) -> None:
    response = login(client, org.employee).get(kpis["ratio"].get_absolute_url())
    assert response.status_code == 200
    assert response.context["unit"] == org.root
    assert response.context["period"] == "2019-04"
    breakdown = response.context["breakdown"]
    # (2 + 10 + 8 + 20) / (10 + 5 + 1 + 4) × 12 = 24
    assert breakdown.total == Decimal(24)
    assert [(u.code, v) for u, v in breakdown.children] == [
        ("centre-a", Decimal(20) / Decimal(16) * 12),
        ("centre-b", Decimal(60)),
    ]
    html = response.content.decode()
    assert "<svg" in html
    assert "?unit=centre-a&amp;period=2019-04" in html


def test_drilling_down_moves_to_a_child_and_keeps_the_period(
    client: Any, org: Any, kpis: dict[str, Indicator]
) -> None:
    client = login(client, org.employee)
    url = kpis["ratio"].get_absolute_url()
    response = client.get(url, {"unit": "centre-a", "period": "2019-03"})
    assert response.status_code == 200
    assert response.context["period"] == "2019-03"
    assert [a.code for a in response.context["ancestors"]] == ["exec"]
    breakdown = response.context["breakdown"]
    assert breakdown.own == Decimal("2.4")  # 2 / 10 × 12
    assert [(u.code, v) for u, v in breakdown.children] == [
        ("dept-a1", Decimal(24)),
        ("dept-a2", Decimal(96)),
    ]
    deeper = client.get(url, {"unit": "dept-a1", "period": "2019-03"})
    assert deeper.status_code == 200
    assert [a.code for a in deeper.context["ancestors"]] == ["exec", "centre-a"]
    assert [(u.code, v) for u, v in deeper.context["breakdown"].children] == [
        ("unit-a1a", Decimal(24)),
        ("unit-a1b", None),
    ]


def test_an_unknown_period_falls_back_to_the_latest_and_an_unknown_unit_is_404(
    client: Any, org: Any, kpis: dict[str, Indicator]
) -> None:
    client = login(client, org.employee)
    url = kpis["days"].get_absolute_url()
    assert client.get(url, {"period": "1999-01"}).context["period"] == "2019-04"
    assert client.get(url, {"unit": "nowhere"}).status_code == 404
    assert client.get(reverse("indicators:indicator_detail", args=["NOPE"])).status_code == 404


def test_an_indicator_without_values_says_so(client: Any, org: Any) -> None:
    empty = IndicatorFactory(code="EMPTY")
    response = login(client, org.employee).get(empty.get_absolute_url())
    assert response.status_code == 200
    assert response.context["chart"] is None and response.context["breakdown"] is None


def test_pages_need_a_login(client: Any, org: Any, kpis: dict[str, Indicator]) -> None:
    response = client.get(reverse("indicators:indicator_list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.fixture
def kpi_goal(cascade: Any, kpis: dict[str, Indicator]) -> Any:
    KpiGoal.objects.create(goal=cascade.goal_1, indicator=kpis["ratio"])
    return cascade.goal_1


def test_the_goal_panel_is_a_fragment_for_htmx_and_a_page_without(
    client: Any, org: Any, kpi_goal: Any
) -> None:
    client = login(client, org.employee)
    url = reverse("indicators:goal_panel", args=[kpi_goal.pk])
    fragment = client.get(url, **HTMX)
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "<html" not in html
    assert 'id="goal-panel-heading"' in html
    assert "<svg" in html
    evaluation = fragment.context["evaluation"]
    assert evaluation.value == pytest.approx(24.0)
    assert evaluation.status != Status.NO_DATA
    page = client.get(url)
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert 'id="goal-panel-heading"' in page.content.decode()
    assert kpi_goal.title in page.content.decode()


def test_the_goal_panel_of_a_goal_without_indicator_shows_no_data(
    client: Any, org: Any, cascade: Any
) -> None:
    response = login(client, org.employee).get(
        reverse("indicators:goal_panel", args=[cascade.goal_1.pk]), **HTMX
    )
    assert response.status_code == 200
    assert response.context["evaluation"].status == Status.NO_DATA
    assert response.context["chart"] is None


def test_the_unit_panel_charts_every_indicator_with_values_below_the_unit(
    client: Any, org: Any, kpis: dict[str, Indicator]
) -> None:
    client = login(client, org.employee)
    url = reverse("indicators:unit_panel", args=["centre-a"])
    fragment = client.get(url, **HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert [i.code for i, _chart in fragment.context["items"]] == ["FTE", "SICK", "SICK_PER_FTE"]
    # The first charts are drawn at once, the others load as they scroll into view.
    html = fragment.content.decode()
    assert html.count("<svg") == views.INLINE_CHARTS == 2
    lazy = reverse("indicators:unit_chart", args=["centre-a", "SICK_PER_FTE"])
    assert f'hx-get="{lazy}" hx-trigger="revealed"' in html
    chart = client.get(lazy, **HTMX)
    assert chart.status_code == 200
    assert chart.content.decode().count("<svg") == 1
    assert "Sick days per FTE" in chart.content.decode()
    assert "<html" in client.get(lazy).content.decode()  # without JavaScript: a page
    assert (
        client.get(reverse("indicators:unit_chart", args=["unit-a1b", "SICK"])).status_code == 404
    )
    assert (
        client.get(reverse("indicators:unit_chart", args=["centre-a", "NONE"])).status_code == 404
    )
    page = client.get(url)
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    empty = client.get(reverse("indicators:unit_panel", args=["unit-a1b"]), **HTMX)
    assert empty.context["items"] == []
    assert client.get(reverse("indicators:unit_panel", args=["nowhere"])).status_code == 404


# Imports ----------------------------------------------------------------------------------------


def upload(client: Any, data: bytes, name: str = "values.csv", indicator: str = "") -> Any:
    return client.post(
        reverse("indicators:import_new"),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "indicator": indicator},
    )


@pytest.mark.parametrize("who", ["head", "employee", "parent_head", "executive", "outsider"])
def test_only_the_strategy_office_may_import(
    client: Any, org: Any, kpis: dict[str, Indicator], who: str
) -> None:
    batch = ImportBatch.objects.create(source="file", filename="x.csv", file="x.csv")
    client = login(client, getattr(org, who))
    assert client.get(reverse("indicators:import_list")).status_code == 403
    assert client.get(reverse("indicators:import_new")).status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert client.get(reverse("indicators:import_detail", args=[batch.pk])).status_code == 403
    assert client.post(reverse("indicators:import_confirm", args=[batch.pk])).status_code == 403
    assert ImportBatch.objects.count() == 1
    assert IndicatorValue.objects.filter(period="2019-05").count() == 0


def test_a_bad_upload_shows_every_problem_and_writes_nothing(
    client: Any, org: Any, kpis: dict[str, Indicator], run_jobs: None
) -> None:
    client = login(client, org.office)
    before = IndicatorValue.objects.count()
    response = upload(client, BAD)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("indicators:import_detail", args=[batch.pk])
    assert batch.status == ImportStatus.FAILED
    assert (batch.errors_total, batch.preview) == (2, [])
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert [(e.row, e.column, e.code) for e in detail.context["errors"]] == [
        (3, "unit", "unknown_unit"),
        (4, "period", "unknown_period"),
    ]
    assert detail.context["preview"] == []
    html = detail.content.decode()
    assert "unit-zz" in html and "<td>3</td>" in html and "<td>4</td>" in html
    assert 'action="' + reverse("indicators:import_confirm", args=[batch.pk]) not in html
    # Confirming a rejected file does nothing.
    client.post(reverse("indicators:import_confirm", args=[batch.pk]))
    assert IndicatorValue.objects.count() == before
    assert ImportBatch.objects.get().status == ImportStatus.FAILED


def test_a_good_upload_is_previewed_and_imported_on_confirmation(
    client: Any, org: Any, kpis: dict[str, Indicator], run_jobs: None
) -> None:
    client = login(client, org.office)
    before = IndicatorValue.objects.count()
    response = upload(client, GOOD)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.PREVIEW
    assert IndicatorValue.objects.count() == before
    detail = client.get(response["Location"])
    # Values as numbers, which the page writes in the reader's language.
    assert [(r["indicator"], r["unit_code"], r["value"]) for r in detail.context["preview"]] == [
        ("SICK", "unit-a1a", Decimal("4.5")),
        ("SICK", "unit-a1b", Decimal("2")),
        ("FTE", "unit-a1a", Decimal("3")),
    ]
    confirm_url = reverse("indicators:import_confirm", args=[batch.pk])
    assert f'action="{confirm_url}"' in detail.content.decode()
    assert client.get(confirm_url).status_code == 405
    done = client.post(confirm_url)
    assert done.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.updated, batch.created_by) == (
        ImportStatus.DONE,
        3,
        0,
        org.office,
    )
    assert IndicatorValue.objects.count() == before + 3
    assert IndicatorValue.objects.get(
        unit=org.unit, indicator=kpis["days"], period="2019-05"
    ).value == Decimal("4.5")
    listing = client.get(reverse("indicators:import_list"))
    assert listing.status_code == 200 and "values.csv" in listing.content.decode()
    # In the audit trail the values came from the web page, as their import did.
    trail, _more = audit_page(
        AuditFilters(model="indicators.indicatorvalue", person=org.office.username),
        after=None,
        limit=10,
    )
    # The import is recorded once (its batch), not a history row per new value; each value's
    # own trail names its import: who, when and from where (the web page).
    assert trail == []
    value = IndicatorValue.objects.filter(batch=batch).first()
    assert value is not None
    own, _more = audit_page(
        AuditFilters(model="indicators.indicatorvalue", object_id=value.pk),
        after=None,
        limit=10,
    )
    assert [(e.kind, e.who, e.source and e.source.via) for e in own] == [
        ("+", org.office, ChangeVia.WEB)
    ]
    # A second confirmation does not import again.
    client.post(confirm_url)
    batch.refresh_from_db()
    assert (batch.created, batch.updated) == (3, 0)


def test_a_file_without_indicator_column_is_uploaded_with_the_chosen_indicator(
    client: Any, org: Any, kpis: dict[str, Indicator], run_jobs: None
) -> None:
    client = login(client, org.office)
    upload(
        client, b"Enhet;Period;V\xc3\xa4rde\nunit-a1a;2019-05;7\n", indicator=str(kpis["fte"].pk)
    )
    batch = ImportBatch.objects.get()
    assert batch.default_indicator == kpis["fte"]
    client.post(reverse("indicators:import_confirm", args=[batch.pk]))
    assert IndicatorValue.objects.get(indicator=kpis["fte"], period="2019-05").value == 7


def test_the_upload_form_refuses_other_file_types(
    client: Any, org: Any, kpis: dict[str, Indicator]
) -> None:
    response = upload(login(client, org.office), b"%PDF-1.4", name="values.pdf")
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert ImportBatch.objects.count() == 0


IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_an_upload_is_checked_then_written_by_the_worker_while_its_page_polls(
    client: Any,
    org: Any,
    kpis: dict[str, Indicator],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django_tasks_db.models import DBTaskResult

    from pejling.indicators import imports
    from pejling.indicators.tasks import run_check, run_import

    settings.TASKS = DATABASE  # jobs wait in the queue until this test runs them
    client = login(client, org.office)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = upload(client, GOOD)
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("indicators:import_detail", args=[batch.pk])
    assert (batch.status, batch.rows_total, batch.preview) == (ImportStatus.CHECKING, 0, [])
    assert imports.stored.storage().exists(batch.file)
    assert DBTaskResult.objects.filter(task_path=run_check.module_path).count() == 1
    detail_url = reverse("indicators:import_detail", args=[batch.pk])

    # The page never reads the file: it shows what the worker kept.
    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the page parsed the file")

    with monkeypatch.context() as patched:
        for module in (imports.batches, imports.reading):
            patched.setattr(module, "scan_file", no_parsing)
        patched.setattr(imports.reading, "read_and_check", no_parsing)
        patched.setattr(imports.batches, "check_file", no_parsing)
        checking = client.get(detail_url)
        assert checking.status_code == 200
        html = checking.content.decode()
        assert 'hx-trigger="every 1s"' in html and "<progress" in html
        assert "Checking the file in the background" in html
        assert 'aria-live="polite"' in html
        polled = client.get(detail_url + "?seen=", **HTMX).content.decode()
        assert "<html" not in polled
        assert 'hx-swap-oob="innerHTML">Waiting for the background worker' in polled
        # Polled again in the same phase: the live region is not told again.
        seen = client.get(detail_url + "?seen=checking:queued", **HTMX).content.decode()
        assert "hx-swap-oob" not in seen

    settings.TASKS = IMMEDIATE
    run_check.enqueue(batch.pk)  # the worker takes the job
    batch.refresh_from_db()
    assert (batch.status, batch.rows_total, len(batch.preview)) == (ImportStatus.PREVIEW, 3, 3)
    with monkeypatch.context() as patched:
        for module in (imports.batches, imports.reading):
            patched.setattr(module, "scan_file", no_parsing)
        patched.setattr(imports.reading, "read_and_check", no_parsing)
        patched.setattr(imports.batches, "check_file", no_parsing)
        checked = client.get(detail_url + "?seen=checking:reading", **HTMX).content.decode()
        assert 'hx-trigger="every 1s"' not in checked
        assert "hx-swap-oob" in checked and "The file is valid: 3 rows." in checked
        assert "unit-a1b" in checked and "Import the values" in checked

    settings.TASKS = DATABASE
    client.post(reverse("indicators:import_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.QUEUED  # whatever its size: the worker writes it
    assert DBTaskResult.objects.filter(task_path=run_import.module_path).count() == 1
    before = IndicatorValue.objects.count()
    running = client.get(detail_url, **HTMX).content.decode()
    assert 'hx-trigger="every 1s"' in running and "Importing" in running

    settings.TASKS = IMMEDIATE
    run_import.enqueue(batch.pk, org.office.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.rows_done) == (ImportStatus.DONE, 3, 3)
    assert IndicatorValue.objects.count() == before + 3
    finished = client.get(detail_url, **HTMX).content.decode()
    assert 'hx-trigger="every 1s"' not in finished
    assert imports.stored.storage().exists(batch.file)  # kept with the import


def test_the_import_page_costs_the_same_queries_whatever_the_file(
    client: Any,
    org: Any,
    kpis: dict[str, Indicator],
    run_jobs: None,
    django_assert_max_num_queries: Any,
) -> None:
    client = login(client, org.office)
    rows = "".join(f"SICK;unit-a1a;{2000 + n}-01;{n}\n" for n in range(300))
    upload(client, f"Nyckeltal;Enhet;Period;Värde\n{rows}".encode())
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.PREVIEW
    with django_assert_max_num_queries(12):
        assert client.get(reverse("indicators:import_detail", args=[batch.pk])).status_code == 200


def test_the_import_status_fragment_reports_progress(
    client: Any, org: Any, kpis: dict[str, Indicator]
) -> None:
    batch = ImportBatch.objects.create(
        source="file", filename="big.csv", status=ImportStatus.RUNNING, rows_total=200, rows_done=50
    )
    response = login(client, org.office).get(
        reverse("indicators:import_detail", args=[batch.pk]), **HTMX
    )
    assert response.status_code == 200
    assert re.search(r'<progress max="100" value="25"', response.content.decode())


def test_the_unit_panel_costs_the_same_queries_whatever_the_units_and_indicators(
    client: Any, org: Any, kpis: dict[str, Indicator], django_assert_max_num_queries: Any
) -> None:
    from tests.factories import UnitFactory

    client = login(client, org.employee)
    url = reverse("indicators:unit_panel", args=[org.root.code])

    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, **HTMX).status_code == 200
        return len(ctx.captured_queries)

    before = queries()
    for n in range(6):
        extra = IndicatorFactory(code=f"EXTRA{n}", name=f"Extra {n}")
        unit = UnitFactory(parent=org.dept_a1, code=f"more-{n}")
        for month in ("2019-03", "2019-04"):
            IndicatorValueFactory(indicator=extra, unit=unit, period=month, value=n + 1)
            IndicatorValueFactory(indicator=kpis["days"], unit=unit, period=month, value=n)
    assert queries() == before
    assert len(client.get(url, **HTMX).context["items"]) == 3 + 6
