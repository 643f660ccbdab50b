"""The strategy office runs indicators from the browser: creates an indicator, links a goal
to it, picks a series of Statistics Denmark (served from recorded answers by the source
clients' transport: nothing reaches the internet), previews it summed over sex and age, fetches
it through the background worker, and sees an incomplete month marked after an upload.

Every page is checked with axe-core. With ``PEJLING_SCREENSHOTS=<folder>`` each page is also
photographed at 1280 and 390 px (for people to look at; nothing is asserted on them)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect
from tests.indicators.recorded import RecordedSources

from e2e.browser import _, check_a11y, follow, log_in, submit, visit
from pejling.indicators.models import Indicator, IndicatorValue, KpiGoal, SourceFetch
from pejling.strategy.models import Element

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("PEJLING_SCREENSHOTS", "")


def shoot(page: Page, name: str) -> None:
    if not SHOTS:
        return
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    language = page.locator("html").get_attribute("lang") or "xx"
    size = page.viewport_size
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{language}-{width}.png"), full_page=True)
    if size:
        page.set_viewport_size(size)


@pytest.fixture
def recorded() -> Iterator[RecordedSources]:
    sources = RecordedSources().install()
    yield sources
    sources.uninstall()


def choose_language(page: Page, code: str) -> None:
    page.locator("#language-select").select_option(code)
    submit(page, page.locator("form.language-form button[type=submit]"))


@pytest.mark.parametrize("language", ["sv", "da"])
def test_the_office_runs_an_indicator_from_the_browser(
    page: Page, recorded: RecordedSources, language: str
) -> None:
    t = lambda message: _(message, language)  # noqa: E731
    log_in(page, "strategi")
    if language != "sv":
        choose_language(page, language)

    # 1. A new indicator, with names in the languages and an expected update frequency.
    visit(page, "/indicators/")
    shoot(page, "indicator-list")
    follow(page, page.get_by_role("link", name=t("New indicator")))
    shoot(page, "indicator-new")
    page.locator("#id_code").fill("FOLKMANGD")
    page.locator("#id_name").fill("Folkmängd")
    page.locator("#id_name_da").fill("Folketal")
    page.locator("#id_name_nb").fill("Folketall")
    page.locator("#id_measure_unit").select_option("count")
    page.locator("#id_direction").select_option("higher")
    page.locator("#id_periodicity").select_option("quarter")
    page.locator("#id_aggregation").select_option("latest")
    page.locator("#id_update_frequency").select_option("92")
    submit(page, page.get_by_role("button", name=t("Save")))
    expect(page).to_have_url(re.compile(r"/indicators/FOLKMANGD/$"))
    expect(page.locator("h1")).to_contain_text("Folketal" if language == "da" else "Folkmängd")
    indicator = Indicator.objects.get(code="FOLKMANGD")
    assert indicator.names == {"da": "Folketal", "nb": "Folketall"}

    # 2. A goal measured by it: from the goal's page.
    goal = Element.objects.filter(level__holds_goals=True).exclude(measure_kind="kpi").first()
    assert goal is not None
    visit(page, goal.get_absolute_url())
    follow(page, page.get_by_role("link", name=t("Measure with an indicator")))
    shoot(page, "goal-link")
    page.locator("#id_indicator").select_option(label="FOLKMANGD Folkmängd")
    page.locator("#id_baseline_value").fill("10000")
    page.locator("#id_baseline_date").fill("2024-01-01")
    page.locator("#id_target_value").fill("11000")
    page.locator("#id_target_date").fill("2026-12-31")
    submit(page, page.get_by_role("button", name=t("Save")))
    expect(page.locator("#goal-panel-heading")).to_be_visible()
    check_a11y(page)
    assert KpiGoal.objects.get(goal=goal).indicator == indicator

    # 3. A series from Statistics Denmark: search, pick, sum over sex and age, map, preview.
    visit(page, "/indicators/FOLKMANGD/")
    follow(page, page.get_by_role("link", name=t("Fetch national statistics")))
    page.locator("#id_source").select_option("statbank")
    page.locator("#id_q").fill("befolkningen")
    submit(page, page.get_by_role("button", name=t("Search")))
    shoot(page, "fetch-search")
    follow(page, page.get_by_role("link", name=re.compile("FOLK1A")))
    page.locator("[name=dim-KØN]").select_option("__sum__")
    page.locator("[name=dim-ALDER]").select_option("__sum__")
    page.locator("[name=dim-CIVILSTAND]").select_option("TOT")
    page.locator("[name=area-101]").fill("VOF")
    page.locator("[name=area-147]").fill("BUF")
    submit(page, page.get_by_role("button", name=t("Preview")))
    preview = page.locator("section[aria-labelledby=preview-heading]")
    expect(preview).to_contain_text("ALDER")
    expect(preview.locator("tbody tr")).to_have_count(4)
    expect(preview).to_contain_text(str(321548 + 331012))
    shoot(page, "fetch-preview")
    assert not IndicatorValue.objects.filter(indicator=indicator).exists()
    page.locator("#id_schedule").select_option("monthly")
    submit(page, page.get_by_role("button", name=t("Save")))
    fetch = SourceFetch.objects.get(indicator=indicator)
    expect(page).to_have_url(re.compile(rf"/indicators/fetches/{fetch.pk}/$"))

    # 4. Fetch now: queued, then the worker runs it and the page (polling) shows the outcome.
    submit(page, page.get_by_role("button", name=t("Fetch now")))
    expect(page.locator("#fetch-status")).to_contain_text(t("Queued"))
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    expect(page.locator("#fetch-status")).to_contain_text(t("Fetched"), timeout=15_000)
    check_a11y(page)
    shoot(page, "fetch-detail")
    stored = dict(
        IndicatorValue.objects.filter(indicator=indicator, unit__code="VOF").values_list(
            "period", "value"
        )
    )
    assert stored == {
        "2024Q1": Decimal(321548 + 331012),
        "2024Q2": Decimal(322104 + 331655),
    }
    visit(page, "/indicators/FOLKMANGD/")
    expect(page.locator("#fetches-heading")).to_be_visible()
    expect(page.get_by_text(t("Outdated"), exact=False).first).to_be_visible()
    shoot(page, "indicator-detail")

    # 5. Three units' sick leave for a new month: incomplete in the preview and on the chart.
    visit(page, "/indicators/imports/new/")
    shoot(page, "import-new")
    csv = (
        b"Measure;Unit;Period;Value\r\n"
        b"SJUKDAGAR;VOF-HEM-NOR;2026-11;41,5\r\n"
        b"SJUKDAGAR;VOF;2026-11;12\r\n"
        b"SJUKDAGAR;BUF;2026-11;130\r\n"
    )
    page.get_by_label(t("File")).set_input_files(
        files=[{"name": "november.csv", "mimeType": "text/csv", "buffer": csv}]
    )
    submit(page, page.get_by_role("button", name=t("Check the file")))
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)  # checks it
    expect(page.locator("main")).to_contain_text("2026-11")
    expect(page.locator(".ds-alert[data-color=warning]")).to_be_visible()
    shoot(page, "import-preview")
    submit(page, page.get_by_role("button", name=t("Import the values")))
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)  # writes it
    expect(page.locator("#import-status .ds-alert[data-color=success]")).to_be_visible()
    visit(page, "/indicators/SJUKDAGAR/?period=2026-11")
    expect(
        page.locator("section[aria-labelledby=breakdown-heading] .ds-alert[data-color=warning]")
    ).to_be_visible()
    expect(
        page.locator("figure.chart svg text").filter(has_text=re.compile(r"^\d+/\d+$"))
    ).to_have_count(1)
    shoot(page, "indicator-incomplete")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_office_picks_organisational_units_of_kolada(
    page: Page, recorded: RecordedSources, language: str
) -> None:
    """Kolada's organisational units: choose them over municipalities, find a municipality's
    schools, map one to our unit, preview, save (answers constructed in Kolada's shape)."""
    t = lambda message: _(message, language)  # noqa: E731
    log_in(page, "strategi")
    if language != "sv":
        choose_language(page, language)
    indicator = Indicator.objects.create(
        code="BEHORIGA", name="Behöriga elever", measure_unit="%", periodicity="year",
        aggregation="mean", direction="higher",
    )  # fmt: skip
    visit(page, f"/indicators/{indicator.code}/fetches/new/?source=kolada&series=U15011")
    page.get_by_label(t("Organisational units (schools, care homes…)")).check()
    submit(page, page.get_by_role("button", name=t("Show")))
    expect(page.locator("main")).to_contain_text(
        t("Choose a municipality above to find its units.")
    )
    page.get_by_label(t("Municipality of the units")).select_option("1440")
    page.get_by_label(t("Name of the unit (optional)")).fill("skola")
    submit(page, page.get_by_role("button", name=t("Find units")))
    expect(page.get_by_role("status")).to_contain_text("3")
    shoot(page, "fetch-kolada-ou")
    page.locator("[name=area-V15E144001301]").fill("BUF")
    page.locator("[name=periods][value='2023']").check()
    page.locator("[name=periods][value='2024']").check()
    submit(page, page.get_by_role("button", name=t("Preview")))
    preview = page.locator("section[aria-labelledby=preview-heading]")
    expect(preview.locator("tbody tr")).to_have_count(2)
    expect(preview).to_contain_text("V15E144001301")
    submit(page, page.get_by_role("button", name=t("Save")))
    fetch = SourceFetch.objects.get(indicator=indicator)
    assert fetch.area_dimension == "ou"
    shoot(page, "fetch-kolada-ou-detail")
