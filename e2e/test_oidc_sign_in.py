"""Signing in with OpenID Connect in a real browser, against the test identity provider
(django-oauth-toolkit in a process of its own, see tests/sso/idp_oidc/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.sso.idp_oidc.harness import Idp, start_idp

from e2e.browser import _, check_a11y, visit, watch_of
from pejling.sso import oidc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_ID = "pejling-e2e"
CLIENT_SECRET = "pejling-e2e-client-secret"
PASSWORD = "idp password 1"


@pytest.fixture(scope="module")
def idp(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Idp]:
    provider = start_idp(Path(tmp_path_factory.mktemp("e2e_idp_oidc")))
    try:
        provider.add_client(CLIENT_ID, CLIENT_SECRET, f"{live_server.url}/sso/oidc/callback/")
        # The demo's employee, Olle Berg; the provider spells the user name differently.
        provider.add_person(
            "olle",
            PASSWORD,
            preferred_username="Medarbetare",
            given_name="Olle",
            family_name="Berg",
            email="olle.berg@fjardvik.example",
        )
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def oidc_on(settings: Any, idp: Idp) -> Idp:
    settings.PEJLING_OIDC = {
        "enabled": True,
        "name": "Fjärdviks konto",
        "issuer": idp.issuer,
        "username_claim": "preferred_username",
        "groups_claim": "groups",
    }
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, oidc.BACKEND]
    oidc.forget_discovery()
    return idp


def _sign_in_at_the_provider(page: Page) -> None:
    expect(page.locator("h1")).to_have_text("Test identity provider")
    page.locator("input[name=username]").fill("olle")
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation(url=re.compile(re.escape(watch_of(page).origin) + r"/$")):
        page.locator("button[type=submit]").click()


def test_an_employee_signs_in_with_the_organisations_account(page: Page, oidc_on: Idp) -> None:
    visit(page, "/accounts/login/")  # axe checks the log-in page with its SSO button
    button = page.locator("a[href^='/sso/oidc/authenticate/']")
    expect(button).to_contain_text("Fjärdviks konto")

    with page.expect_navigation(url=re.compile("^" + re.escape(oidc_on.url))):
        button.click()
    _sign_in_at_the_provider(page)

    check_a11y(page)
    expect(page.locator("main h2", has_text=_("My part of the whole")).first).to_be_visible()
    expect(page.locator(".site-user")).to_contain_text("Olle Berg")


def test_the_sign_in_obeys_the_content_security_policy(strict_page: Page, oidc_on: Idp) -> None:
    """Without bypassing CSP: no console error (a CSP violation) on the way there and back."""
    page = strict_page
    page.goto("/accounts/login/?next=/strategies/")
    with page.expect_navigation(url=re.compile("^" + re.escape(oidc_on.url))):
        page.locator("a[href^='/sso/oidc/authenticate/']").click()
    expect(page.locator("h1")).to_have_text("Test identity provider")
    page.locator("input[name=username]").fill("olle")
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation(url=re.compile(r"/strategies/$")):
        page.locator("button[type=submit]").click()
    expect(page.locator(".site-user")).to_contain_text("Olle Berg")
