"""Personal API tokens and the browser session: who gets in, and how far."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from pejling.api.models import ApiToken, TokenScope
from pejling.api.tokens import hash_secret, token_create, token_revoke
from tests.api.helpers import BASE, ApiClient, assert_error


def test_a_request_without_credentials_is_refused_with_401(api: Any) -> None:
    assert_error(api().get("/units"), 401, "unauthenticated")


def test_a_request_without_credentials_is_not_redirected_to_the_login_page(org: Any) -> None:
    response = Client().get(BASE + "/units")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


def test_a_valid_token_acts_as_its_owner(api: Any, org: Any) -> None:
    response = api(org.head).get("/units")
    assert response.status_code == 200
    assert "exec" in [u["code"] for u in response.json()["items"]]


def test_an_unknown_token_is_refused_with_401(org: Any) -> None:
    assert_error(ApiClient("pjl_not-a-real-token").get("/units"), 401, "invalid_token")
    assert_error(ApiClient("something-else").get("/units"), 401, "invalid_token")


def test_an_expired_token_is_refused_with_401(org: Any) -> None:
    new = token_create(user=org.head, name="short", scope=TokenScope.READ, expires_in_days=1)
    assert ApiClient(new.secret).get("/units").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        assert_error(ApiClient(new.secret).get("/units"), 401, "token_expired")


def test_a_revoked_token_is_refused_with_401(org: Any) -> None:
    new = token_create(user=org.head, name="gone", scope=TokenScope.READ, expires_in_days=5)
    token_revoke(token=new.token, by=org.head)
    assert_error(ApiClient(new.secret).get("/units"), 401, "token_revoked")


def test_the_token_of_a_deactivated_person_is_refused(org: Any) -> None:
    new = token_create(user=org.head, name="t", scope=TokenScope.READ, expires_in_days=5)
    org.head.is_active = False
    org.head.save()
    assert_error(ApiClient(new.secret).get("/units"), 401, "invalid_token")


def test_only_the_hash_of_a_token_is_stored(org: Any) -> None:
    new = token_create(user=org.head, name="t", scope=TokenScope.READ, expires_in_days=5)
    stored = ApiToken.objects.get(pk=new.token.pk)
    assert stored.key_hash == hash_secret(new.secret)
    assert new.secret not in {stored.key_hash, stored.prefix, stored.name}
    assert new.secret.startswith(stored.prefix)


def test_using_a_token_records_when_it_was_last_used(org: Any) -> None:
    new = token_create(user=org.head, name="t", scope=TokenScope.READ, expires_in_days=5)
    assert new.token.last_used_at is None
    ApiClient(new.secret).get("/units")
    new.token.refresh_from_db()
    assert new.token.last_used_at is not None


def test_a_read_only_token_reads_but_is_refused_with_403_on_every_write(
    api: Any, org: Any, cascade: Any
) -> None:
    client = api(org.office, scope="read")
    assert client.get("/strategies").status_code == 200
    assert_error(
        client.post(
            "/strategies", {"code": "x", "title": "X", "start_year": 2026, "end_year": 2026}
        ),
        403,
        "read_only_token",
    )
    assert_error(
        client.patch("/strategies/group", {"title": "Y", "edit_version": 1}), 403, "read_only_token"
    )
    assert_error(client.delete(f"/elements/{cascade.goal_3.pk}"), 403, "read_only_token")
    assert_error(client.post("/agreements/unit-a1a/2026/submit", {}), 403, "read_only_token")


def test_a_token_never_reaches_further_than_its_owner(api: Any, org: Any) -> None:
    """The colleague heads the sibling unit: their token cannot start the head's agreement."""
    response = api(org.colleague).post("/agreements", {"unit": "unit-a1a", "year": 2026})
    assert_error(response, 403, "forbidden")


def test_the_browser_session_reads_the_api(org: Any) -> None:
    client = Client()
    client.force_login(org.head)
    assert client.get(BASE + "/units").status_code == 200


