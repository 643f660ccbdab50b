"""Logging in and out, in the browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.browser import DEMO_PASSWORDS, _, check_a11y, log_in, submit, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_employee_logs_in_and_lands_on_my_part_of_the_whole(page: Page) -> None:
    visit(page, "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.locator("h1")).to_have_text(_("Log in to Pejling"))

    page.locator("input[name=username]").fill("medarbetare")
    page.locator("input[name=password]").fill("not-the-password")
    submit(page, page.locator("main button[type=submit]"))
    summary = page.locator(".ds-error-summary[role=alert]")
    expect(summary).to_be_focused()
    expect(page.locator("h1")).to_have_text(_("Log in to Pejling"))

    page.locator("input[name=username]").fill("medarbetare")
    page.locator("input[name=password]").fill(DEMO_PASSWORDS["medarbetare"])
    submit(page, page.locator("main button[type=submit]"))
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("main h2", has_text=_("My part of the whole")).first).to_be_visible()
    expect(page.locator(".site-user")).to_contain_text("Olle Berg")
    expect(page.locator("nav .site-nav a[aria-current=page]")).to_have_attribute("href", "/")


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_main_content(page: Page) -> None:
    log_in(page, "medarbetare")
    page.keyboard.press("Tab")
    skip = page.locator("a.ds-skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    check_a11y(page)


def test_logging_out_leads_back_to_the_login_page(page: Page) -> None:
    log_in(page, "direktor")
    submit(page, page.locator(".site-user button[type=submit]"))
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    visit(page, "/strategies/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/strategies/$"))
