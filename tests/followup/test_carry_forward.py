"""Starting next year's agreement from this year's: unfinished initiatives come along with the
goal links still in force, finished and cancelled ones stay behind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.contrib.messages import constants as message_levels
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from pejling.agreements import services
from pejling.agreements.models import Agreement, AgreementState, Initiative, InitiativeStatus
from pejling.strategy.models import Element
from tests.factories import (
    YEAR,
    AgreementFactory,
    ElementFactory,
    InitiativeFactory,
    StrategyFactory,
    StrategyLevelFactory,
)

pytestmark = pytest.mark.django_db


@dataclass
class Scene:
    agreement: Agreement
    lasting_goal: Element  # of a strategy that runs past next year


@pytest.fixture
def scene(org: Any, cascade: Any) -> Scene:
    """This year's agreement of ``org.unit`` with an initiative in every status. The group
    strategy's goals end this year; the digital strategy's run to 2030."""
    digital = StrategyFactory(code="digital", title="Digital", start_year=2025, end_year=2030)
    StrategyLevelFactory(strategy=digital, depth=1, name="Area")
    StrategyLevelFactory(strategy=digital, depth=2, name="Goal", holds_goals=True)
    lasting_goal = ElementFactory(
        parent=ElementFactory(strategy=digital, code="D1", title="E-services"),
        code="D1.1",
        title="Every service online",
    )
    agreement = AgreementFactory(unit=org.unit, state=AgreementState.PUBLISHED, summary="Our year")
    InitiativeFactory(
        agreement=agreement,
        title="Digital mail",
        description="Letters in the app.",
        owner=org.employee,
        start_date=date(YEAR, 2, 1),
        end_date=date(YEAR + 1, 6, 30),
        status=InitiativeStatus.STARTED,
        goals=[cascade.goal_2, lasting_goal],
        position=1,
    )
    InitiativeFactory(
        agreement=agreement,
        title="Chat bot",
        status=InitiativeStatus.PLANNED,
        goals=[lasting_goal],
        position=2,
    )
    InitiativeFactory(
        agreement=agreement,
        title="Health talks",
        status=InitiativeStatus.PLANNED,
        goals=[cascade.goal_1],
        position=3,
    )
    for position, status in enumerate(
        [InitiativeStatus.DONE, InitiativeStatus.EVALUATED, InitiativeStatus.CANCELLED], start=4
    ):
        InitiativeFactory(
            agreement=agreement,
            title=f"Was {status}",
            status=status,
            goals=[lasting_goal],
            position=position,
        )
    return Scene(agreement, lasting_goal)


def test_unfinished_initiatives_come_along_to_next_years_draft(org, cascade, scene):
    new, _dropped = services.agreement_carry_forward(agreement=scene.agreement, by=org.head)

    assert new.unit == org.unit
    assert new.year == YEAR + 1
    assert new.state == AgreementState.DRAFT
    assert new.summary == "Our year"
    initiatives = list(new.initiatives.order_by("position"))
    assert [(i.title, i.status, i.position) for i in initiatives] == [
        ("Digital mail", InitiativeStatus.STARTED, 1),
        ("Chat bot", InitiativeStatus.PLANNED, 2),
        ("Health talks", InitiativeStatus.PLANNED, 3),
    ]
    mail = initiatives[0]
    assert mail.description == "Letters in the app."
    assert mail.owner == org.employee
    assert (mail.start_date, mail.end_date) == (date(YEAR, 2, 1), date(YEAR + 1, 6, 30))


def test_finished_and_cancelled_initiatives_stay_behind(org, cascade, scene):
    new, _dropped = services.agreement_carry_forward(agreement=scene.agreement, by=org.head)

    assert not new.initiatives.filter(title__startswith="Was ").exists()
    assert scene.agreement.initiatives.count() == 6  # this year's agreement is untouched
    assert Agreement.objects.get(pk=scene.agreement.pk).state == AgreementState.PUBLISHED


def test_goal_links_come_along_only_while_the_goals_strategy_is_in_force(org, cascade, scene):
    new, dropped = services.agreement_carry_forward(agreement=scene.agreement, by=org.head)

    goals = {i.title: list(i.goals.all()) for i in new.initiatives.all()}
    assert goals == {
        "Digital mail": [scene.lasting_goal],
        "Chat bot": [scene.lasting_goal],
        "Health talks": [],
    }
    assert dropped == [
        "Digital mail: Competence plans everywhere",
        "Health talks: Sick leave falls",
    ]


def test_carrying_forward_is_refused_when_next_years_agreement_exists(org, cascade, scene):
    existing = AgreementFactory(unit=org.unit, year=YEAR + 1, summary="Already started")
    InitiativeFactory(agreement=existing, title="Already there")

    with pytest.raises(ValidationError):
        services.agreement_carry_forward(agreement=scene.agreement, by=org.head)

    assert [i.title for i in Initiative.objects.filter(agreement__year=YEAR + 1)] == [
        "Already there"
    ]
    assert Agreement.objects.get(pk=existing.pk).summary == "Already started"


def test_only_those_who_write_the_agreement_may_carry_it_forward(org, cascade, scene):
    with pytest.raises(PermissionDenied):
        services.agreement_carry_forward(agreement=scene.agreement, by=org.employee)

    assert not Agreement.objects.filter(year=YEAR + 1).exists()


def test_the_head_carries_the_agreement_forward_from_its_page(client, org, cascade, scene):
    client.force_login(org.head)
    page = client.get(reverse("agreements:agreement_detail", args=[org.unit.code, YEAR]))
    url = reverse("agreements:agreement_carry_forward", args=[org.unit.code, YEAR])
    assert url in page.content.decode()

    response = client.post(url, follow=True)

    assert response.redirect_chain[-1][0] == reverse(
        "agreements:agreement_detail", args=[org.unit.code, YEAR + 1]
    )
    levels = [m.level for m in response.context["messages"]]
    assert levels == [message_levels.SUCCESS, message_levels.WARNING]
    warning = list(response.context["messages"])[1].message
    assert "Health talks: Sick leave falls" in warning
    assert Agreement.objects.get(unit=org.unit, year=YEAR + 1).initiatives.count() == 3
    again = client.get(reverse("agreements:agreement_detail", args=[org.unit.code, YEAR]))
    assert url not in again.content.decode()  # next year's exists: no second start


def test_carrying_forward_twice_from_the_page_shows_an_error(client, org, cascade, scene):
    client.force_login(org.head)
    url = reverse("agreements:agreement_carry_forward", args=[org.unit.code, YEAR])
    client.post(url, follow=True)

    response = client.post(url, follow=True)

    assert response.redirect_chain[-1][0] == reverse(
        "agreements:agreement_detail", args=[org.unit.code, YEAR]
    )
    assert [m.level for m in response.context["messages"]] == [message_levels.ERROR]
    assert Initiative.objects.filter(agreement__year=YEAR + 1).count() == 3


def test_carrying_forward_needs_a_post(client, org, cascade, scene):
    client.force_login(org.head)
    url = reverse("agreements:agreement_carry_forward", args=[org.unit.code, YEAR])

    assert client.get(url).status_code == 405