def test_the_browser_session_needs_the_csrf_token_to_write(org: Any, cascade: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.head)
    url = BASE + "/agreements"
    body = '{"unit": "unit-a1a", "year": 2026}'
    assert_error(client.post(url, body, content_type="application/json"), 403, "csrf_failed")
    client.get("/")  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        url, body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201, response.content


@override_settings(PEJLING_API_RATE_LIMIT=3)
def test_more_requests_than_the_rate_limit_get_429(api: Any, org: Any) -> None:
    client = api(org.head)
    with time_machine.travel(timezone.now().replace(second=1), tick=False):
        assert [client.get("/units").status_code for _ in range(3)] == [200, 200, 200]
        response = client.get("/units")
        assert_error(response, 429, "rate_limited")
        assert 0 < int(response["Retry-After"]) <= 60
        # Another person's token has its own counter.
        assert api(org.office).get("/units").status_code == 200
    with time_machine.travel(timezone.now().replace(second=1) + timedelta(minutes=1), tick=False):
        assert client.get("/units").status_code == 200


@override_settings(PEJLING_API_RATE_LIMIT=2, PEJLING_PROXY_COUNT=1)
def test_a_caller_known_by_address_cannot_escape_the_limit_by_forging_x_forwarded_for() -> None:
    """Counted by the address the proxy saw (``client_ip``, the one home of a caller's
    address), not by the whole header, whose left part the client writes itself."""
    from django.test import RequestFactory

    from pejling.api.auth import FixedWindowThrottle

    throttle = FixedWindowThrottle()
    allowed = []
    with time_machine.travel(timezone.now().replace(second=1), tick=False):  # one window
        for n in range(4):
            request = RequestFactory().get(
                "/api/v1/units", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 192.0.2.7"
            )
            allowed.append(throttle.allow_request(request))
    assert allowed[:2] == [True, True] and not any(allowed[2:])


# The tokens page -------------------------------------------------------------------------------


@pytest.fixture
def browser(org: Any) -> Client:
    client = Client()
    client.force_login(org.head)
    return client


def test_the_tokens_page_makes_a_token_and_shows_its_secret_once(browser: Client, org: Any) -> None:
    response = browser.post(
        "/api/tokens/", {"name": "HR sync", "scope": "read", "expires_in_days": "30"}
    )
    assert response.status_code == 201
    token = ApiToken.objects.get(user=org.head)
    secret = response.context["created"].secret
    assert token.key_hash == hash_secret(secret)
    assert token.scope == TokenScope.READ
    assert secret in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    listed = browser.get("/api/tokens/")
    assert "HR sync" in listed.content.decode()
    assert secret not in listed.content.decode()
    assert ApiClient(secret).get("/units").status_code == 200


def test_the_tokens_page_refuses_a_token_without_a_name_or_too_long_a_life(
    browser: Client, org: Any
) -> None:
    response = browser.post(
        "/api/tokens/", {"name": " ", "scope": "read", "expires_in_days": "999"}
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "expires_in_days"}
    assert not ApiToken.objects.exists()


def test_the_tokens_page_lists_only_ones_own_tokens(browser: Client, org: Any) -> None:
    token_create(user=org.office, name="Office secret job", scope="read", expires_in_days=5)
    token_create(user=org.head, name="My script", scope="read", expires_in_days=5)
    page = browser.get("/api/tokens/").content.decode()
    assert "My script" in page
    assert "Office secret job" not in page


def test_revoking_on_the_tokens_page_stops_the_token(browser: Client, org: Any) -> None:
    new = token_create(user=org.head, name="t", scope="read", expires_in_days=5)
    response = browser.post(f"/api/tokens/{new.token.pk}/revoke/")
    assert response.status_code == 302
    assert_error(ApiClient(new.secret).get("/units"), 401, "token_revoked")


def test_nobody_revokes_another_persons_token(browser: Client, org: Any) -> None:
    new = token_create(user=org.office, name="t", scope="read", expires_in_days=5)
    assert browser.post(f"/api/tokens/{new.token.pk}/revoke/").status_code == 404
    new.token.refresh_from_db()
    assert new.token.revoked_at is None


def test_the_tokens_page_needs_a_signed_in_person(org: Any) -> None:
    response = Client().get("/api/tokens/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
