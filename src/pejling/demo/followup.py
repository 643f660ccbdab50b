"""Demo follow-up for Fjärdviks kommun: computed goals, a rule, the annual cycle, reports."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from pejling.agreements.models import Agreement, AgreementState, InitiativeStatus
from pejling.core.history import SYSTEM
from pejling.demo.util import save_if_changed
from pejling.followup import services
from pejling.followup.models import (
    AssessmentStatus,
    CountsWhat,
    Deadline,
    DeadlineKind,
    DerivedGoal,
    GoalAssessment,
    ReportStatus,
    StatusReport,
)
from pejling.followup.services import ReportEntry
from pejling.organisation.models import UnitLevel
from pejling.strategy import services as strategy_services
from pejling.strategy.models import AgreementRule, Element, MeasureKind, RuleKind, Strategy

YEAR = 2026


def load_followup(by: Any) -> None:
    group = Strategy.objects.get(code="koncernstrategi-2025-2026")
    digital = Strategy.objects.get(code="digitaliseringsstrategi")
    levels = {lv.depth: lv for lv in UnitLevel.objects.all()}
    goals = {e.code: e for e in Element.objects.filter(strategy__in=[group, digital])}
    started = [
        InitiativeStatus.STARTED,
        InitiativeStatus.ON_TRACK,
        InitiativeStatus.AT_RISK,
        InitiativeStatus.OFF_TRACK,
        InitiativeStatus.DONE,
        InitiativeStatus.EVALUATED,
    ]
    definitions: dict[str, dict[str, Any]] = {
        "T1.1": {"counts": CountsWhat.UNITS, "unit_level": None, "statuses": started},
        "T1.2": {
            "counts": CountsWhat.INITIATIVES,
            "unit_level": None,
            "statuses": [InitiativeStatus.DONE, InitiativeStatus.EVALUATED],
        },
        "T2.1": {"counts": CountsWhat.UNITS, "unit_level": levels[2], "statuses": []},
        "T2.2": {"counts": CountsWhat.UNITS, "unit_level": levels[3], "statuses": []},
        "T3.2": {"counts": CountsWhat.UNITS, "unit_level": levels[2], "statuses": []},
        "T4.1": {
            "counts": CountsWhat.UNITS,
            "unit_level": levels[2],
            "statuses": [],
            "scope_strategy": digital,
        },
    }
    for code, fields in definitions.items():
        save_if_changed(
            DerivedGoal,
            save=lambda d: services.derived_goal_save(derived=d, by=SYSTEM),
            goal=goals[code],
            defaults={"scope_strategy": None, **fields},
        )
    # One goal its owner assesses by hand.
    pilot = goals["D3.1"]
    if pilot.measure_kind != MeasureKind.ASSESSED:
        pilot.measure_kind = MeasureKind.ASSESSED
        pilot.target_text = "Minst fem piloter per år utvärderas med invånare eller brukare."
        strategy_services.element_save(element=pilot, by=SYSTEM)
    GoalAssessment.objects.get_or_create(
        goal=pilot,
        year=YEAR,
        defaults={
            "status": AssessmentStatus.AT_RISK,
            "justification": "Tre piloter är utvärderade; två till planeras men saknar ännu deltagare.",
            "created_by": by,
        },
    )
    if not AgreementRule.objects.filter(
        strategy=group, kind=RuleKind.EACH_TOP_ELEMENT, unit_level=levels[2]
    ).exists():
        rule = AgreementRule(
            strategy=group,
            kind=RuleKind.EACH_TOP_ELEMENT,
            unit_level=levels[2],
            name="Varje förvaltning har minst en insats under varje tema",
        )
        strategy_services.rule_save(rule=rule, by=SYSTEM)
    deadlines = [
        (
            DeadlineKind.AGREEMENT,
            "Förvaltningarnas verksamhetsplaner",
            date(YEAR, 1, 15),
            levels[2],
            "",
            None,
        ),
        (
            DeadlineKind.AGREEMENT,
            "Avdelningarnas verksamhetsplaner",
            date(YEAR, 2, 15),
            levels[3],
            "",
            None,
        ),
        (
            DeadlineKind.AGREEMENT,
            "Enheternas verksamhetsplaner",
            date(YEAR, 3, 1),
            levels[4],
            "",
            None,
        ),
        (
            DeadlineKind.REPORT,
            "Uppföljning tertial 1",
            date(YEAR, 5, 15),
            None,
            "T1",
            date(YEAR, 1, 1),
        ),
        (
            DeadlineKind.REPORT,
            "Uppföljning tertial 2",
            date(YEAR, 9, 15),
            None,
            "T2",
            date(YEAR, 5, 1),
        ),
        (
            DeadlineKind.REPORT,
            "Uppföljning tertial 3",
            date(YEAR + 1, 1, 15),
            None,
            "T3",
            date(YEAR, 9, 1),
        ),
        (DeadlineKind.ANNUAL_REPORT, "Årsredovisning", date(YEAR + 1, 2, 28), None, "", None),
    ]
    for kind, title, due, level, period, start in deadlines:
        save_if_changed(
            Deadline,
            save=lambda d: services.deadline_save(deadline=d, by=SYSTEM),
            year=YEAR,
            title=title,
            defaults={
                "kind": kind,
                "due_date": due,
                "unit_level": level,
                "period": period,
                "period_start": start,
            },
        )
    if StatusReport.objects.exists():
        return
    rng = random.Random(4)
    t1 = Deadline.objects.get(year=YEAR, period="T1")
    t2 = Deadline.objects.get(year=YEAR, period="T2")
    agreements = Agreement.objects.filter(
        year=YEAR, state__in=[AgreementState.AGREED, AgreementState.PUBLISHED]
    )
    for agreement in agreements.prefetch_related("initiatives").select_related("unit"):
        if agreement.unit.code.startswith("KOF"):
            continue  # a centre that has not reported: it shows as overdue
        first_period: list[ReportEntry] = []
        second_period: list[ReportEntry] = []
        for initiative in agreement.initiatives.all():
            first = rng.choice([ReportStatus.ON_TRACK] * 3 + [ReportStatus.AT_RISK])
            first_period.append(ReportEntry(initiative.pk, first))
            if rng.random() < 0.8:
                second = (
                    ReportStatus.DONE
                    if initiative.status == InitiativeStatus.DONE
                    else rng.choice([first, first, ReportStatus.AT_RISK, ReportStatus.OFF_TRACK])
                )
                comment = "Förseningar i upphandlingen." if second == ReportStatus.OFF_TRACK else ""
                second_period.append(ReportEntry(initiative.pk, second, comment))
        # Reported through the service the pages use (the strategy office may report for all).
        services.report_period(unit=agreement.unit, deadline=t1, by=by, entries=first_period)
        services.report_period(unit=agreement.unit, deadline=t2, by=by, entries=second_period)
