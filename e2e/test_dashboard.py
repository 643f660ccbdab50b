"""The municipal director follows up the year: the dashboard filtered by a theme, a drill-down
to a unit that is behind, the compliance matrix with only the gaps, and the annual cycle."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.browser import _, check_a11y, follow, log_in, submit, visit
from pejling.demo import data
from pejling.followup.models import CalendarFeed, Deadline, DeadlineKind
from pejling.followup.selectors import compliance_matrix
from pejling.organisation.models import UnitLevel
from pejling.overview.views import DASHBOARD_ROWS
from pejling.strategy.models import AgreementRule, Element, Strategy

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

YEAR = 2026  # the demo's year


def show(page: Page, year: int = YEAR) -> None:
    """Set the year in the page's filter form and submit it (checked with axe)."""
    form = page.locator("main form[method=get]").first
    form.locator("#year-input").fill(str(year))
    submit(page, form.locator("button[type=submit]"))


def test_the_director_follows_up_the_year_from_the_dashboard(page: Page) -> None:
    group = Strategy.objects.get(code=data.GROUP_STRATEGY["code"])
    themes = list(Element.objects.filter(strategy=group, parent__isnull=True))
    theme = themes[1]
    rule = AgreementRule.objects.get(strategy=group)
    matrix = compliance_matrix(year=YEAR, strategy=group, level=rule.unit_level)
    gaps = [row.unit.name for row in matrix.rows if not row.complete]
    assert gaps, "The demo needs a unit with a gap in the compliance matrix."
    centre_deadline = Deadline.objects.get(
        year=YEAR, kind=DeadlineKind.AGREEMENT, unit_level=UnitLevel.objects.get(depth=2)
    )

    log_in(page, "direktor")
    follow(page, page.locator(".site-nav a[href='/followup/dashboard/']"))
    expect(page).to_have_url(re.compile(r"/followup/dashboard/$"))
    show(page)
    expect(page.locator("h1")).to_contain_text(str(YEAR))
    expect(page.locator("#goals-heading ~ .ds-card h3").first).to_have_text(themes[0].title)
    assert page.locator("#goals-heading ~ .ds-card h3").count() > 1

    # Only one theme: its goals, and one column of the matrix.
    page.locator("#theme-select").select_option(label=theme.title)
    submit(page, page.locator("main form[method=get] button[type=submit]"))
    expect(page).to_have_url(re.compile(rf"[?&]theme={theme.pk}(&|$)"))
    expect(page.locator("#goals-heading ~ .ds-card h3")).to_have_text([theme.title])
    expect(page.locator("#theme-select")).to_have_value(str(theme.pk))
    matrix_table = page.locator("table.matrix")
    expect(matrix_table.locator("thead th")).to_have_text([_("Unit"), theme.title])
    expect(matrix_table.locator("tbody tr")).to_have_count(min(len(matrix.rows), DASHBOARD_ROWS))

    # The deepest level: a page of units each, those that need attention first; the next page.
    deepest = UnitLevel.objects.order_by("-depth").first()
    assert deepest is not None
    units = deepest.units.filter(closed_on__isnull=True).count()
    assert units > DASHBOARD_ROWS, "The demo needs more units at its deepest level than a page."
    visit(page, f"/followup/dashboard/?year={YEAR}&level={deepest.pk}")
    statuses = page.locator("[data-testid=unit-status] tbody tr")
    expect(statuses).to_have_count(DASHBOARD_ROWS)
    first_page = statuses.locator("th").all_inner_texts()
    pager = page.get_by_role("navigation", name=_("Pages of initiatives by unit"))
    follow(page, pager.locator("a[rel=next]"))
    expect(page).to_have_url(re.compile(r"[?&]initiatives_page=2(&|#|$)"))
    expect(statuses).to_have_count(min(units - DASHBOARD_ROWS, DASHBOARD_ROWS))
    assert not set(first_page) & set(statuses.locator("th").all_inner_texts())
    expect(pager.locator("[aria-current=page]")).to_contain_text("2")
    expect(page.locator("table.matrix tbody tr")).to_have_count(DASHBOARD_ROWS)

    # Drill down to a centre whose agreement is overdue.
    overdue = page.locator("section[aria-labelledby='late-agreements-heading'] details").filter(
        has_text=centre_deadline.title
    )
    overdue.locator("summary").click()
    late_centre = overdue.locator("a").first
    name = late_centre.inner_text()
    href = late_centre.get_attribute("href")
    assert href is not None
    follow(page, late_centre)
    expect(page).to_have_url(re.compile(rf"{re.escape(href)}$"))
    expect(page.locator("h1")).to_contain_text(name)
    show(page)
    panel = page.locator(".ds-alert[role=status]").filter(has_text=centre_deadline.title)
    expect(panel).to_be_visible()
    check_a11y(page)  # again, with the panel htmx brought in

    # The compliance matrix, only the units with gaps.
    visit(page, f"/followup/compliance/?year={YEAR}")
    expect(page.locator("table.matrix tbody tr")).to_have_count(len(matrix.rows))
    page.locator("#gaps-input").check()
    submit(page, page.locator("main form[method=get] button[type=submit]"))
    expect(page).to_have_url(re.compile(r"[?&]gaps=1(&|$)"))
    expect(page.locator("#gaps-input")).to_be_checked()
    rows = page.locator("table.matrix tbody th[scope=row]")
    expect(rows).to_have_text(gaps)
    for i in range(len(gaps)):
        expect(page.locator("table.matrix tbody tr").nth(i)).to_contain_text(
            re.compile(f"{_('Missing')}|{_('Draft, not submitted')}")
        )

    # The annual cycle, with the personal calendar address.
    follow(page, page.locator(".site-nav a[href='/followup/cycle/']"))
    show(page)
    expect(page.locator("h1")).to_contain_text(str(YEAR))
    deadlines = Deadline.objects.filter(year=YEAR).order_by("due_date", "title")
    expect(page.locator("main table tbody tr")).to_have_count(deadlines.count())
    expect(page.locator("main table tbody")).to_contain_text(centre_deadline.title)
    feed = CalendarFeed.objects.get(user__username="direktor")
    expect(page.locator("#feed-url")).to_have_value(
        re.compile(rf"/followup/calendar/{re.escape(feed.token)}\.ics$")
    )
