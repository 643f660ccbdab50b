"""Every kind of page, reached by following links as a person would: WCAG 2.1 AA and CSP.

The crawl follows the links of the pages it reaches (a couple of pages per URL pattern), so
pages added later are covered without listing them here.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from e2e.browser import crawl, log_in, watch_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# One class per crawl: pytest-xdist's --dist loadscope keeps a module's test functions on one
# worker but hands out each class on its own, so the three long crawls run side by side.


class TestTheStrategyOfficesPages:
    def test_every_page_the_strategy_office_reaches_meets_wcag_21_aa(self, page: Page) -> None:
        log_in(page, "strategi")
        visited = crawl(page, "/")
        assert len(visited) >= 20, visited


class TestAnEmployeesPages:
    def test_every_page_an_employee_reaches_meets_wcag_21_aa(self, page: Page) -> None:
        log_in(page, "medarbetare")
        visited = crawl(page, "/")
        assert len(visited) >= 10, visited


class TestTheStrategyOfficesPagesUnderCsp:
    def test_every_page_the_strategy_office_reaches_obeys_the_content_security_policy(
        self,
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
