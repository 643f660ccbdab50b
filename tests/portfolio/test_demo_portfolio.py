"""The demo's portfolio: the story the issue tells, loaded through the services."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from pejling.portfolio.models import (
    Assignment,
    Challenge,
    ChallengeState,
    Decision,
    DecisionKind,
    Stage,
    Workshop,
)
from pejling.portfolio.selectors import ledger_balance, ledger_totals

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


def test_a_workshop_brings_challenges_and_a_full_journey(demo) -> None:
    workshop = Workshop.objects.get()
    assert workshop.challenges.count() == 3
    wheelchair = workshop.challenges.get(title__contains="rullstol")
    assert wheelchair.journey_steps.count() >= 5
    meeting_decisions = Decision.objects.filter(meeting__held_on__year=2026)
    assert sorted(d.kind for d in meeting_decisions) == [
        DecisionKind.ASSIGN,
        DecisionKind.ASSIGN,
        DecisionKind.PARK,
    ]


def test_assignments_are_in_every_stage_and_one_is_top_down(demo) -> None:
    stages = set(Assignment.objects.values_list("stage", flat=True))
    assert stages == set(Stage.values)
    assert Assignment.objects.filter(origin="top_down", issued_by="Kommunstyrelsen").exists()
    linked = Assignment.objects.get(decision__challenge__title__contains="rullstol")
    assert linked.initiative is not None  # in the unit's annual agreement, one chain


def test_freed_hours_are_reinvested_in_another_unit(demo) -> None:
    totals = {r.measure: r for r in ledger_totals(ledger_balance(year=2026))}
    hours = totals["hours"]
    assert hours.freed == Decimal("520") and hours.reinvested == Decimal("300")
    assert hours.unplaced == Decimal("140")
    assert Challenge.objects.filter(state=ChallengeState.SUBMITTED).exists()


def test_the_demo_people_see_the_portfolio(demo) -> None:
    client = Client()
    client.login(username="medarbetare", password="fjardvik-medarbetare")
    wheelchair = Challenge.objects.get(title__contains="rullstol")
    assignment = Assignment.objects.get(decision__challenge=wheelchair)
    for url in (
        reverse("portfolio:challenge_list"),
        wheelchair.get_absolute_url(),
        assignment.get_absolute_url(),
        reverse("portfolio:ledger"),
        reverse("portfolio:benefit_overview"),
        reverse("portfolio:assignment_list"),
    ):
        assert client.get(url).status_code == 200, url
