"""The development portfolio, end to end in Swedish (and once in Danish): a workshop brings two
challenges, each gets a user journey; the leadership team decides on both in one pass; the
assignment is tested and implemented, its freed hours are realised and reinvested in another
unit. Every page is checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.browser import _, follow, log_in, submit, visit
from pejling.organisation.models import Unit
from pejling.portfolio.models import (
    Assignment,
    Challenge,
    ChallengeState,
    LeadershipTeam,
    LedgerEntry,
    Stage,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST = "Nattlarmen når fel kollega"
SECOND = "Nyckelskåpen krånglar vid morgonpasset"


def add_step(page: Page, actor: str, action: str, pain: str, feeling: str) -> None:
    details = page.locator("details", has=page.locator("#id_actor"))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    page.locator("#id_actor").fill(actor)
    page.locator("#id_action").fill(action)
    page.locator("#id_pain_point").fill(pain)
    page.locator("#id_feeling").select_option(feeling)
    submit(page, page.get_by_role("button", name=_("Add step")))
    expect(page.locator(".messages")).to_contain_text(_("The step was added to the journey."))


def move_on(page: Page, to: str, started_on: str, **fields: str) -> None:
    page.locator("summary", has_text=_("Move on to the next stage")).click()
    page.locator("#id_to").select_option(to)
    page.locator("#id_started_on").fill(started_on)
    for name, value in fields.items():
        page.locator(f"#id_{name}").fill(value)
    submit(page, page.get_by_role("button", name=_("Move on"), exact=True))


def test_from_workshop_to_reinvested_hours(page: Page) -> None:
    north = Unit.objects.get(code="VOF-HEM-NOR")
    south = Unit.objects.get(code="VOF-HEM-SYD")
    elsewhere = Unit.objects.get(code="VOF-SAB-LIN")

    # The strategy office records a workshop with two challenges on one page.
    log_in(page, "strategi")
    visit(page, "/portfolio/")
    follow(page, page.get_by_role("link", name=_("Record a workshop")).first)
    page.locator("#id_title").fill("Workshop nattpatrullen")
    page.locator("#id_held_on").fill("2026-11-02")
    page.locator("#id_place").fill("Hemtjänsten norr, personalrummet")
    page.locator("#id_units").select_option([str(north.pk), str(south.pk)])
    for i, (title, unit) in enumerate(((FIRST, north), (SECOND, south))):
        page.locator(f"#id_challenges-{i}-title").fill(title)
        page.locator(f"#id_challenges-{i}-unit").select_option(str(unit.pk))
    submit(page, page.get_by_role("button", name=_("Record the workshop")))
    expect(page.locator("h1")).to_have_text("Workshop nattpatrullen")
    expect(page.locator("main table")).to_contain_text(FIRST)
    workshop_url = page.url

    # Each challenge gets a user journey.
    for title in (FIRST, SECOND):
        follow(page, page.get_by_role("link", name=title))
        add_step(page, "Undersköterska", "Larmet går till telefonen", "Fel person svarar", "1")
        add_step(page, "Brukare", "Väntar på hjälp", "Otrygghet", "2")
        expect(page.locator(".journey-step")).to_have_count(2)
        # Reordered without JavaScript: a plain form button.
        submit(page, page.locator(".journey-step").nth(1).get_by_role("button").first)
        expect(page.locator(".journey-step").first).to_contain_text("Brukare")
        visit(page, workshop_url)

    # The office puts both on the care leadership team's agenda.
    team = LeadershipTeam.objects.get(name="Ledningsteam vård och omsorg")
    visit(page, team.get_absolute_url())
    page.locator("#id_held_on").fill("2026-11-10")
    for title in (FIRST, SECOND):
        page.get_by_label(title, exact=True).check()
    submit(page, page.get_by_role("button", name=_("Plan the meeting")))
    meeting_url = page.url

    # The chair decides on both in one pass: assign one, park the other.
    first = Challenge.objects.get(title=FIRST)
    second = Challenge.objects.get(title=SECOND)
    lead = north.memberships.get(role="unit_head").user
    log_in(page, "forvaltningschef")
    visit(page, meeting_url)
    page.locator(f"input[name='c{first.pk}-kind'][value='assign']").check()
    page.locator(f"#id_c{first.pk}-rationale").fill("Tryggheten går först.")
    page.locator(f"#id_c{first.pk}-unit").select_option(str(north.pk))
    page.locator(f"#id_c{first.pk}-lead").select_option(str(lead.pk))
    page.locator(f"input[name='c{second.pk}-kind'][value='park']").check()
    page.locator(f"#id_c{second.pk}-rationale").fill("Nya skåp kommer i vår.")
    page.locator(f"#id_c{second.pk}-parked_until").fill("2027-03-01")
    submit(page, page.get_by_role("button", name=_("Record the decisions")))
    expect(page.locator(".messages")).to_contain_text(
        _("%(count)s decisions were recorded.") % {"count": 2}
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (ChallengeState.ASSIGNED, ChallengeState.PARKED)
    assignment = Assignment.objects.get(decision__challenge=first)

    # The lead tests it, implements it and puts it in operation.
    log_in(page, "enhetschef")
    visit(page, first.get_absolute_url())
    follow(page, page.locator("dl.facts").get_by_role("link", name=FIRST))
    expect(page).to_have_url(re.compile(f"/portfolio/assignments/{assignment.pk}/$"))
    move_on(
        page,
        "test",
        "2026-11-16",
        tested_what="Larmet kopplas till den som har nattpasset",
        tested_where="Hemtjänst norr, natt",
        learnt="Svarstiden halverades",
    )
    expect(page.locator("#stages")).to_contain_text("Svarstiden halverades")
    move_on(page, "implement", "2026-11-23")
    move_on(page, "in_operation", "2026-11-30")
    assert Assignment.objects.get(pk=assignment.pk).stage == Stage.IN_OPERATION

    # A realised benefit of freed hours, reinvested in another unit.
    follow(page, page.get_by_role("link", name=_("Add a benefit")))
    page.locator("#id_description").fill("Färre onödiga larmutryckningar")
    page.locator("#id_stakeholder").fill("Nattpatrullen")
    page.locator("#id_benefit_class").select_option("freed_capacity")
    page.locator("#id_measure").select_option("hours")
    page.locator("#id_years-0-year").fill("2026")
    page.locator("#id_years-0-expected").fill("120")
    page.locator("#id_years-0-realised").fill("90")
    page.locator("#id_years-0-realised_source").fill("Larmloggen november 2026")
    submit(page, page.get_by_role("button", name=_("Save benefit")))
    follow(page, page.get_by_role("link", name=_("Record where the freed capacity goes")).last)
    page.locator("#id_year").fill("2026")
    page.locator("#id_amount").fill("60")
    page.locator("#id_unit").select_option(str(elsewhere.pk))
    page.locator("#id_purpose").fill("Högläsning på kvällarna")
    page.locator("#id_decided_on").fill("2026-12-01")
    page.locator("#id_decided_by").fill("Ledningsteam vård och omsorg")
    submit(page, page.get_by_role("button", name=_("Record in the ledger")))
    expect(page.locator("h1")).to_have_text(_("Reinvestment ledger"))
    expect(page.locator("main")).to_contain_text("Högläsning på kvällarna")
    entry = LedgerEntry.objects.get(purpose="Högläsning på kvällarna")
    assert entry.unit == elsewhere and entry.benefit.assignment == assignment

    # Once in Danish: the ledger and the assignment read in Danish and pass axe too.
    page.locator("#language-select").select_option("da")
    submit(page, page.locator("form.language-form button[type=submit]"))
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.locator("h1")).to_have_text(_("Reinvestment ledger", "da"))
    visit(page, assignment.get_absolute_url())
    expect(page.locator("#benefits h2")).to_have_text(_("Benefits", "da"))
