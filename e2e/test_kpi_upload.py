"""Uploading KPI values in the browser: a bad file first (every problem named, nothing saved),
then the corrected file (checked by the background worker while the page waits, previewed,
confirmed, written by the worker, saved).

With ``PEJLING_SCREENSHOTS=<folder>`` the import page is photographed at 1280 px while the
worker checks the file and with its preview."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from e2e.browser import _, check_a11y, follow, log_in, submit, visit
from pejling.indicators.models import ImportBatch, ImportStatus, IndicatorValue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# As a Swedish municipality's payroll system exports it: Windows-1252, ";" and decimal comma,
# Swedish headers; the unit by code in one row and by name in another.
BAD = (
    "Indikator;Enhet;Period;Värde\r\n"
    "SJUKDAGAR;VOF-HEM-NOR;2026-11;41,5\r\n"
    "SJUKDAGAR;Hemtjänst söder om ån;2026-11;12\r\n"
    "SJUKDAGAR;VOF-HEM-NOR;2026-13;7\r\n"
    "SJUKDAGAR;VOF-HEM-NOR;2026-12;tolv\r\n"
).encode("cp1252")
GOOD = (
    "Indikator;Enhet;Period;Värde\r\n"
    "SJUKDAGAR;VOF-HEM-NOR;2026-11;41,5\r\n"
    "SJUKDAGAR;Hemtjänst norr;2026-12;12\r\n"
).encode("cp1252")


SHOTS = os.environ.get("PEJLING_SCREENSHOTS", "")


def shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(Path(SHOTS) / f"{name}-1280.png"), full_page=True)


POLL = re.compile(r".*/indicators/imports/\d+/\?seen=.*")


def run_worker(page: Page) -> None:
    """The background worker takes every waiting job; the page, polling, shows the outcome.

    The page's polls are held while the worker runs (they go on to the server once it is done,
    since Playwright answers them only then): the tests' SQLite database is one connection
    shared by the live server and this thread, which cannot read while the worker writes."""
    page.route(POLL, lambda route: route.continue_())
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    finally:
        page.unroute(POLL)


def upload(page: Page, name: str, data: bytes) -> None:
    """Upload a file: its page says the worker is checking it, until the worker has."""
    page.get_by_label(_("File")).set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    submit(page, page.get_by_role("button", name=_("Check the file")))
    expect(page).to_have_url(re.compile(r"/indicators/imports/\d+/$"))
    status = page.locator("#import-status")
    expect(status).to_contain_text(
        _("Checking the file in the background. You may leave this page: the result is kept here.")
    )
    expect(status.locator("progress")).to_be_visible()
    expect(page.locator("#import-announce[aria-live=polite]")).to_have_count(1)
    check_a11y(page)
    shoot(page, f"import-checking-{name}")
    run_worker(page)
    expect(status.locator("progress")).to_have_count(0)  # the polling page shows the outcome
    check_a11y(page)


def test_a_bad_file_is_refused_row_by_row_then_the_corrected_file_is_imported(
    page: Page,
) -> None:
    values = IndicatorValue.objects.filter(
        indicator__code="SJUKDAGAR", unit__code="VOF-HEM-NOR", period__in=["2026-11", "2026-12"]
    )
    before = {v.period: v.value for v in values}
    stored = IndicatorValue.objects.count()

    log_in(page, "strategi")
    visit(page, "/indicators/imports/new/")
    expect(page.locator("h1")).to_have_text(_("Import values"))
    upload(page, "sjukfranvaro.csv", BAD)

    expect(page).to_have_url(re.compile(r"/indicators/imports/\d+/$"))
    alert = page.locator("#import-status [role=alert]")
    expect(alert).to_contain_text("3")
    problems = page.locator("table").first.locator("tbody tr")
    expect(problems).to_have_count(3)
    rows = [
        [cell.strip() for cell in problems.nth(i).locator("td").all_inner_texts()] for i in range(3)
    ]
    # Row numbers as the spreadsheet shows them (the header is row 1); the column as named
    # by the file for what the parser found, and by us for what the mapping found.
    assert rows == [
        ["3", _("Unit"), _("No unit has this code or name."), "Hemtjänst söder om ån"],
        [
            "4",
            "Period",
            _("The period is not one of 2019, 2019-03, 2019M03, 2019T1 or 2019Q1."),
            "2026-13",
        ],
        ["5", "Värde", _("The value is not a number."), "tolv"],
    ], rows
    expect(page.get_by_role("button", name=_("Import the values"))).to_have_count(0)
    assert IndicatorValue.objects.count() == stored, "a refused file wrote values"
    assert ImportBatch.objects.get(filename="sjukfranvaro.csv").status == ImportStatus.FAILED

    follow(page, page.get_by_role("link", name=_("Upload a corrected file")))
    upload(page, "sjukfranvaro.csv", GOOD)
    preview = page.locator("table").first.locator("tbody tr")
    expect(preview).to_have_count(2)
    expect(preview.nth(0)).to_contain_text("VOF-HEM-NOR")
    expect(preview.nth(1)).to_contain_text("Hemtjänst norr")
    expect(page.locator("#import-announce")).to_contain_text(
        _("The file is valid: %(rows)s rows.") % {"rows": 2}
    )
    shoot(page, "import-preview")
    assert IndicatorValue.objects.count() == stored, "a preview wrote values"

    submit(page, page.get_by_role("button", name=_("Import the values")))
    expect(page.locator("#import-status progress")).to_be_visible()  # queued for the worker
    check_a11y(page)
    run_worker(page)
    expected = {"2026-11": Decimal("41.5"), "2026-12": Decimal("12")}
    created = sum(period not in before for period in expected)
    updated = sum(
        period in before and before[period] != value for period, value in expected.items()
    )
    expect(page.locator("#import-status")).to_contain_text(
        _("Imported: %(created)s values created, %(updated)s updated.")
        % {"created": created, "updated": updated}
    )
    assert {v.period: v.value for v in values.all()} == expected

    # Each imported value's own trail names it, who imported it and that it came from the web
    # page (an import records itself once, and history rows only for the values it changed).
    for value in values.all():
        visit(page, f"/audit/?model=indicators.indicatorvalue&object_id={value.pk}")
        newest = page.locator("table tbody tr").first
        expect(newest).to_contain_text(f"SJUKDAGAR · VOF-HEM-NOR · {value.period}")
        expect(newest).to_contain_text(_("web page"))
        expect(newest).to_contain_text("Sara Strand")
    assert IndicatorValue.objects.count() == stored + created


def test_an_interrupted_import_says_so_and_is_tried_again(page: Page) -> None:
    """An import whose worker died (see tests/indicators/test_import_jobs.py) tells the person
    and offers to try again; trying again imports it."""
    from pejling.indicators.imports import interrupt_import, queue_import

    log_in(page, "strategi")
    visit(page, "/indicators/imports/new/")
    upload(page, "avbruten.csv", GOOD)
    batch = ImportBatch.objects.get(filename="avbruten.csv")
    queue_import(batch_id=batch.pk, by=batch.created_by)
    interrupt_import(batch_id=batch.pk)

    visit(page, f"/indicators/imports/{batch.pk}/")
    alert = page.locator("#import-status [role=alert]")
    expect(alert).to_contain_text(
        _(
            "The import was interrupted: the background worker stopped while writing it."
            " Nothing was written; confirm again to retry."
        )
    )
    submit(page, page.get_by_role("button", name=_("Try the import again")))
    run_worker(page)
    expect(page.locator("#import-status")).to_contain_text(
        _("Imported: %(created)s values created, %(updated)s updated.").split(":")[0]
    )
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.DONE
