"""Everyday use in the browser: each person's inbox on the start page, the status a report sets
shown on the agreement, error pages in the layout, Excel downloads and the phone layout; every
page checked with axe-core. One browser page per test, the log-ins reused within it."""

from __future__ import annotations

import io

import openpyxl
import pytest
from playwright.sync_api import Locator, Page, expect

from e2e.browser import _, check_a11y, log_in, visit, watch_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_each_person_finds_what_waits_for_them_on_the_start_page(page: Page) -> None:
    inbox = page.get_by_test_id("inbox")
    mine = page.get_by_test_id("my-units")
    # The director (executive board) may agree every submitted agreement.
    log_in(page, "direktor")
    expect(inbox.get_by_role("link", name=_("Agree or return")).first).to_be_visible()
    expect(mine).to_contain_text("Kommunledningen")
    # The administration head: the home-care department's submitted agreement waits for him.
    log_in(page, "forvaltningschef")
    expect(inbox).to_contain_text("Hemtjänst")
    expect(inbox.get_by_role("link", name=_("Agree or return")).first).to_be_visible()
    # The department head: her unit's submitted revision waits for her; her units, with their
    # traffic light in words; compliance for her own units.
    log_in(page, "avdelningschef")
    item = inbox.locator("li", has_text="Hemtjänst syd")
    expect(item.get_by_role("link", name=_("Agree or return"))).to_be_visible()
    expect(mine).to_contain_text("Hemtjänst")
    expect(mine.locator(".status-marker").first).not_to_be_empty()
    with page.expect_navigation():
        item.get_by_role("link", name=_("Agree or return")).click()
    check_a11y(page)
    assert "/agreements/VOF-HEM-SYD/2026/" in page.url
    visit(page, "/followup/compliance/?year=2026")
    matrix = page.locator("table.matrix")
    expect(matrix.get_by_role("rowheader", name="Hemtjänst norr")).to_be_visible()
    expect(matrix.get_by_role("rowheader", name="Hemtjänst syd")).to_be_visible()
    expect(matrix).not_to_contain_text("Särskilt boende")  # not hers
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
    from pejling.organisation.models import Unit

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
    # The dashboard counts it for the unit's administration, with a light in words.
    visit(page, "/followup/dashboard/?year=2026")
    units = page.get_by_test_id("unit-status")
    administration = Unit.objects.get(path=agreement.unit.path[: 2 * Unit.steplen])
    row = units.locator("tr", has=page.get_by_role("rowheader", name=administration.name))
    expect(row.locator(".status-marker")).not_to_be_empty()
    assert int(row.locator("td").nth(2).inner_text()) >= 1  # at risk


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


def _download(page: Page, link: Locator) -> list[tuple]:
    with page.expect_download() as info:
        link.click()
    with open(info.value.path(), "rb") as file:
        data = file.read()
    if info.value.suggested_filename.endswith(".csv"):
        text = data.decode("utf-8-sig")
        return [tuple(line.split(";")) for line in text.splitlines()]
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return list(sheet.iter_rows(values_only=True))


def test_tables_download_as_excel_and_csv_with_numbers_as_numbers(page: Page) -> None:
    log_in(page, "strategi")
    visit(page, "/agreements/?year=2026&state=published")
    rows = _download(page, page.get_by_role("link", name=_("Excel (xlsx)")))
    assert rows[0][0] == _("Unit") and len(rows) > 2
    assert all(isinstance(row[5], int) for row in rows[1:])  # initiatives: numbers
    # The dashboard's initiatives by unit: counts as numbers, the light as words.
    visit(page, "/followup/dashboard/?year=2026")
    section = page.locator("section", has=page.get_by_test_id("unit-status"))
    rows = _download(page, section.get_by_role("link", name=_("Excel (xlsx)")))
    assert rows[0][0] == _("Unit") and len(rows) > 5
    assert all(isinstance(n, int) for row in rows[1:] for n in row[2:7])
    assert {row[1] for row in rows[1:]} <= {
        _("On track"),
        _("At risk"),
        _("Off track"),
        _("No report yet"),
        _("No initiatives"),
    }
    # The annual cycle as CSV in Swedish: semicolons, ISO dates.
    visit(page, "/followup/cycle/?year=2026")
    rows = _download(page, page.get_by_role("link", name="CSV"))
    assert rows[0][0] == _("Date") and rows[1][0].startswith("2026-")
    # The department head downloads the compliance of her own units only.
    log_in(page, "avdelningschef")
    visit(page, "/followup/compliance/?year=2026")
    rows = _download(page, page.get_by_role("link", name=_("Excel (xlsx)")))
    assert {row[0] for row in rows[1:]} == {"Hemtjänst norr", "Hemtjänst syd"}


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
    # The dashboard's wide tables scroll in their own box, not the page.
    visit(page, "/followup/dashboard/?year=2026")
    check_a11y(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the dashboard scrolls sideways ({width} px)"
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(nav).to_be_visible()
