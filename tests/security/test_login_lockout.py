"""django-axes: five failed log-ins for one username from one address lock that pair out."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from pejling.core.security import client_ip

PASSWORD = "correct horse battery staple"


@pytest.fixture
def lockout(settings: Any) -> None:
    settings.AXES_ENABLED = True  # tests/conftest.py turns it off for every other test


def _fail(client: Client, username: str, times: int) -> Any:
    response = None
    for _ in range(times):
        response = client.post(reverse("login"), {"username": username, "password": "wrong"})
    return response


@pytest.mark.django_db
def test_five_failures_lock_out_the_username_from_that_address(lockout, org, settings) -> None:
    settings.LANGUAGE_CODE = "en"
    client = Client(REMOTE_ADDR="192.0.2.10", HTTP_ACCEPT_LANGUAGE="en")
    assert _fail(client, "head", 4).status_code == 200  # the form again, with its error
    response = _fail(client, "head", 1)
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    html = response.content.decode()
    assert "Too many failed log-ins" in html
    assert "Try again in 15 minutes." in html
    assert 'class="site-header"' in html  # our layout
    # Even the right password is refused now.
    right = client.post(reverse("login"), {"username": "head", "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_lockout_is_per_username_and_address(lockout, org) -> None:
    attacker = Client(REMOTE_ADDR="192.0.2.10")
    assert _fail(attacker, "head", 5).status_code == 429
    # The same person from elsewhere, and another person from the same address, still log in.
    elsewhere = Client(REMOTE_ADDR="198.51.100.7").post(
        reverse("login"), {"username": "head", "password": PASSWORD}
    )
    assert elsewhere.status_code == 302
    colleague = attacker.post(reverse("login"), {"username": "employee", "password": PASSWORD})
    assert colleague.status_code == 302


@pytest.mark.django_db
def test_a_successful_log_in_resets_the_count(lockout, org) -> None:
    client = Client(REMOTE_ADDR="192.0.2.20")
    _fail(client, "head", 4)
    ok = client.post(reverse("login"), {"username": "head", "password": PASSWORD})
    assert ok.status_code == 302
    client.logout()
    assert _fail(client, "head", 4).status_code == 200


@pytest.mark.django_db
def test_the_lockout_page_is_translated(lockout, org) -> None:
    client = Client(REMOTE_ADDR="192.0.2.30", HTTP_ACCEPT_LANGUAGE="sv")
    response = _fail(client, "head", 5)
    assert response.status_code == 429
    with translation.override("sv"):
        assert translation.gettext("Too many failed log-ins") in response.content.decode()
        assert translation.gettext("Too many failed log-ins") != "Too many failed log-ins"


def test_the_client_address_behind_a_proxy_is_the_one_the_proxy_saw(settings) -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5"
    )
    settings.PEJLING_PROXY_COUNT = 0
    assert client_ip(request) == "127.0.0.1"
    settings.PEJLING_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.5"  # not the forged left-most entry
    settings.PEJLING_PROXY_COUNT = 3
    assert client_ip(request) == "127.0.0.1"
