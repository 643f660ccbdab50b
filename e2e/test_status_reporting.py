"""Status reporting with little burden: a unit head completes a follow-up period.

Every user action (a click, a choice, typing into a field) is counted; completing a period in
which 2 of 8 initiatives changed must take fewer than 12, logging in included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from e2e.browser import DEMO_PASSWORDS, _, check_a11y, follow, submit, visit, watch_of
from pejling.agreements.models import Agreement, AgreementState
from pejling.agreements.services import initiative_create
from pejling.followup.models import Deadline, DeadlineKind, ReportStatus, StatusReport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNIT = "VOF-HEM-NOR"
YEAR = 2026
MAX_ACTIONS = 12
TITLES = [
    "Digital nyckelhantering",
    "Gemensam introduktion",
    "Schemaläggning i team",
    "Kontinuitet för brukarna",
    "Friskvård på arbetstid",
    "Språkstöd för nyanställda",
    "Rutiner vid fallolyckor",
    "Minskade bilresor",
]


@dataclass
class Actions:
    """Does what a person does in the browser, and counts it."""

    page: Page
    log: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.log)

    def type(self, locator: Locator, text: str, what: str) -> None:
        locator.fill(text)
        self.log.append(f"type {what}")

    def choose(self, locator: Locator, what: str) -> None:
        locator.check()
        self.log.append(f"choose {what}")

    def follow(self, link: Locator, what: str) -> None:
        follow(self.page, link)
        self.log.append(f"follow {what}")

    def submit(self, button: Locator, what: str) -> None:
        submit(self.page, button)
        self.log.append(f"submit {what}")

    def click(self, button: Locator, what: str) -> None:
        button.click()
        self.log.append(f"click {what}")


def prepare_period() -> tuple[Agreement, Deadline]:
    """The unit's 2026 agreement with 8 initiatives, agreed; T1 and T2 reported; T3 open."""
    head = get_user_model().objects.get(username="enhetschef")
    agreement = Agreement.objects.get(unit__code=UNIT, year=YEAR)
    assert agreement.state == AgreementState.DRAFT
    agreement.initiatives.all().delete()
    for title in TITLES:
        initiative_create(agreement=agreement, by=head, title=title, goals=[])
    Agreement.objects.filter(pk=agreement.pk).update(
        state=AgreementState.AGREED, agreed_at=timezone.now()
    )
    today = timezone.localdate()
    periods = {}
    for period, due, start in [
        ("T1", today - timedelta(days=200), None),
        ("T2", today - timedelta(days=60), None),
        ("T3", today + timedelta(days=14), today - timedelta(days=30)),
    ]:
        periods[period], _created = Deadline.objects.update_or_create(
            year=YEAR,
            kind=DeadlineKind.REPORT,
            period=period,
            defaults={"title": f"Uppföljning {period}", "due_date": due, "period_start": start},
        )
    t2_statuses = [ReportStatus.ON_TRACK] * 5 + [ReportStatus.AT_RISK] * 2 + [ReportStatus.DONE]
    for initiative, status in zip(
        agreement.initiatives.order_by("position"), t2_statuses, strict=True
    ):
        StatusReport.objects.create(
            initiative=initiative, deadline=periods["T1"], status="on_track", reported_by=head
        )
        StatusReport.objects.create(
            initiative=initiative,
            deadline=periods["T2"],
            status=status,
            comment="Väntar på leverantören" if status == ReportStatus.AT_RISK else "",
            reported_by=head,
        )
    return agreement, periods["T3"]


