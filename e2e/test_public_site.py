"""The public site as a citizen reads it (no log-in), and the strategy office's preview:
every public page passes axe-core at 1280 and at 320 CSS pixels and reflows without
horizontal scrolling (data tables aside). Screenshots at 1280 and 390 px in Swedish and
English go to $PEJLING_SHOTS when it is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test.utils import override_settings
from playwright.sync_api import Page, expect

from e2e.browser import check_a11y, log_in, visit, watch_of
from e2e.test_reflow import OVERFLOWING

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/open/{lang}/",
    "/open/{lang}/strategies/koncernstrategi-2025-2026/",
    "/open/{lang}/strategies/koncernstrategi-2025-2026/T3.1/",
    "/open/{lang}/strategies/framtidsbild-2031/",
    "/open/{lang}/agreements/",
    "/open/{lang}/agreements/2026/BUF/",
    "/open/{lang}/indicators/",
    "/open/{lang}/indicators/SJUK_PER_ARSARB/",
    "/open/{lang}/search/?q=hemtj",
    "/open/{lang}/data/",
    "/open/{lang}/accessibility/",
]


@pytest.fixture(autouse=True)
def public_site() -> Iterator[None]:
    with override_settings(PEJLING_PUBLIC_SITE=True):
        yield


@pytest.fixture(autouse=True)
def warm(page: Page) -> None:
    """The server's first public answer imports the chart renderer and evaluates every goal:
    allow it more than a page's usual ten seconds."""
    page.request.get("/open/sv/strategies/koncernstrategi-2025-2026/T3.1/", timeout=90_000)


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("PEJLING_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 320])
def test_every_public_page_meets_wcag_21_aa_and_reflows(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    problems = {}
    for path in PAGES:
        response = visit(page, path.format(lang="sv"))
        assert response is not None and response.status == 200, path
        assert not page.context.cookies(), path  # no session, no CSRF cookie
        if width == 320:
            overflowing = page.evaluate(OVERFLOWING)
            if overflowing:
                problems[path] = overflowing[:5]
    assert not problems, "Content wider than 320 CSS px:\n" + "\n".join(
        f"  {path}: {', '.join(items)}" for path, items in problems.items()
    )


def test_a_citizen_finds_a_goal_and_a_units_agreement_without_javascript(
    browser, live_server
) -> None:
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/open/")  # the start page in the browser's language
    expect(page.locator("h1")).to_be_visible()
    page.goto("/open/en/")
    page.get_by_role("link", name="Annual agreements").first.click()
    expect(page.locator("h1")).to_contain_text("Annual agreements")
    page.locator("main a[href*='/agreements/2026/']").first.click()
    expect(page.locator("h1")).to_contain_text("annual agreement 2026")
    page.get_by_role("link", name="Svenska").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    context.close()


def test_screenshots_in_swedish_and_english(page: Page) -> None:
    for lang in ("sv", "en"):
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            for name, path in (
                ("home", "/open/{lang}/"),
                ("goal", "/open/{lang}/strategies/koncernstrategi-2025-2026/T3.1/"),
                ("agreements", "/open/{lang}/agreements/"),
                ("accessibility", "/open/{lang}/accessibility/"),
            ):
                visit(page, path.format(lang=lang))
                _shot(page, f"public-{name}-{lang}-{width}")


def test_the_strategy_office_previews_the_site_while_it_is_off(page: Page) -> None:
    with override_settings(PEJLING_PUBLIC_SITE=False):
        log_in(page, "strategi")
        visit(page, "/publication/")
        _shot(page, "publisher-settings-sv-1280")
        with page.expect_navigation():
            page.get_by_role("link", name="Förhandsvisa som invånare").click()
        check_a11y(page)
        expect(page.locator(".preview-banner")).to_be_visible()
        _shot(page, "preview-home-sv-1280")
        # Citizens meanwhile get nothing.
        response = page.request.get("/open/sv/")
        assert response.status == 404
    watch_of(page).forgive(page.url)
