"""The agreement workflow as one table (``agreements/workflow.py``): the services, the agreement
page and the API take the same steps; a step on a stale agreement loses with 409; four-eyes."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from pejling.agreements import services, workflow
from pejling.agreements.models import Agreement, AgreementState
from pejling.api.tokens import token_create
from pejling.core.history import StateConflictError
from tests.api.helpers import ApiClient
from tests.factories import YEAR

pytestmark = pytest.mark.django_db


def api(user: Any) -> ApiClient:
    """An API client of ``user`` asking for English messages."""
    secret = token_create(user=user, name="t", scope="read_write", expires_in_days=1).secret
    client = ApiClient(secret)
    client.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def page(user: Any) -> Client:
    """A signed-in browser of ``user`` asking for English pages."""
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def stale(agreement: Agreement) -> Agreement:
    """The agreement as a page or request loaded it before someone else's step."""
    return Agreement.objects.select_related("unit").get(pk=agreement.pk)


def names(user: Any, agreement: Agreement) -> list[str]:
    return [s.name for s in workflow.available_steps(user, agreement)]


def test_the_steps_each_person_may_take_follow_the_table(org, agreement):
    assert names(org.head, agreement) == ["submit"]
    assert names(org.parent_head, agreement) == ["submit"]  # a head above may submit too
    assert names(org.employee, agreement) == []
    assert names(org.colleague, agreement) == []
    services.agreement_submit(agreement=agreement, by=org.head)
    assert names(org.head, agreement) == []  # may not agree one's own unit
    assert names(org.parent_head, agreement) == ["agree", "return"]
    assert names(org.executive, agreement) == ["agree", "return"]
    services.agreement_agree(agreement=agreement, by=org.parent_head)
    assert names(org.head, agreement) == ["publish", "revise"]
    services.agreement_publish(agreement=agreement, by=org.head)
    assert names(org.head, agreement) == ["revise"]
    assert names(org.employee, agreement) == []


def test_the_page_shows_the_buttons_of_the_available_steps_only(org, agreement):
    url = reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])
    response = page(org.head).get(url)
    assert list(response.context["steps"]) == ["submit"]
    content = response.content.decode()
    assert reverse("agreements:agreement_transition", args=[org.unit.code, YEAR, "submit"]) in (
        content
    )
    assert "agree" not in response.context["steps"]
    services.agreement_submit(agreement=agreement, by=org.head)
    response = page(org.executive).get(url)
    assert list(response.context["steps"]) == ["agree", "return"]
    assert response.context["four_eyes"] is None


def test_the_api_lists_and_accepts_the_same_steps(org, agreement):
    path = f"/agreements/{org.unit.code}/{YEAR}"
    assert api(org.head).get(path).json()["steps"] == ["submit"]
    assert api(org.executive).get(path).json()["steps"] == []
    response = api(org.head).post(f"{path}/submit", {})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "submitted"
    assert api(org.executive).get(path).json()["steps"] == ["agree", "return"]
    refused = api(org.head).post(f"{path}/agree", {})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


def test_an_unknown_step_on_the_page_is_a_404(org, agreement):
    url = reverse("agreements:agreement_transition", args=[org.unit.code, YEAR, "delete"])
    assert page(org.head).post(url).status_code == 404


# Racing steps (one after the other here; tests/agreements/test_races.py runs them at once) -----


def test_a_step_on_a_stale_agreement_is_checked_on_the_stored_row(org, agreement):
    loaded = stale(agreement)
    services.agreement_submit(agreement=agreement, by=org.head)
    services.agreement_return(agreement=agreement, by=org.executive, comment="More please")
    # The approver's page still showed "submitted": agreeing now would agree a draft.
    with pytest.raises(StateConflictError):
        services.agreement_agree(agreement=loaded, by=org.parent_head)
    assert loaded.state == AgreementState.DRAFT  # the caller's object now shows what is stored
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.DRAFT and agreement.agreed_by is None


def test_an_edit_after_a_submit_loses_and_the_summary_stays(org, agreement):
    loaded = stale(agreement)
    services.agreement_submit(agreement=agreement, by=org.head)
    with pytest.raises(StateConflictError):
        services.agreement_update(
            agreement=loaded, by=org.head, summary="Changed", expected_version=1
        )
    agreement.refresh_from_db()
    assert (agreement.state, agreement.summary) == (AgreementState.SUBMITTED, "Our year")


