"""Every kind of page, reached by following links as a person would: WCAG 2.1 AA and CSP.

The crawl follows the links of the pages it reaches (a couple of pages per URL pattern), so
pages added later are covered without listing them here.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from e2e.browser import crawl, log_in, watch_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_page_the_strategy_office_reaches_meets_wcag_21_aa(page: Page) -> None:
    log_in(page, "strategi")
    visited = crawl(page, "/")
    assert len(visited) >= 20, visited


def test_every_page_an_employee_reaches_meets_wcag_21_aa(page: Page) -> None:
    log_in(page, "medarbetare")
    visited = crawl(page, "/")
    assert len(visited) >= 10, visited


def test_every_page_the_strategy_office_reaches_obeys_the_content_security_policy(
    strict_page: Page,
) -> None:
    page = strict_page
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill("strategi")
    page.locator("input[name=password]").fill("fjardvik-strategi")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    visited = crawl(page, "/")
    assert len(visited) >= 20, visited
    assert not [e for e in watch_of(page).console_errors if "Content Security Policy" in e]
