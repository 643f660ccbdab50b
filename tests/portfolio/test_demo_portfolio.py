"""The demo's portfolio: the story the issue tells, loaded through the services."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
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
from tests.demo_snapshot import demo_restored

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(demo_snapshot: str, django_db_blocker: Any) -> Iterator[None]:
    """The rows ``pejling demo`` wrote (once for this test process, see tests/conftest.py)."""
    with django_db_blocker.unblock(), demo_restored():
        yield


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


def test_the_board_reports_portfolio_chapter_reads_the_demo_as_plain_tables(demo) -> None:
    from django.contrib.auth import get_user_model

    from pejling.portfolio.reporting import report_tables

    office = get_user_model().objects.get(username="strategi")
    tables = report_tables(user=office, year=2026)
    titles = [title for title, _columns, _rows in tables]
    assert len(titles) == 3
    assignments, benefits, ledger = tables
    assert len(assignments[2]) == Assignment.objects.filter(year=2026).count() > 0
    assert all(len(row) == len(assignments[1]) for row in assignments[2])
    hours = {row[0]: row for row in ledger[2]}
    totals = {r.measure: r for r in ledger_totals(ledger_balance(year=2026))}
    for row in ledger[2]:
        freed, reinvested, returned, unplaced = row[1:]
        assert freed == reinvested + returned + unplaced
    assert len(hours) == len(totals)
    assert benefits[2], "the demo has benefits expected in 2026"
    assert report_tables(user=None, year=2026) == []
