"""Status reports, goal evaluations and the annual cycle over the API."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pejling.agreements.models import AgreementState
from pejling.followup.models import DeadlineKind, StatusReport
from tests.api.helpers import assert_error
from tests.factories import YEAR, DeadlineFactory, GoalAssessmentFactory, StatusReportFactory


@pytest.fixture
def period(agreement: Any) -> Any:
    agreement.state = AgreementState.AGREED
    agreement.save()
    return DeadlineFactory(kind=DeadlineKind.REPORT, period="T1", due_date=date(YEAR, 5, 15))


def test_the_unit_head_reports_the_period_over_the_api(
    api: Any, org: Any, agreement: Any, period: Any
) -> None:
    initiative = agreement.initiatives.get()
    response = api(org.head).post(
        f"/status-reports/unit-a1a/{period.pk}",
        {"entries": [{"initiative": initiative.pk, "status": "at_risk", "comment": "Fewer talks"}]},
    )
    assert response.status_code == 200, response.content
    [report] = response.json()
    assert (report["status"], report["comment"], report["reported_by"]) == (
        "at_risk",
        "Fewer talks",
        "head",
    )
    assert StatusReport.objects.get().history.first().history_user == org.head


def test_nothing_changed_reports_every_initiative_in_one_call(
    api: Any, org: Any, agreement: Any, period: Any
) -> None:
    response = api(org.head).post(f"/status-reports/unit-a1a/{period.pk}/unchanged")
    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()] == ["on_track"]


def test_a_bad_report_entry_writes_nothing(api: Any, org: Any, agreement: Any, period: Any) -> None:
    initiative = agreement.initiatives.get()
    response = api(org.head).post(
        f"/status-reports/unit-a1a/{period.pk}",
        {
            "entries": [
                {"initiative": initiative.pk, "status": "done"},
                {"initiative": 999999, "status": "done"},
            ]
        },
    )
    assert_error(response, 400, "invalid")
    assert not StatusReport.objects.exists()


def test_only_those_who_write_the_agreement_report(
    api: Any, org: Any, agreement: Any, period: Any
) -> None:
    payload = {"entries": [{"initiative": agreement.initiatives.get().pk, "status": "done"}]}
    assert_error(api(org.colleague).post(f"/status-reports/unit-a1a/{period.pk}", payload), 403)
    assert_error(api(org.employee).post(f"/status-reports/unit-a1a/{period.pk}", payload), 403)
    assert_error(
        api(org.head, scope="read").post(f"/status-reports/unit-a1a/{period.pk}", payload),
        403,
        "read_only_token",
    )
    assert_error(api(org.head).post("/status-reports/unit-a1a/999999", payload), 404, "not_found")
    assert not StatusReport.objects.exists()


def test_status_reports_are_read_by_those_who_follow_the_unit(
    api: Any, org: Any, agreement: Any, period: Any
) -> None:
    StatusReportFactory(initiative=agreement.initiatives.get(), deadline=period)
    assert len(api(org.head).walk("/status-reports", year=YEAR)) == 1
    assert len(api(org.parent_head).walk("/status-reports", within="dept-a1")) == 1
    assert len(api(org.office).walk("/status-reports", deadline=period.pk)) == 1
    assert api(org.colleague).walk("/status-reports") == []
    assert api(org.employee).walk("/status-reports") == []


def test_goal_evaluations_are_for_the_strategy_office_and_the_executive(
    api: Any, org: Any, cascade: Any
) -> None:
    cascade.goal_2.measure_kind = "assessed"
    cascade.goal_2.save()
    GoalAssessmentFactory(goal=cascade.goal_2, year=YEAR, status="at_risk", justification="Slow")
    body = api(org.executive).get("/evaluations", year=YEAR).json()
    by_code = {e["code"]: e for e in body["items"]}
    assert by_code["T2.1"]["status"] == "at_risk"
    assert by_code["T2.1"]["goal"] == cascade.goal_2.pk
    assert "T1.1" in by_code  # the KPI goal, without data
    assert len(api(org.office).walk("/evaluations", year=YEAR, limit=1)) == len(body["items"])
    assert_error(api(org.head).get("/evaluations", year=YEAR), 403, "forbidden")
    assert_error(api(org.employee).get("/evaluations"), 403, "forbidden")


def test_the_annual_cycle_lists_deadlines_by_date(api: Any, org: Any) -> None:
    DeadlineFactory(title="Agreements due", due_date=date(YEAR, 3, 1))
    DeadlineFactory(
        title="T1 report", kind=DeadlineKind.REPORT, period="T1", due_date=date(YEAR, 5, 15)
    )
    DeadlineFactory(title="Last year", year=YEAR - 1, due_date=date(YEAR - 1, 3, 1))
    client = api(org.employee)
    assert [d["title"] for d in client.walk("/deadlines", year=YEAR, limit=1)] == [
        "Agreements due",
        "T1 report",
    ]
    assert [d["title"] for d in client.walk("/deadlines", kind="report")] == ["T1 report"]
