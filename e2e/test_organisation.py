"""The organisation tree and its search, which swaps in the matching units with htmx."""

from __future__ import annotations

import re

import pytest
from django.db.models import Q
from playwright.sync_api import Page, expect

from e2e.browser import _, check_a11y, follow, log_in, visit
from pejling.organisation.models import Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typing_in_the_search_box_filters_the_organisation_tree(page: Page) -> None:
    log_in(page, "medarbetare")
    visit(page, "/organisation/")
    expect(page.locator("h1")).to_have_text(_("Organisation"))
    tree = page.locator("#unit-tree .tree > li")
    expect(tree).to_have_count(Unit.objects.count())

    matching = Unit.objects.filter(Q(name__icontains="hemtj") | Q(code__icontains="hemtj"))
    assert matching.count() == 3
    with page.expect_response(
        lambda r: "/organisation/?q=" in r.url and r.request.headers.get("hx-request") == "true"
    ) as fragment:
        page.locator("#unit-search").press_sequentially("hemtj", delay=30)
    assert fragment.value.ok
    expect(tree).to_have_count(3)
    for unit in matching:
        expect(
            tree.filter(has_text=unit.name).get_by_role("link", name=unit.name, exact=True)
        ).to_be_visible()
    # The search is in the address, so it can be shared and reloaded; the rest of the page stays.
    expect(page).to_have_url(re.compile(r"/organisation/\?q=hemtj$"))
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("#unit-search")).to_be_focused()
    check_a11y(page)

    page.locator("#unit-search").fill("no such unit anywhere")
    expect(tree).to_have_count(0)
    expect(page).to_have_url(re.compile(r"q=no(\+|%20)such(\+|%20)unit(\+|%20)anywhere$"))
    check_a11y(page)

    page.locator("#unit-search").fill("Hemtjänst norr")
    expect(tree).to_have_count(1)
    check_a11y(page)
    follow(page, tree.get_by_role("link", name="Hemtjänst norr"))
    expect(page.locator("h1")).to_contain_text("Hemtjänst norr")
    expect(page.locator("#people-heading + ul")).to_contain_text("Olle Berg")


def test_the_strategy_office_reads_the_record_of_organisation_syncs(page: Page) -> None:
    from pejling.organisation.models import SyncRun
    from pejling.organisation.sync import sync_from_file

    header = "Kod;Namn;Överordnad;Nivå\n"
    before = SyncRun.objects.count()
    sync_from_file(data=(header + "X;X;NOPE;2\n").encode(), filename="enheter.csv")
    sync_from_file(data=(header + "KS2;Ny;;1\n").encode(), filename="enheter.csv", dry_run=True)
    assert SyncRun.objects.count() == before + 2

    log_in(page, "strategi")
    visit(page, "/organisation/")
    follow(page, page.get_by_role("link", name=_("Organisation syncs")))
    expect(page.locator("h1")).to_have_text(_("Organisation syncs"))
    # A run is one row; a failed run's first errors are a row of their own under it.
    runs = page.locator("table tbody tr:not(.run-errors)")
    expect(runs).to_have_count(min(before + 2, 100))
    expect(runs.first).to_contain_text(_("dry run, nothing written"))
    expect(runs.nth(1)).to_contain_text(_("Failed"))
    errors = runs.nth(1).locator("xpath=following-sibling::tr[1]")
    expect(errors).to_have_class("run-errors")
    expect(errors).to_contain_text("NOPE")
    check_a11y(page)

    # On a phone each run is a block of labelled lines, its errors wrapped under it: nothing
    # scrolls sideways, the errors end inside the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    box = page.locator(".table-scroll")
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth"), "the table scrolls sideways"
    right = errors.evaluate("e => e.getBoundingClientRect().right")
    assert right <= 390, f"the errors end at {right} px, past the screen"
    check_a11y(page)
