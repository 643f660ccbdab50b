"""The app's own scripts and styles obey its strict Content-Security-Policy.

The other browser tests bypass CSP so that axe-core can be injected; here the browser
enforces the policy, and any violation shows as a console error that fails the test.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.browser import DEMO_PASSWORDS, settle, watch_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pages_load_their_scripts_and_styles_without_breaking_the_content_security_policy(
    strict_page: Page,
) -> None:
    page = strict_page
    response = page.goto("/accounts/login/")
    assert response is not None
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy

    page.locator("input[name=username]").fill("enhetschef")
    page.locator("input[name=password]").fill(DEMO_PASSWORDS["enhetschef"])
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()

    for path in [
        "/",
        "/strategies/koncernstrategi-2025-2026/",
        "/agreements/VOF-HEM-NOR/2026/",
        "/agreements/VOF-HEM-NOR/2026/initiatives/new/",
    ]:
        page.goto(path)
        # Loaded, and the panels htmx loads on it answered: leaving while they are in flight
        # aborts them, which the watch reports as failed requests.
        settle(page)
        # The stylesheets applied (Designsystemet's theme, its CSS, app.css); htmx ran.
        assert page.evaluate("() => document.styleSheets.length") >= 3
        theme = "getComputedStyle(document.documentElement).getPropertyValue('--ds-color-accent-base-default')"
        assert page.evaluate(f"() => {theme}").strip()
        assert (
            page.evaluate("() => getComputedStyle(document.querySelector('.ds-button')).cursor")
            == "pointer"
        )
        app_css = "getComputedStyle(document.querySelector('.site-header__inner')).display"
        assert page.evaluate(f"() => {app_css}") == "flex"
        assert page.evaluate("() => typeof window.htmx") == "object"

    # htmx swaps the organisation tree under the policy too (no eval, no inline styles).
    page.goto("/organisation/")
    with page.expect_response(
        lambda r: "q=" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.locator("#unit-search").fill("hemtj")
    expect(page.locator("#unit-tree .tree > li")).to_have_count(3)

    csp_errors = [e for e in watch_of(page).console_errors if "Content Security Policy" in e]
    assert csp_errors == []