def test_a_unit_head_completes_a_period_with_two_changes_in_fewer_than_12_actions(
    page: Page,
) -> None:
    agreement, t3 = prepare_period()
    initiatives = list(agreement.initiatives.order_by("position"))
    t2_reports = {
        r.initiative_id: (r.status, r.comment)
        for r in StatusReport.objects.filter(initiative__agreement=agreement, deadline__period="T2")
    }
    at_risk, on_track = initiatives[5], initiatives[0]
    report_url = f"/reports/{UNIT}/{t3.pk}/"
    act = Actions(page)

    # Log in.
    visit(page, "/accounts/login/")
    act.type(page.locator("input[name=username]"), "enhetschef", "username")
    act.type(page.locator("input[name=password]"), DEMO_PASSWORDS["enhetschef"], "password")
    act.submit(page.locator("main button[type=submit]"), "log in")
    expect(page).to_have_url(watch_of(page).origin + "/")

    # From "my part of the whole" to the agreement, and on to the open period.
    act.follow(page.locator(f"main a[href='/agreements/{UNIT}/{YEAR}/']").first, "agreement")
    act.follow(page.locator(f"main a[href='{report_url}']"), "report T3")
    expect(page.locator("h1")).to_contain_text("Hemtjänst norr")
    expect(page.locator("#report dl")).to_contain_text(str(t3.title))
    expect(page.locator("#report-rows > li")).to_have_count(8)
    # Last period's statuses are already chosen.
    for initiative in initiatives:
        status, comment = t2_reports[initiative.pk]
        expect(page.locator(f"#status-{initiative.pk}-{status}")).to_be_checked()
        expect(page.locator(f"#comment-{initiative.pk}")).to_have_value(comment)

    # Two initiatives changed: one is back on track, one is at risk now.
    act.choose(page.locator(f"#status-{at_risk.pk}-on_track"), "status of the first change")
    act.type(page.locator(f"#comment-{at_risk.pk}"), "Leverantören levererade i oktober", "comment")
    act.choose(page.locator(f"#status-{on_track.pk}-at_risk"), "status of the second change")
    act.type(page.locator(f"#comment-{on_track.pk}"), "Två nyckelskåp saknas", "comment")
    act.click(page.locator("#save-report"), "save report")

    # htmx saves in place: the page says so and the period is reported.
    expect(page.locator("#report [role=status]")).to_contain_text(_("The report was saved."))
    expect(page.locator("#report-state")).to_have_text(_("Reported"))
    check_a11y(page)

    n = act.count
    print(f"ACTIONS={n}")
    print("  " + "\n  ".join(act.log))
    assert n < MAX_ACTIONS, act.log

    saved = {
        r.initiative_id: (r.status, r.comment)
        for r in StatusReport.objects.filter(initiative__agreement=agreement, deadline=t3)
    }
    expected = dict(t2_reports)
    expected[at_risk.pk] = ("on_track", "Leverantören levererade i oktober")
    expected[on_track.pk] = ("at_risk", "Två nyckelskåp saknas")
    assert saved == expected

    # The unit's periods: every one of the year reported.
    follow(page, page.locator("nav.ds-breadcrumbs a[href^='/reports/']"))
    expect(page.locator("h1")).to_contain_text("Hemtjänst norr")
    rows = page.locator("main table tbody tr")
    expect(rows.filter(has_text=str(t3.title)).locator(".ds-tag")).to_have_text(_("Reported"))


def test_nothing_changed_is_one_click_and_a_comment_mentions_a_colleague(page: Page) -> None:
    agreement, t3 = prepare_period()
    report_url = f"/reports/{UNIT}/{t3.pk}/"
    page.context.clear_cookies()
    visit(page, "/accounts/login/")
    page.locator("input[name=username]").fill("enhetschef")
    page.locator("input[name=password]").fill(DEMO_PASSWORDS["enhetschef"])
    submit(page, page.locator("main button[type=submit]"))

    visit(page, report_url)
    page.locator("#confirm-unchanged").click()
    expect(page.locator("#report [role=status]")).to_be_visible()
    expect(page.locator("#report-state")).to_have_text(_("Reported"))
    check_a11y(page)
    assert StatusReport.objects.filter(deadline=t3, initiative__agreement=agreement).count() == 8

    # A question on one initiative, mentioning a colleague, from the report page.
    first = agreement.initiatives.order_by("position").first()
    assert first is not None
    discussion = page.locator(f"#discussion-{first.pk}")
    discussion.locator("summary").click()
    discussion.locator("textarea[name=body]").fill("@medarbetare kan du <b>kolla</b> nycklarna?")
    submit(page, discussion.locator("button[type=submit]"))
    expect(page).to_have_url(re.compile(re.escape(report_url) + r"#comment-\d+$"))
    comment = page.locator(f"#discussion-{first.pk} .comment-body")
    expect(comment).to_have_text("@medarbetare kan du <b>kolla</b> nycklarna?")
