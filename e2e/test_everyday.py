"""Everyday use in the browser: each person's inbox on the start page, the status a report sets
shown on the agreement, error pages in the layout, Excel downloads and the phone layout; every
page checked with axe-core. One browser page per test, the log-ins reused within it."""

from __future__ import annotations

import io

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from e2e.browser import _, check_a11y, log_in, visit, watch_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_each_person_finds_what_waits_for_them_on_the_start_page(page: Page) -> None:
    inbox = page.get_by_test_id("inbox")
    # The director (executive board) may agree every submitted agreement.
    log_in(page, "direktor")
    expect(inbox.get_by_role("link", name=_("Agree or return")).first).to_be_visible()
    # The administration head: the department's submitted agreement waits for her.
    log_in(page, "forvaltningschef")
    expect(inbox).to_contain_text("Hemtjänst")
    expect(inbox.get_by_role("link", name=_("Agree or return")).first).to_be_visible()
    # The department head: her units and their state, and compliance for her own units.
    log_in(page, "avdelningschef")
    expect(page.get_by_test_id("my-units")).to_contain_text("Hemtjänst")
    visit(page, "/followup/compliance/")
    expect(page.locator("main h1")).to_be_visible()
    # The unit head: her draft waits for her, one click away.
    log_in(page, "enhetschef")
    link = inbox.get_by_role("link", name=_("Finish and submit"))
    expect(link).to_be_visible()
    with page.expect_navigation():
        link.click()
    check_a11y(page)
    expect(page).to_have_url(page.url.split("?")[0])
    assert "/agreements/VOF-HEM-NOR/" in page.url


def test_a_reported_status_shows_on_the_agreement(page: Page) -> None:
    from pejling.agreements.models import Agreement, AgreementState
    from pejling.followup.models import Deadline, DeadlineKind

    agreement = (
        Agreement.objects.filter(
            year=2026, state=AgreementState.PUBLISHED, initiatives__isnull=False
        )
        .select_related("unit")
        .order_by("unit__path")
        .first()
    )
    deadline = (
        Deadline.objects.filter(year=2026, kind=DeadlineKind.REPORT).order_by("-due_date").first()
    )
    assert agreement is not None and deadline is not None
    initiative = agreement.initiatives.order_by("position", "pk").first()
    assert initiative is not None
    log_in(page, "strategi")
    visit(page, f"/reports/{agreement.unit.code}/{deadline.pk}/")
    page.locator(f"#status-{initiative.pk}-at_risk").check()
    page.locator("#save-report").click()
    expect(page.locator(f"#status-{initiative.pk}-at_risk")).to_be_checked()
    page.wait_for_load_state("networkidle")
    check_a11y(page)
    visit(page, f"/agreements/{agreement.unit.code}/2026/")
    marker = page.locator("[data-status='at_risk']").first
    expect(marker).to_contain_text(_("At risk"))
    expect(page.locator(".status-provenance").first).to_contain_text("Sara Strand")


def test_error_pages_are_in_the_layout_and_say_where_to_go(page: Page) -> None:
    log_in(page, "medarbetare")
    watch = watch_of(page)
    for path in ("/no/such/page/", "/followup/compliance/"):
        watch.forgive(watch.origin + path)
    response = visit(page, "/no/such/page/")
    assert response is not None and response.status == 404
    expect(page.get_by_test_id("error-page")).to_contain_text(_("Page not found"))
    response = visit(page, "/followup/compliance/")
    assert response is not None and response.status == 403
    expect(page.get_by_test_id("error-page")).to_contain_text(_("You cannot open this page"))
    expect(page.get_by_role("link", name=_("Your start page"))).to_be_visible()


def test_the_agreements_list_downloads_as_excel(page: Page) -> None:
    log_in(page, "strategi")
    visit(page, "/agreements/?year=2026&state=published")
    with page.expect_download() as info:
        page.get_by_role("link", name=_("Excel (xlsx)")).click()
    with open(info.value.path(), "rb") as file:
        sheet = openpyxl.load_workbook(io.BytesIO(file.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == _("Unit") and len(rows) > 2
    assert all(isinstance(row[5], int) for row in rows[1:])  # initiatives: numbers


def test_the_phone_layout_collapses_the_menu_and_scrolls_tables_in_their_box(page: Page) -> None:
    log_in(page, "strategi")
    page.set_viewport_size({"width": 390, "height": 800})
    visit(page, "/agreements/?year=2026")
    menu = page.locator("details.site-menu")
    nav = page.get_by_role("navigation", name=_("Main"))
    expect(nav).to_be_hidden()
    menu.locator("summary").click()
    expect(nav).to_be_visible()
    check_a11y(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(nav).to_be_visible()
