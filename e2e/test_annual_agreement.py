"""A unit's annual agreement: initiatives linked to goals, then submit, agree, publish."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from e2e.browser import _, check_a11y, follow, log_in, submit, visit
from pejling.agreements.models import Agreement, AgreementState, Initiative
from pejling.agreements.services import initiative_create
from pejling.demo import data
from pejling.strategy.models import Element, Strategy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNIT = "VOF-HEM-NOR"
YEAR = 2026
AGREEMENT_URL = f"/agreements/{UNIT}/{YEAR}/"


def coverage_row(page: Page, theme: Element) -> Locator:
    card = page.locator(f"section[aria-labelledby='coverage-{theme.strategy_id}']")
    return card.locator("li").filter(has_text=theme.title)


def uncovered_theme_goal() -> tuple[Element, Element]:
    """A theme of the group strategy the unit's agreement does not reach yet, and a goal."""
    agreement = Agreement.objects.get(unit__code=UNIT, year=YEAR)
    reached = {
        goal.parent_id
        for initiative in agreement.initiatives.all()
        for goal in initiative.goals.all()
    }
    group = Strategy.objects.get(code=data.GROUP_STRATEGY["code"])
    for theme in group.elements.filter(parent__isnull=True).order_by("position"):
        goal = theme.children.order_by("position").first()
        if theme.pk not in reached and goal is not None:
            return theme, goal
    pytest.fail(f"The demo agreement of {UNIT} covers every theme; the test needs a gap.")


def test_a_unit_head_adds_an_initiative_linked_to_a_goal_and_the_theme_becomes_covered(
    page: Page,
) -> None:
    theme, goal = uncovered_theme_goal()
    log_in(page, "enhetschef")
    visit(page, AGREEMENT_URL)
    expect(page.locator("h1")).to_contain_text("Hemtjänst norr")
    expect(coverage_row(page, theme).locator(".badge-missing")).to_have_count(1)
    expect(coverage_row(page, theme)).to_contain_text(_("no initiative yet"))

    follow(page, page.locator(f"a[href='{AGREEMENT_URL}initiatives/new/']"))
    expect(page.locator("h1")).to_have_text(_("New initiative"))
    page.locator("#id_title").fill("Gemensam introduktion i hemtjänsten")
    page.locator("#id_description").fill("Nya medarbetare går introduktionen tillsammans.")
    page.locator("#id_start_date").fill("2026-02-01")
    page.locator("#id_end_date").fill("2026-10-31")
    page.locator(f"#goal-{goal.pk}").check()
    submit(page, page.locator("main form button[type=submit]"))

    expect(page).to_have_url(re.compile(re.escape(AGREEMENT_URL) + "$"))
    saved = _("“%(title)s” was saved.") % {"title": "Gemensam introduktion i hemtjänsten"}
    expect(page.locator(".messages")).to_contain_text(saved)
    listed = page.locator("#initiatives > li").filter(
        has_text="Gemensam introduktion i hemtjänsten"
    )
    expect(listed).to_have_count(1)
    expect(listed.get_by_role("link", name=goal.title)).to_be_visible()
    expect(coverage_row(page, theme).locator(".badge-ok")).to_have_count(1)
    expect(coverage_row(page, theme)).to_contain_text("Gemensam introduktion i hemtjänsten")

    initiative = Initiative.objects.get(
        agreement__unit__code=UNIT, title="Gemensam introduktion i hemtjänsten"
    )
    assert list(initiative.goals.all()) == [goal]
    assert (initiative.start_date, initiative.end_date) == (date(2026, 2, 1), date(2026, 10, 31))


