"""Error pages are in the layout, in the reader's language, and say why and where to go."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation


def _client(user: Any, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def test_forbidden_names_the_roles_and_links_onward(org: Any) -> None:
    response = _client(org.employee).get(reverse("audit:trail"))
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-testid="error-page"' in page and "site-header" in page
    assert "You cannot open this page" in page
    assert org.unit.name in page  # the roles the person holds, by unit
    assert reverse("home") in page


def test_not_found_is_translated(org: Any, settings: Any) -> None:
    client = _client(org.employee)
    client.post(reverse("set_language"), {"language": "sv"})
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'lang="sv"' in page
    assert "Sidan finns inte" in page


def test_csrf_failure_explains_and_saves_nothing(org: Any) -> None:
    client = Client(enforce_csrf_checks=True, headers={"accept-language": "en"})
    client.force_login(org.employee)
    response = client.post(reverse("logout"))
    assert response.status_code == 403
    assert "The form had expired" in response.content.decode()


@pytest.mark.parametrize("status", [500])
def test_server_error_page_renders_in_the_layout(rf: Any, status: int) -> None:
    from pejling.core.views import error_500

    request = rf.get("/")
    with translation.override("en"):
        response = error_500(request)
    assert response.status_code == status
    assert b"Something went wrong on our side" in response.content
