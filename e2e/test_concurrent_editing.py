"""Two people edit the same agreement summary in two browsers: the second save is refused,
shows what the first changed and keeps the second person's text; nothing is overwritten.
The strategy office then finds both changes, and where they came from, in the audit trail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.browser import _, log_in, open_page, submit, visit, watch_of
from pejling.agreements.models import Agreement, AgreementState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNIT = "VOF-HEM-NOR"
YEAR = 2026
EDIT_URL = f"/agreements/{UNIT}/{YEAR}/edit/"


@pytest.fixture
def second_page(browser: Browser, live_server: Any) -> Iterator[Page]:
    """A second browser context: its own cookies, so its own session."""
    context, page = open_page(browser, live_server.url, bypass_csp=True)
    yield page
    context.close()
    problems = watch_of(page).problems()
    if problems:
        pytest.fail("The browser reported problems:\n  " + "\n  ".join(problems), pytrace=False)


def test_the_second_of_two_browsers_saving_is_refused_and_shown_the_first_change(
    page: Page, second_page: Page
) -> None:
    agreement = Agreement.objects.get(unit__code=UNIT, year=YEAR)
    assert agreement.state == AgreementState.DRAFT
    log_in(page, "enhetschef")
    log_in(second_page, "avdelningschef")
    visit(page, EDIT_URL)
    visit(second_page, EDIT_URL)  # both forms are open before either saves

    page.locator("#id_summary").fill("Enhetschefens sammanfattning")
    submit(page, page.locator("main form button[type=submit]"))
    expect(page.locator(".messages")).to_contain_text(_("The agreement was saved."))

    second_page.locator("#id_summary").fill("Avdelningschefens sammanfattning")
    submit(second_page, second_page.locator("main form button[type=submit]"))
    expect(second_page).to_have_url(re.compile(re.escape(EDIT_URL) + "$"))
    summary = second_page.locator(".ds-error-summary")
    expect(summary).to_contain_text("Enhetschefens sammanfattning")
    expect(summary).to_contain_text(agreement.summary[:40])
    expect(second_page.locator("#id_summary")).to_have_value("Avdelningschefens sammanfattning")
    assert Agreement.objects.get(pk=agreement.pk).summary == "Enhetschefens sammanfattning"

    # Having seen the other change, saving again is a deliberate choice and goes through.
    submit(second_page, second_page.locator("main form button[type=submit]"))
    expect(second_page.locator(".messages")).to_contain_text(_("The agreement was saved."))
    assert Agreement.objects.get(pk=agreement.pk).summary == "Avdelningschefens sammanfattning"

    log_in(page, "strategi")
    visit(page, "/audit/?model=agreements.agreement")
    expect(page.locator("h1")).to_have_text(_("Audit trail"))
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_contain_text("Avdelningschefens sammanfattning")
    expect(rows.first).to_contain_text(_("web page"))
    expect(rows.nth(1)).to_contain_text("Enhetschefens sammanfattning")
