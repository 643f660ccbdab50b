"""The strategy office writes a new strategy and names its levels (the names are data)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.browser import _, follow, log_in, submit
from pejling.demo import data
from pejling.strategy.models import Strategy, StrategyStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_strategy_office_creates_a_strategy_and_names_its_levels(page: Page) -> None:
    narrative = Strategy.objects.get(code=data.FUTURE_NARRATIVE["code"])
    log_in(page, "strategi")
    follow(page, page.locator(".site-nav a[href='/strategies/']"))
    follow(page, page.locator("a[href='/strategies/new/']"))
    expect(page.locator("h1")).to_have_text(_("New strategy"))

    page.locator("#id_code").fill("klimatstrategi")
    page.locator("#id_title").fill("Klimatstrategi 2026–2030")
    page.locator("#id_summary").fill("Hur Fjärdvik når netto noll.")
    page.locator("#id_start_year").fill("2026")
    page.locator("#id_end_year").fill("2030")
    page.locator("#id_parent").select_option(str(narrative.pk))
    page.locator("#id_status").select_option(StrategyStatus.DRAFT)
    submit(page, page.locator("main form button[type=submit]"))

    expect(page).to_have_url(re.compile(r"/strategies/klimatstrategi/levels/$"))
    expect(page.locator(".messages")).to_contain_text(_("The strategy was saved."))
    page.locator("#id_levels-0-name").fill("Insatsområde")
    page.locator("#id_levels-0-name_plural").fill("Insatsområden")
    page.locator("#id_levels-1-name").fill("Klimatmål")
    page.locator("#id_levels-1-name_plural").fill("Klimatmål")
    page.locator("#id_levels-1-holds_goals").check()
    submit(page, page.locator("main form button[type=submit]"))

    expect(page).to_have_url(re.compile(r"/strategies/klimatstrategi/$"))
    expect(page.locator(".messages")).to_contain_text(_("The levels were saved."))
    expect(page.locator("h1")).to_contain_text("Klimatstrategi 2026–2030")
    expect(page.locator("main")).to_contain_text("Insatsområden → Klimatmål")
    expect(page.locator("#elements-heading")).to_have_text("Insatsområden")
    strategy = Strategy.objects.get(code="klimatstrategi")
    assert strategy.parent == narrative
    assert [
        (lv.depth, lv.name, lv.name_plural, lv.holds_goals)
        for lv in strategy.levels.order_by("depth")
    ] == [
        (1, "Insatsområde", "Insatsområden", False),
        (2, "Klimatmål", "Klimatmål", True),
    ]

    # The first level's name is what the strategy office adds next.
    follow(page, page.locator("a[href='/strategies/klimatstrategi/elements/new/']"))
    expect(page.locator("h1")).to_contain_text("insatsområde")
    page.locator("#id_code").fill("K1")
    page.locator("#id_title").fill("Fossilfria transporter")
    submit(page, page.locator("main form button[type=submit]"))
    expect(page).to_have_url(re.compile(r"/strategies/klimatstrategi/$"))
    expect(page.locator(".elements h3")).to_have_text("Fossilfria transporter")
    expect(page.locator(".elements .element-level")).to_have_text("Insatsområde K1")

    # A draft: the strategy office sees it in the list, an employee does not.
    follow(page, page.locator(".site-nav a[href='/strategies/']"))
    expect(page.get_by_role("link", name="Klimatstrategi 2026–2030")).to_be_visible()
    log_in(page, "medarbetare")
    follow(page, page.locator(".site-nav a[href='/strategies/']"))
    expect(page.get_by_role("link", name="Klimatstrategi 2026–2030")).to_have_count(0)
