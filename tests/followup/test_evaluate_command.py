"""``pejling evaluate``: every goal of every kind, as text or as JSON for other tools."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from pejling.agreements.models import AgreementState
from pejling.followup.models import AssessmentStatus, CountsWhat
from pejling.indicators.models import Periodicity
from pejling.organisation.models import UnitLevel
from pejling.strategy.models import Element, MeasureKind
from tests.factories import (
    YEAR,
    AgreementFactory,
    DerivedGoalFactory,
    GoalAssessmentFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    InitiativeFactory,
    KpiGoalFactory,
)

pytestmark = pytest.mark.django_db

KEYS = {
    "code",
    "title",
    "kind",
    "unit",
    "value",
    "target",
    "progress",
    "forecast",
    "status",
    "reason",
}
SUMMER = datetime(YEAR, 7, 2, 10, tzinfo=UTC)


@pytest.fixture
def goals(org: Any, cascade: Any) -> dict[str, Element]:
    """A goal of every kind in the group strategy: T1.1 a KPI with five years of values, T2.1 a
    count of units, T3.1 the coverage of the centres, T3.2 assessed by its owner."""
    kpi = cascade.goal_1
    kpi.target_date = date(YEAR, 12, 31)
    kpi.save()
    indicator = IndicatorFactory(code="SICK", name="Sick leave", periodicity=Periodicity.YEAR)
    KpiGoalFactory(goal=kpi, indicator=indicator)
    for year, value in zip(range(YEAR - 5, YEAR), [16, 15.6, 15.1, 14.8, 14.2], strict=True):
        IndicatorValueFactory(indicator=indicator, unit=org.unit, period=str(year), value=value)

    count = cascade.goal_2
    count.measure_kind = MeasureKind.COUNT
    count.target_value = Decimal(4)
    count.save()
    DerivedGoalFactory(goal=count, counts=CountsWhat.UNITS)

    coverage = cascade.goal_3
    coverage.measure_kind = MeasureKind.COVERAGE
    coverage.target_value = Decimal(100)
    coverage.save()
    DerivedGoalFactory(goal=coverage, unit_level=UnitLevel.objects.get(depth=2))

    assessed = Element.objects.create(
        strategy=cascade.group,
        parent=cascade.theme_3,
        level=coverage.level,
        code="T3.2",
        title="Pilots evaluated",
        measure_kind=MeasureKind.ASSESSED,
    )
    GoalAssessmentFactory(
        goal=assessed, status=AssessmentStatus.AT_RISK, justification="Three of five so far."
    )

    agreement = AgreementFactory(unit=org.centre_a, state=AgreementState.AGREED)
    InitiativeFactory(agreement=agreement, goals=[count, coverage])
    InitiativeFactory(agreement=AgreementFactory(unit=org.unit_b1a), goals=[count])  # a draft
    return {"kpi": kpi, "count": count, "coverage": coverage, "assessed": assessed}


def evaluate(*args: str) -> str:
    out = StringIO()
    with time_machine.travel(SUMMER, tick=False):
        call_command("evaluate", *args, stdout=out)
    return out.getvalue()


def test_evaluate_json_gives_every_goal_of_every_kind(org, goals):
    rows = json.loads(evaluate("--json", "--year", str(YEAR), "--language", "en"))

    assert [(r["code"], r["kind"]) for r in rows] == [
        ("T1.1", "kpi"),
        ("T2.1", "count"),
        ("T3.1", "coverage"),
        ("T3.2", "assessed"),
    ]
    for row in rows:
        assert set(row) >= KEYS
        assert row["unit"] == "exec"
        assert row["reason"]
    kpi, count, coverage, assessed = rows
    assert kpi["title"] == "Sick leave falls"
    assert kpi["value"] == 14.2
    assert kpi["target"] == 13.5
    assert set(kpi["forecast"]) == {"value", "low", "high", "date"}
    assert kpi["forecast"]["date"] == f"{YEAR}-12-31"
    assert kpi["status"] in {"on_track", "at_risk", "off_track"}

    assert count["forecast"] is None
    assert (count["value"], count["target"], count["progress"]) == (1.0, 4.0, 25.0)
    assert count["status"] == "off_track"  # half-way through the year, 1 of the 2 expected by now

    assert coverage["forecast"] is None
    assert (coverage["value"], coverage["target"], coverage["progress"]) == (50.0, 100.0, 50.0)
    assert coverage["status"] == "on_track"
    assert coverage["missing"] == ["Centre B"]
    assert coverage["reason"] == (
        "1 of 2 centres is covered (50 %), as much as expected by now (50 %) on the way to 100 %."
    )

    assert assessed["forecast"] is None
    assert (assessed["value"], assessed["target"], assessed["progress"]) == (None, None, None)
    assert assessed["status"] == "at_risk"
    assert assessed["reason"] == "Three of five so far."


def test_evaluate_json_without_a_year_evaluates_this_year(org, goals):
    this_year = json.loads(evaluate("--json"))
    next_year = json.loads(evaluate("--json", "--year", str(YEAR + 1)))

    assert [r["code"] for r in this_year] == ["T1.1", "T2.1", "T3.1", "T3.2"]
    assert next_year == []  # the group strategy ends this year


def test_evaluate_json_is_valid_json_in_every_language(org, goals):
    for language in ("sv", "da", "en"):
        rows = json.loads(evaluate("--json", "--year", str(YEAR), "--language", language))
        assert len(rows) == 4


def test_evaluate_without_json_prints_a_line_per_goal_and_its_reason(org, goals):
    out = evaluate("--year", str(YEAR), "--language", "en")

    assert "T2.1" in out
    assert "Competence plans everywhere" in out
    assert "Three of five so far." in out
    assert "1 of 2 centres is covered (50 %), as much as expected by now" in " ".join(out.split())
