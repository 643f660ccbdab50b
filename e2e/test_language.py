"""Choosing the language in the footer: Swedish, Danish, English."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.browser import _, log_in, submit, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = [("da", "Dansk"), ("en", "English"), ("sv", "Svenska")]


def test_the_footer_form_switches_the_language_of_the_page(page: Page) -> None:
    log_in(page, "medarbetare")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    headings = set()
    for code, name in LANGUAGES:
        select = page.locator("#language-select")
        expect(select.locator(f"option[value='{code}']")).to_have_text(name)
        expect(select.locator(f"option[value='{code}']")).to_have_attribute("lang", code)
        select.select_option(code)
        submit(page, page.locator("form.language-form button[type=submit]"))
        expect(page.locator("html")).to_have_attribute("lang", code)
        expect(page.locator("#language-select")).to_have_value(code)
        # The known heading in the language chosen (as translated in the catalogue).
        heading = _("My part of the whole", code)
        expect(page.locator("main h2", has_text=heading).first).to_be_visible()
        headings.add(heading)
    assert "My part of the whole" in headings
    translated = {
        code
        for code, _name in LANGUAGES
        if _("My part of the whole", code) != "My part of the whole"
    }
    # Each translated language shows its own heading.
    assert len(headings) == 1 + len(translated)


def test_the_language_can_be_chosen_before_logging_in(page: Page) -> None:
    visit(page, "/accounts/login/")
    page.locator("#language-select").select_option("en")
    submit(page, page.locator("form.language-form button[type=submit]"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Log in to Pejling")
