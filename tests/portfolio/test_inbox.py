"""A leadership team's coming meeting with undecided challenges waits in its members' inbox."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse

from pejling.overview.inbox import inbox
from pejling.portfolio import services as portfolio_services
from tests.factories import YEAR
from tests.portfolio.conftest import challenge


def test_a_coming_meeting_with_undecided_challenges_waits_for_the_team(org: Any) -> None:
    team = portfolio_services.team_save(
        by=org.office, name="Care leadership team", chair=org.parent_head, members=[org.head]
    )
    item = challenge(org)
    meeting = portfolio_services.meeting_create(
        team=team, by=org.office, held_on=date(YEAR, 3, 1), agenda=[item]
    )
    for person in (org.head, org.parent_head):
        waiting = [
            i for i in inbox(person, year=YEAR, today=date(YEAR, 2, 1)) if i.kind == "decision"
        ]
        assert [i.url for i in waiting] == [reverse("portfolio:meeting_detail", args=[meeting.pk])]
    assert not [
        i for i in inbox(org.employee, year=YEAR, today=date(YEAR, 2, 1)) if i.kind == "decision"
    ]
    assert not [
        i for i in inbox(org.head, year=YEAR, today=date(YEAR, 3, 2)) if i.kind == "decision"
    ]


def test_the_dashboard_loads_the_portfolio_panel_for_those_who_see_everything(org: Any) -> None:
    from django.test import Client

    panel = reverse("portfolio:dashboard_panel")
    seen = {}
    for name in ("office", "executive", "parent_head"):
        client = Client(headers={"accept-language": "en"})
        client.force_login(getattr(org, name))
        response = client.get(reverse("followup:dashboard") + f"?year={YEAR}")
        seen[name] = response.status_code == 200 and panel in response.content.decode()
    assert seen == {"office": True, "executive": True, "parent_head": False}


def test_the_decisions_source_asks_the_same_queries_however_many_meetings(
    org: Any, django_assert_num_queries: Any
) -> None:
    from pejling.overview.inbox import portfolio_decisions

    team = portfolio_services.team_save(
        by=org.office, name="Care leadership team", chair=org.parent_head, members=[org.head]
    )

    def meetings(n: int) -> None:
        for day in range(n):
            items = [challenge(org, title=f"Challenge {day}.{k}") for k in range(2)]
            portfolio_services.meeting_create(
                team=team, by=org.office, held_on=date(YEAR, 3, 1 + day), agenda=items
            )

    meetings(1)
    with django_assert_num_queries(1):
        first = portfolio_decisions(org.head, YEAR, date(YEAR, 2, 1))
    meetings(4)
    with django_assert_num_queries(1):
        many = portfolio_decisions(org.head, YEAR, date(YEAR, 2, 1))
    assert len(first) == 1 and len(many) == 5
    assert "2 challenges" in str(many[0].title)
