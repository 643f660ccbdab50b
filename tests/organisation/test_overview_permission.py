"""Who may see the overview, decided once (``permissions.can_see_overview``): the navigation,
the dashboard, the compliance page and the API's evaluations agree."""

from __future__ import annotations

import pytest
from django.test import Client

from pejling.api.tokens import token_create
from pejling.organisation.permissions import can_see_overview
from tests.api.helpers import ApiClient

pytestmark = pytest.mark.django_db

PEOPLE = ["office", "executive", "parent_head", "head", "employee", "outsider"]


@pytest.mark.parametrize("who", PEOPLE)
def test_every_place_asks_the_same_question(org, cascade, who):
    user = getattr(org, who)
    expected = who in {"office", "executive"}
    assert can_see_overview(user) is expected
    client = Client()
    client.force_login(user)
    home = client.get("/")
    assert home.context["can_overview"] is expected
    wanted = 200 if expected else 403
    assert client.get("/followup/dashboard/").status_code == wanted
    # Compliance is also open to unit heads, for their own units (compliance_subtrees).
    heads = {"parent_head", "head"}
    assert client.get("/followup/compliance/").status_code == (
        200 if expected or who in heads else 403
    )
    secret = token_create(user=user, name="t", scope="read", expires_in_days=1).secret
    assert ApiClient(secret).get("/evaluations").status_code == wanted


def test_no_one_signed_out_sees_the_overview(db):
    from django.contrib.auth.models import AnonymousUser

    assert can_see_overview(AnonymousUser()) is False
