"""Who may read a strategy, decided once (``strategy/selectors.readable_strategies``): the web
pages and the API agree; archived strategies are public records; drafts only for the strategy
office; the same 404 for "does not exist" and "not yours". Links follow the same rule."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from pejling.agreements.models import Initiative
from pejling.api.tokens import token_create
from pejling.strategy.models import StrategyStatus
from pejling.strategy.selectors import readable_goals, readable_strategies
from tests.api.helpers import ApiClient
from tests.factories import YEAR, ElementFactory, StrategyFactory, StrategyLevelFactory

pytestmark = pytest.mark.django_db


def api(user: Any) -> ApiClient:
    return ApiClient(
        token_create(user=user, name="t", scope="read_write", expires_in_days=1).secret
    )


def page(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def kinds(cascade) -> dict[str, Any]:
    """An archived and a draft strategy covering YEAR, each with a goal."""
    made = {}
    for status in (StrategyStatus.ARCHIVED, StrategyStatus.DRAFT):
        strategy = StrategyFactory(
            code=f"s-{status}", title=f"The {status} one", start_year=YEAR, end_year=YEAR
        )
        strategy.status = status
        strategy.save()
        StrategyLevelFactory(strategy=strategy, depth=1, name="Area", name_plural="Areas")
        StrategyLevelFactory(
            strategy=strategy, depth=2, name="Goal", name_plural="Goals", holds_goals=True
        )
        area = ElementFactory(strategy=strategy, code="A", title=f"{status} area")
        made[status] = strategy
        made[f"{status}_goal"] = ElementFactory(
            parent=area, code="A.1", title=f"Secret {status} goal"
        )
    return made


def web_status(user: Any, code: str) -> int:
    return page(user).get(reverse("strategy:strategy_detail", args=[code])).status_code


def api_status(user: Any, code: str) -> int:
    return api(user).get(f"/strategies/{code}").status_code


@pytest.mark.parametrize(
    ("who", "code", "expected"),
    [
        ("employee", "group", 200),
        ("employee", "s-archived", 200),
        ("employee", "s-draft", 404),
        ("employee", "no-such-code", 404),
        ("office", "s-archived", 200),
        ("office", "s-draft", 200),
        ("office", "no-such-code", 404),
    ],
)
def test_the_web_page_and_the_api_agree_on_who_reads_a_strategy(org, kinds, who, code, expected):
    user = getattr(org, who)
    assert web_status(user, code) == expected
    assert api_status(user, code) == expected


def test_a_draft_and_a_missing_strategy_answer_the_same_404(org, kinds):
    draft = api(org.employee).get("/strategies/s-draft")
    missing = api(org.employee).get("/strategies/no-such-code")
    assert draft.json() == missing.json()


def test_the_lists_show_what_one_may_read(org, cascade, kinds):
    employee = {s.code for s in readable_strategies(org.employee)}
    assert "s-archived" in employee and "s-draft" not in employee
    assert "s-draft" in {s.code for s in readable_strategies(org.office)}
    listed = {s["code"] for s in api(org.employee).walk("/strategies")}
    assert listed == employee
    content = page(org.employee).get(reverse("strategy:strategy_list")).content.decode()
    assert "The archived one" in content and "The draft one" not in content
    assert kinds["draft_goal"] not in readable_goals(org.employee)
    assert kinds["draft_goal"] in readable_goals(org.office)


def test_an_element_of_an_archived_strategy_reads_on_web_and_api(org, kinds):
    goal = kinds["archived_goal"]
    assert api(org.employee).get(f"/elements/{goal.pk}").status_code == 200
    url = reverse("strategy:element_detail", args=["s-archived", goal.pk])
    assert page(org.employee).get(url).status_code == 200
    draft_goal = kinds["draft_goal"]
    assert api(org.employee).get(f"/elements/{draft_goal.pk}").status_code == 404
    url = reverse("strategy:element_detail", args=["s-draft", draft_goal.pk])
    assert page(org.employee).get(url).status_code == 404


# Links follow the reading rule ------------------------------------------------------------------


def test_the_api_refuses_a_link_to_a_goal_one_may_not_read_like_a_missing_one(
    org, agreement, kinds
):
    path = f"/agreements/{org.unit.code}/{YEAR}/initiatives"
    client = api(org.head)
    hidden = client.post(path, {"title": "Sneaky", "goals": [kinds["draft_goal"].pk]})
    missing = client.post(path, {"title": "Sneaky", "goals": [999999]})
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()
    assert "Secret" not in hidden.content.decode()
    assert not Initiative.objects.filter(title="Sneaky").exists()


def test_the_api_refuses_a_readable_goal_of_a_strategy_not_in_force(org, agreement, kinds):
    path = f"/agreements/{org.unit.code}/{YEAR}/initiatives"
    response = api(org.head).post(path, {"title": "Old", "goals": [kinds["archived_goal"].pk]})
    assert response.status_code == 400
    with translation.override("sv"):
        expected = _("“%(goal)s” belongs to %(strategy)s, which is not published.") % {
            "goal": "Secret archived goal",
            "strategy": "The archived one",
        }
    assert response.json()["fields"]["goals"] == [expected]
    assert not Initiative.objects.filter(title="Old").exists()


def test_the_form_refuses_a_goal_one_may_not_read(org, agreement, kinds):
    url = reverse("agreements:initiative_create", args=[org.unit.code, YEAR])
    response = page(org.head).post(
        url, {"title": "Sneaky", "status": "planned", "goals": [kinds["draft_goal"].pk]}
    )
    assert response.status_code == 200  # the form again, with the error
    assert response.context["form"].errors["goals"]
    assert "Secret draft goal" not in response.content.decode()
    assert not Initiative.objects.filter(title="Sneaky").exists()


def test_the_office_may_not_link_a_goal_of_a_draft_either(org, agreement, kinds):
    path = f"/agreements/{org.unit.code}/{YEAR}/initiatives"
    response = api(org.office).post(path, {"title": "Early", "goals": [kinds["draft_goal"].pk]})
    assert response.status_code == 400
    assert "The draft one" in response.json()["fields"]["goals"][0]


def test_the_dashboard_and_the_api_show_the_same_goals(org, kinds):
    draft_goal = kinds["draft_goal"]
    draft_goal.measure_kind = "assessed"
    draft_goal.save()
    for who, sees in (("executive", False), ("office", True)):
        user = getattr(org, who)
        client = page(user)
        response = client.get(reverse("followup:dashboard"), {"year": YEAR})
        on_dashboard = {
            e.goal.pk for _theme, evaluations in response.context["groups"] for e in evaluations
        }
        via_api = {e["goal"] for e in api(user).walk("/evaluations", year=YEAR)}
        assert on_dashboard == via_api
        assert (draft_goal.pk in via_api) is sees
