"""A leadership team over the shared organisation, and helpers that build a portfolio through
the services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from pejling.agreements.models import Agreement
from pejling.portfolio import services
from pejling.portfolio.models import (
    Assignment,
    BenefitClass,
    Challenge,
    DecisionKind,
    LeadershipTeam,
    Measure,
)
from pejling.portfolio.services import (
    BenefitInput,
    ChallengeInput,
    DecisionInput,
    StepInput,
    YearInput,
)
from tests.conftest import Cascade, Org
from tests.factories import YEAR, AgreementFactory


@pytest.fixture
def team(org: Org) -> LeadershipTeam:
    return services.team_save(
        by=org.office,
        name="Care leadership team",
        chair=org.parent_head,
        members=[org.head, org.executive],
    )


def challenge(org: Org, title: str = "Broken wheelchair reports get lost", **kw: Any) -> Challenge:
    return services.challenge_submit(
        by=kw.pop("by", org.employee), data=ChallengeInput(title=title, unit=org.unit, **kw)
    )


def with_journey(org: Org, item: Challenge) -> Challenge:
    for actor, action, feeling in (
        ("Care worker", "Notices the broken wheelchair", 3),
        ("Care worker", "Searches for the right form in the IT system", 1),
        ("Rehab", "Receives the report three days later", 2),
    ):
        services.journey_step_add(
            challenge=item,
            by=org.employee,
            data=StepInput(actor=actor, action=action, feeling=feeling, pain_point="Slow"),
        )
    return item


def assign(
    org: Org, team: LeadershipTeam, item: Challenge, cascade: Cascade | None = None
) -> Assignment:
    """Assign the challenge to the unit, whose draft agreement for the year it joins."""
    if not Agreement.objects.filter(unit=org.unit, year=YEAR).exists():
        AgreementFactory(unit=org.unit, year=YEAR)
    services.decide(
        team=team,
        by=org.head,
        decided_on=date(YEAR, 2, 1),
        decisions=[
            DecisionInput(
                challenge=item,
                kind=DecisionKind.ASSIGN,
                rationale="Everyone loses time on it",
                unit=org.unit,
                lead=org.head,
                goals=[cascade.goal_1] if cascade else [],
            )
        ],
    )
    return Assignment.objects.get(decision__challenge=item)


def freed_hours(org: Org, assignment: Assignment, hours: str = "800") -> Any:
    return services.benefit_create(
        assignment=assignment,
        by=org.head,
        data=BenefitInput(
            description="Less time on reports",
            stakeholder="Care workers",
            benefit_class=BenefitClass.FREED_CAPACITY,
            measure=Measure.HOURS,
            owner=org.head,
        ),
        years=[
            YearInput(
                year=YEAR,
                expected=Decimal("1000"),
                realised=Decimal(hours),
                realised_source="Time study",
            )
        ],
    )


@pytest.fixture(autouse=True)
def _in_english(settings: Any) -> Any:
    """These tests read the English source texts; the installation's default is Swedish."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
