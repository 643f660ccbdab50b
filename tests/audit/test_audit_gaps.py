"""What the audit trail records beyond content: API tokens created and revoked, calendar
addresses replaced, agreement versions frozen; and what caches may keep of signed-in answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from pejling.agreements import services
from pejling.api.models import ApiToken
from pejling.api.tokens import token_create, token_revoke
from pejling.audit.trail import AuditFilters, audit_page
from pejling.followup.models import CalendarFeed
from tests.api.helpers import ApiClient

pytestmark = pytest.mark.django_db


def session(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def trail(model: str) -> list[Any]:
    entries, _more = audit_page(AuditFilters(model=model), after=None, limit=50)
    return entries


def test_creating_and_revoking_a_token_are_in_the_trail_without_its_secret(org):
    new = token_create(user=org.head, name="Rapportskript", scope="read", expires_in_days=30)
    token_revoke(token=new.token, by=org.head)

    entries = trail("api.apitoken")
    assert [(e.kind, e.reason_code, e.who) for e in entries] == [
        ("~", "token revoked", org.head),
        ("+", "token created", org.head),
    ]
    assert entries[0].object_label.startswith("Rapportskript")
    assert [c.field for c in entries[0].changes] == ["revoked_at"]
    shown = repr([e.shown_changes for e in entries])
    assert new.token.key_hash not in shown and new.secret not in shown
    historical = ApiToken.history.model
    assert "key_hash" not in {f.name for f in historical._meta.fields}


def test_creating_and_revoking_a_token_on_its_page_are_in_the_trail(org):
    client = session(org.head)
    response = client.post(
        reverse("api:token_list"),
        {"name": "Från sidan", "scope": "read", "expires_in_days": 30},
    )
    assert response.status_code in (200, 201, 302)
    token = ApiToken.objects.get(user=org.head)
    client.post(reverse("api:token_revoke", args=[token.pk]))
    reasons = [e.reason_code for e in trail("api.apitoken")]
    assert reasons == ["token revoked", "token created"]


def test_replacing_the_calendar_address_is_in_the_trail_without_the_secret(org):
    client = session(org.employee)
    client.get(reverse("followup:cycle"))
    old = CalendarFeed.objects.get(user=org.employee).token
    client.post(reverse("followup:calendar_reset"))
    new = CalendarFeed.objects.get(user=org.employee).token
    assert new != old
    assert client.get(f"/followup/calendar/{old}.ics").status_code == 404

    entries = trail("followup.calendarfeed")
    assert [(e.kind, e.reason_code, e.who) for e in entries] == [
        ("~", "calendar reset", org.employee),
        ("+", "", org.employee),
    ]
    assert old not in repr([e.shown_changes for e in entries])
    assert new not in repr([e.shown_changes for e in entries])


def test_a_frozen_agreement_version_is_in_the_trail(org, agreement):
    services.agreement_submit(agreement=agreement, by=org.head)
    services.agreement_agree(agreement=agreement, by=org.parent_head)
    entries = trail("agreements.agreementversion")
    assert [(e.kind, e.reason_code, e.who) for e in entries] == [
        ("+", "version frozen", org.parent_head)
    ]


# Caching ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/", "/organisation/", "/indicators/", "/audit/", "/audit/export.csv", "/api/v1/units"],
)
def test_signed_in_pages_api_answers_and_exports_are_never_cached(org, url):
    response = session(org.office).get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_an_api_answer_to_a_bearer_token_is_never_cached(org):
    api = ApiClient(
        token_create(user=org.office, name="Läsare", scope="read", expires_in_days=5).secret
    )
    response = api.get("/units")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_errors_to_signed_in_people_are_never_cached(org):
    response = session(org.employee).get("/indicators/NO-SUCH-CODE/")
    assert response.status_code == 404
    assert response["Cache-Control"] == "private, no-store"


def test_the_calendar_feed_is_never_cached(org):
    client = session(org.employee)
    client.get(reverse("followup:cycle"))
    token = CalendarFeed.objects.get(user=org.employee).token
    response = Client().get(f"/followup/calendar/{token}.ics")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_an_anonymous_answer_that_chose_its_own_caching_keeps_it():
    response = Client().get("/favicon.ico")
    assert response["Cache-Control"] == "max-age=86400"
    login = Client().get(reverse("login"))
    assert "no-store" in login["Cache-Control"]