def test_an_initiative_ending_before_it_starts_is_refused_with_a_clear_message(
    page: Page,
) -> None:
    goal = Element.objects.get(strategy__code=data.GROUP_STRATEGY["code"], code="T3.1")
    before = Initiative.objects.count()
    log_in(page, "enhetschef")
    visit(page, f"{AGREEMENT_URL}initiatives/new/")
    page.locator("#id_title").fill("Baklänges insats")
    page.locator("#id_start_date").fill("2026-09-01")
    page.locator("#id_end_date").fill("2026-03-01")
    submit(page, page.locator("main form button[type=submit]"))

    # The error summary takes the focus and says what is wrong, with links to the fields.
    message = _("The end cannot be before the start.")
    summary = page.locator(".ds-error-summary[role=alert]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(message)
    expect(summary).to_contain_text(_("Link the initiative to at least one goal."))
    end = page.locator("#id_end_date")
    expect(end).to_have_attribute("aria-invalid", "true")
    # The message is tied to the field, so a screen reader reads it with the field.
    described_by = (end.get_attribute("aria-describedby") or "").split()
    assert any(
        message in (page.locator(f"[id='{ident}']").text_content() or "") for ident in described_by
    ), f"the end date field is not described by the error ({described_by!r})"
    summary.locator("a[href='#id_end_date']").click()
    expect(end).to_be_focused()
    summary.locator("a[href='#id_goals']").click()
    expect(page.locator("fieldset#id_goals")).to_be_focused()
    expect(page.locator("fieldset#id_goals")).to_contain_text(
        _("Link the initiative to at least one goal.")
    )
    # What was typed is kept.
    expect(page.locator("#id_title")).to_have_value("Baklänges insats")
    expect(page.locator("#id_start_date")).to_have_value("2026-09-01")

    # With a goal but still ending before it starts: refused again, on the end date alone.
    page.locator(f"#goal-{goal.pk}").check()
    submit(page, page.locator("main form button[type=submit]"))
    expect(summary.locator("li")).to_have_count(1)
    expect(summary).to_contain_text(message)
    expect(page.locator(f"#goal-{goal.pk}")).to_be_checked()
    check_a11y(page)
    assert Initiative.objects.count() == before
    assert not Initiative.objects.filter(title="Baklänges insats").exists()


def test_an_agreement_is_submitted_agreed_and_published_and_employees_see_their_part(
    page: Page,
) -> None:
    agreement = Agreement.objects.get(unit__code=UNIT, year=YEAR)
    assert agreement.state == AgreementState.DRAFT
    head = agreement.unit.memberships.get(role="unit_head").user
    goal = Element.objects.get(strategy__code=data.GROUP_STRATEGY["code"], code="T2.2")
    initiative_create(
        agreement=agreement, by=head, title="Värdegrundssamtal på arbetsplatsträffar", goals=[goal]
    )

    # The employee sees no agreement for the year before it is published.
    log_in(page, "medarbetare")
    expect(page.locator("main")).not_to_contain_text("Värdegrundssamtal på arbetsplatsträffar")
    expect(page.locator("main")).to_contain_text(
        _("The annual agreement for this unit and year is not published yet.")
    )

    log_in(page, "enhetschef")
    visit(page, AGREEMENT_URL)
    submit(page, page.locator(f"form[action='{AGREEMENT_URL}submit/'] button"))
    expect(page.locator(".messages")).to_contain_text(
        _("The agreement was submitted for agreement.")
    )
    expect(page.locator("h1 + p .state")).to_have_class(re.compile(r"state-submitted"))
    # The unit head cannot agree their own agreement.
    expect(page.locator(f"form[action='{AGREEMENT_URL}agree/']")).to_have_count(0)

    log_in(page, "avdelningschef")
    visit(page, AGREEMENT_URL)
    submit(page, page.locator(f"form[action='{AGREEMENT_URL}agree/'] button"))
    expect(page.locator(".messages")).to_contain_text(_("The agreement was agreed."))
    expect(page.locator("h1 + p .state")).to_have_class(re.compile(r"state-agreed"))

    submit(page, page.locator(f"form[action='{AGREEMENT_URL}publish/'] button"))
    expect(page.locator(".messages")).to_contain_text(
        _("The agreement was published to all employees.")
    )
    expect(page.locator("h1 + p .state")).to_have_class(re.compile(r"state-published"))
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.PUBLISHED
    follow(page, page.locator(f"a[href='{AGREEMENT_URL}history/']"))
    expect(page.locator("main table tbody tr").first).to_be_visible()

    log_in(page, "medarbetare")
    expect(page.locator("main h2", has_text=_("My part of the whole")).first).to_be_visible()
    mine = page.locator("section[aria-labelledby='my-initiatives']")
    expect(mine).to_contain_text("Värdegrundssamtal på arbetsplatsträffar")
    expect(mine.locator(".state")).to_have_class(re.compile(r"state-published"))
    # Above the initiative: the goal, its theme and the strategy it belongs to.
    group = Strategy.objects.get(code=data.GROUP_STRATEGY["code"])
    line = page.locator(f"section[aria-labelledby='strategy-{group.pk}'] li.sight-step").filter(
        has_text="Värdegrundssamtal på arbetsplatsträffar"
    )
    expect(line).to_have_count(1)
    expect(line.get_by_role("link", name=goal.title)).to_be_visible()
    expect(line).to_contain_text(Element.objects.get(children=goal).title)
    narrative = Strategy.objects.get(code=data.FUTURE_NARRATIVE["code"])
    bearings = page.locator(f"section[aria-labelledby='narrative-{narrative.pk}']")
    expect(bearings).to_contain_text(data.FUTURE_NARRATIVE["elements"][0][1])


def test_the_person_who_submitted_is_told_another_must_agree(page: Page, tmp_path: Path) -> None:
    """Four-eyes: the head of the department may submit the unit's agreement, but then another
    person agrees it; the page says so instead of showing the button."""
    agreement = Agreement.objects.get(unit__code=UNIT, year=YEAR)
    head = agreement.unit.memberships.get(role="unit_head").user
    goal = Element.objects.get(strategy__code=data.GROUP_STRATEGY["code"], code="T2.2")
    initiative_create(agreement=agreement, by=head, title="Fyra ögon", goals=[goal])

    log_in(page, "avdelningschef")
    visit(page, AGREEMENT_URL)
    submit(page, page.locator(f"form[action='{AGREEMENT_URL}submit/'] button"))
    expect(page.locator("h1 + p .state")).to_have_class(re.compile(r"state-submitted"))
    expect(page.locator(f"form[action='{AGREEMENT_URL}agree/']")).to_have_count(0)
    note = page.locator("#four-eyes")
    expect(note).to_contain_text(
        _(
            "You submitted this version, so another person must agree it (four-eyes "
            "principle). You can still return it to the unit."
        )
    )
    expect(page.locator(f"form[action='{AGREEMENT_URL}return/']")).to_have_count(1)
    check_a11y(page)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(tmp_path / f"four-eyes-{width}.png"), full_page=True)
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.SUBMITTED