def test_a_submit_does_not_save_a_stale_summary(org, agreement):
    """The submit saves only the fields it changes: a summary saved in between stays."""
    loaded = stale(agreement)
    services.agreement_update(agreement=agreement, by=org.head, summary="New", expected_version=1)
    services.agreement_submit(agreement=loaded, by=org.head)
    agreement.refresh_from_db()
    assert (agreement.state, agreement.summary) == (AgreementState.SUBMITTED, "New")
    last = agreement.history.order_by("-history_date", "-history_id").first()
    assert last.summary == "New" and last.history_change_reason == "submitted"


def test_the_api_answers_a_lost_step_with_409(org, agreement):
    path = f"/agreements/{org.unit.code}/{YEAR}"
    services.agreement_submit(agreement=agreement, by=org.head)
    services.agreement_return(agreement=agreement, by=org.executive, comment="Again")
    response = api(org.parent_head).post(f"{path}/agree", {})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "draft" in response.json()["message"]


def test_the_page_says_a_step_was_lost_and_changes_nothing(org, agreement):
    services.agreement_submit(agreement=agreement, by=org.head)
    services.agreement_agree(agreement=agreement, by=org.executive)
    url = reverse("agreements:agreement_transition", args=[org.unit.code, YEAR, "return"])
    response = page(org.parent_head).post(url, {"comment": "Too late"}, follow=True)
    assert "this step is not possible now" in response.content.decode()
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.AGREED


# Four-eyes --------------------------------------------------------------------------------------


def test_the_person_who_submitted_cannot_agree(org, agreement):
    services.agreement_submit(agreement=agreement, by=org.parent_head)
    agreement.refresh_from_db()
    assert agreement.submitted_by == org.parent_head
    assert names(org.parent_head, agreement) == ["return"]
    with pytest.raises(workflow.FourEyesError):
        services.agreement_agree(agreement=agreement, by=org.parent_head)
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.SUBMITTED
    services.agreement_agree(agreement=agreement, by=org.executive)  # another person may
    assert agreement.agreed_by == org.executive


def test_the_page_and_the_api_say_why_the_submitter_cannot_agree(org, agreement):
    services.agreement_submit(agreement=agreement, by=org.parent_head)
    url = reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])
    response = page(org.parent_head).get(url)
    assert list(response.context["steps"]) == ["return"]
    assert response.context["four_eyes"]
    assert 'id="four-eyes"' in response.content.decode()
    path = f"/agreements/{org.unit.code}/{YEAR}"
    assert "four-eyes" in api(org.parent_head).get(path).json()["four_eyes"]
    refused = api(org.parent_head).post(f"{path}/agree", {})
    assert refused.status_code == 403
    assert refused.json()["code"] == "four_eyes"
    assert "four-eyes" in refused.json()["message"]
    posted = page(org.parent_head).post(
        reverse("agreements:agreement_transition", args=[org.unit.code, YEAR, "agree"]),
        follow=True,
    )
    assert "four-eyes" in posted.content.decode()
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.SUBMITTED


def test_a_new_submission_is_judged_by_who_submitted_it_last(org, agreement):
    services.agreement_submit(agreement=agreement, by=org.parent_head)
    services.agreement_return(agreement=agreement, by=org.executive, comment="Sharper")
    services.agreement_submit(agreement=agreement, by=org.head)
    services.agreement_agree(agreement=agreement, by=org.parent_head)
    assert agreement.state == AgreementState.AGREED


def test_four_eyes_can_be_switched_off(org, agreement, settings):
    settings.PEJLING_FOUR_EYES = False
    services.agreement_submit(agreement=agreement, by=org.parent_head)
    assert names(org.parent_head, agreement) == ["agree", "return"]
    services.agreement_agree(agreement=agreement, by=org.parent_head)
    assert agreement.state == AgreementState.AGREED


def test_four_eyes_refusal_is_a_permission_error(org, agreement):
    services.agreement_submit(agreement=agreement, by=org.parent_head)
    assert isinstance(workflow.refusal(org.parent_head, agreement, "agree"), PermissionDenied)
