"""No lost updates: two people edit the same thing; the second save is refused and shows what
the first changed, and the first's values stay.

Each scenario uses two real sessions (two test clients, two people with the right to edit)
that both load the edit form before either saves.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from pejling.agreements import services
from pejling.agreements.models import Agreement, Initiative
from pejling.api.tokens import token_create
from pejling.core.history import ConcurrentEditError
from pejling.organisation.models import Role
from pejling.strategy import services as strategy_services
from pejling.strategy.models import Element, Strategy
from tests.api.helpers import ApiClient
from tests.factories import YEAR, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def session(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def loaded_form(client: Client, url: str) -> dict[str, Any]:
    """GET the edit form and return the values it would post back, hidden version included."""
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["form"]
    data: dict[str, Any] = {}
    for field in form:
        value = field.value()
        if value is None:
            continue
        if isinstance(value, list):
            data[field.html_name] = [str(v) for v in value]
        else:
            data[field.html_name] = str(value)
    assert data.get("version"), "the form carries the version it was loaded with"
    return data


def refusal(response: Any) -> list[str]:
    assert response.status_code == 200, "the form is shown again, not saved"
    return [str(e) for e in response.context["form"].non_field_errors()]


@pytest.fixture
def api(db: None) -> Any:
    """``api(user)``: a JSON client with a new read-and-write token of ``user``."""
    cache.clear()  # the rate limit's counters outlive a test's rollback

    def make(user: Any) -> ApiClient:
        return ApiClient(
            token_create(user=user, name="test", scope="read_write", expires_in_days=1).secret
        )

    return make


@pytest.fixture
def second_office(org: Any) -> Any:
    user = UserFactory(username="office2", first_name="Oskar", last_name="Office")
    MembershipFactory(user=user, unit=org.root, role=Role.STRATEGY_OFFICE)
    return user


# Agreements ----------------------------------------------------------------------------------


def test_the_second_of_two_people_saving_a_summary_is_refused_and_sees_the_first_change(
    org, agreement
):
    url = reverse("agreements:agreement_edit", args=[org.unit.code, YEAR])
    head, parent_head = session(org.head), session(org.parent_head)
    mine = loaded_form(head, url)
    theirs = loaded_form(parent_head, url)

    mine["summary"] = "Hanna's summary"
    assert head.post(url, mine).status_code == 302
    theirs["summary"] = "Per's summary"
    response = parent_head.post(url, theirs)

    errors = refusal(response)
    shown = " ".join(errors)
    assert "Hanna's summary" in shown and "Our year" in shown
    assert "Hanna Head" in shown
    assert response.context["form"]["summary"].value() == "Per's summary"  # input kept
    assert Agreement.objects.get(pk=agreement.pk).summary == "Hanna's summary"


def test_after_a_refusal_saving_again_is_a_deliberate_choice_and_succeeds(org, agreement):
    url = reverse("agreements:agreement_edit", args=[org.unit.code, YEAR])
    head, parent_head = session(org.head), session(org.parent_head)
    mine, theirs = loaded_form(head, url), loaded_form(parent_head, url)
    head.post(url, {**mine, "summary": "First"})
    response = parent_head.post(url, {**theirs, "summary": "Second"})
    assert refusal(response)

    form = response.context["form"]
    again = {"summary": form["summary"].value(), "version": form["version"].value()}
    assert again["version"] == str(Agreement.objects.get(pk=agreement.pk).version)
    assert parent_head.post(url, again).status_code == 302
    assert Agreement.objects.get(pk=agreement.pk).summary == "Second"


def test_the_second_of_two_people_saving_an_initiative_is_refused_with_the_goal_change(
    org, cascade, agreement
):
    initiative = agreement.initiatives.get()
    url = reverse("agreements:initiative_edit", args=[org.unit.code, YEAR, initiative.pk])
    head, parent_head = session(org.head), session(org.parent_head)
    mine, theirs = loaded_form(head, url), loaded_form(parent_head, url)

    mine["title"] = "Health talks for everyone"
    mine["goals"] = [str(cascade.goal_1.pk), str(cascade.goal_2.pk)]
    assert head.post(url, mine).status_code == 302
    theirs["title"] = "Health talks, Per's version"
    response = parent_head.post(url, theirs)

    shown = " ".join(refusal(response))
    assert "Early health talks" in shown and "Health talks for everyone" in shown
    assert cascade.goal_2.title in shown  # the goal link the other added
    saved = Initiative.objects.get(pk=initiative.pk)
    assert saved.title == "Health talks for everyone"
    assert set(saved.goals.values_list("pk", flat=True)) == {cascade.goal_1.pk, cascade.goal_2.pk}


# Strategies ----------------------------------------------------------------------------------


def test_the_second_of_two_strategy_officers_saving_an_element_is_refused(
    org, cascade, second_office
):
    url = reverse("strategy:element_edit", args=[cascade.group.code, cascade.goal_1.pk])
    olga, oskar = session(org.office), session(second_office)
    mine, theirs = loaded_form(olga, url), loaded_form(oskar, url)

    assert olga.post(url, {**mine, "target_value": "12.0"}).status_code == 302
    response = oskar.post(url, {**theirs, "title": "Sick leave falls a lot"})

    shown = " ".join(refusal(response))
    assert "13.5" in shown and "12" in shown and "Olga Office" in shown
    goal = Element.objects.get(pk=cascade.goal_1.pk)
    assert goal.title == "Sick leave falls" and str(goal.target_value).startswith("12")


def test_the_second_of_two_strategy_officers_saving_a_strategy_is_refused(
    org, cascade, second_office
):
    url = reverse("strategy:strategy_edit", args=[cascade.group.code])
    olga, oskar = session(org.office), session(second_office)
    mine, theirs = loaded_form(olga, url), loaded_form(oskar, url)

    assert olga.post(url, {**mine, "title": "Group strategy 2025–26"}).status_code == 302
    response = oskar.post(url, {**theirs, "summary": "Oskar's summary"})

    shown = " ".join(refusal(response))
    assert "Group strategy 2025–26" in shown
    strategy = Strategy.objects.get(pk=cascade.group.pk)
    assert strategy.title == "Group strategy 2025–26" and strategy.summary != "Oskar's summary"


# Services and API ------------------------------------------------------------------------------


def test_every_save_through_the_services_raises_the_version(org, agreement):
    start = Agreement.objects.get(pk=agreement.pk).version
    services.agreement_update(agreement=agreement, by=org.head, summary="One")
    services.agreement_submit(agreement=agreement, by=org.head)
    assert Agreement.objects.get(pk=agreement.pk).version == start + 2
    history_versions = list(
        agreement.history.order_by("history_date").values_list("version", flat=True)
    )
    assert history_versions[-2:] == [start + 1, start + 2]


def test_a_caller_without_a_version_still_saves_as_before(org, agreement):
    stale = Agreement.objects.get(pk=agreement.pk)
    services.agreement_update(agreement=agreement, by=org.head, summary="Newer")
    services.agreement_update(agreement=stale, by=org.parent_head, summary="Last word")
    assert Agreement.objects.get(pk=agreement.pk).summary == "Last word"


def test_the_service_refuses_a_stale_version_with_the_other_changes(org, cascade):
    element = cascade.goal_2
    loaded = element.version
    element.title = "Competence plans in every unit"
    strategy_services.element_save(element=element, by=org.office, expected_version=loaded)

    stale = Element.objects.get(pk=element.pk)
    stale.title = "Something else"
    with pytest.raises(ConcurrentEditError) as refused:
        strategy_services.element_save(element=stale, by=org.office, expected_version=loaded)
    assert refused.value.current_version == loaded + 1
    assert [(c.old, c.new) for c in refused.value.changes] == [
        ("Competence plans everywhere", "Competence plans in every unit")
    ]


def test_the_api_refuses_a_stale_edit_version_with_409(org, agreement, api):
    client: ApiClient = api(org.head)
    path = f"/agreements/{org.unit.code}/{YEAR}"
    loaded = client.get(path).json()["edit_version"]
    assert client.patch(path, {"summary": "First", "edit_version": loaded}).status_code == 200
    response = client.patch(path, {"summary": "Second", "edit_version": loaded})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "edit_conflict" and "First" in body["message"]
    assert body["fields"]["version"] == [str(loaded + 1)]
    missing = client.patch(path, {"summary": "Without a version"})
    assert missing.status_code == 422
    assert missing.json()["fields"] == {"edit_version": ["Field required"]}


def test_the_api_refuses_a_stale_element_update(org, cascade, api):
    client: ApiClient = api(org.office)
    path = f"/elements/{cascade.goal_3.pk}"
    current = client.get(path).json()
    body = {
        k: current[k]
        for k in ("code", "title", "description", "position", "measure_kind", "references")
    }
    ok = client.put(
        path, {**body, "title": "Toolbox used", "edit_version": current["edit_version"]}
    )
    assert ok.status_code == 200 and ok.json()["edit_version"] == current["edit_version"] + 1
    stale = client.put(path, {**body, "edit_version": current["edit_version"]})
    assert stale.status_code == 409
