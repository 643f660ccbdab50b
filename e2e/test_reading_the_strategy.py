"""Reading the strategies: the group strategy, the future narrative it serves, a goal."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.browser import _, follow, log_in
from pejling.demo import data
from pejling.strategy.models import Element

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GROUP = data.GROUP_STRATEGY
NARRATIVE = data.FUTURE_NARRATIVE


def test_an_employee_reads_the_group_strategy_and_the_future_narrative_it_serves(
    page: Page,
) -> None:
    log_in(page, "medarbetare")
    follow(page, page.locator(".site-nav a[href='/strategies/']"))
    expect(page.locator("h1")).to_have_text(_("Strategies"))
    expect(page.locator("main table tbody tr")).to_have_count(4)

    follow(page, page.get_by_role("link", name=GROUP["title"], exact=True))
    expect(page.locator("h1")).to_contain_text(GROUP["title"])
    # The level names are data: this strategy has themes holding common goals.
    expect(page.locator("main")).to_contain_text("Teman → Gemensamma mål")
    expect(page.locator("#elements-heading")).to_have_text("Teman")
    for _code, title, _description, goals in GROUP["elements"]:
        expect(page.locator(".elements h3").filter(has_text=title)).to_have_count(1)
        for goal in goals:
            expect(page.locator(".elements h3").filter(has_text=goal[1])).to_have_count(1)
    # It serves the future narrative: the breadcrumbs show the cascade.
    breadcrumbs = page.get_by_role("navigation", name=_("Breadcrumbs"))
    expect(breadcrumbs.get_by_role("link", name=NARRATIVE["title"])).to_be_visible()

    goal = Element.objects.get(strategy__code=GROUP["code"], code="T3.1")
    follow(page, page.locator(f".elements a[href='{goal.get_absolute_url()}']"))
    expect(page.locator("h1")).to_have_text(goal.title)
    # Numbers are shown the local way (13,5 in Swedish).
    expect(page.locator("main")).to_contain_text(re.compile(r"13[.,]5"))
    expect(page.locator("main")).to_contain_text(re.compile(r"14[.,]9"))

    follow(
        page,
        page.get_by_role("navigation", name=_("Breadcrumbs")).get_by_role(
            "link", name=GROUP["title"]
        ),
    )
    follow(
        page,
        page.get_by_role("navigation", name=_("Breadcrumbs")).get_by_role(
            "link", name=NARRATIVE["title"]
        ),
    )
    expect(page.locator("h1")).to_contain_text(NARRATIVE["title"])
    expect(page.locator("#elements-heading")).to_have_text("Ledstjärnor")
    for _code, title, _description in NARRATIVE["elements"]:
        expect(page.locator(".elements h3").filter(has_text=title)).to_have_count(1)
    serving = page.locator("main p").filter(has_text=_("Strategies that serve this one"))
    expect(serving.get_by_role("link", name=GROUP["title"])).to_be_visible()
    # An employee reads; only the strategy office edits.
    expect(page.locator(f"a[href$='/{NARRATIVE['code']}/edit/']")).to_have_count(0)
