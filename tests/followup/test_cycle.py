"""The annual cycle (årshjul): overdue agreements and reports with a frozen clock, the unit's
overdue panel, e-mail reminders before deadlines and the personal iCalendar feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from icalendar import Calendar

from pejling.agreements.models import AgreementState
from pejling.followup.models import CalendarFeed, Deadline, DeadlineKind
from pejling.followup.reminders import send_reminders
from pejling.followup.selectors import overdue_agreements, overdue_reports, unit_overdue
from pejling.organisation.models import Role, Unit, UnitLevel
from tests.factories import (
    YEAR,
    AgreementFactory,
    DeadlineFactory,
    InitiativeFactory,
    MembershipFactory,
    StatusReportFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")
IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def on(day: date) -> Any:
    """Freeze the clock at noon in Stockholm on ``day``."""
    return time_machine.travel(
        datetime(day.year, day.month, day.day, 12, tzinfo=STOCKHOLM), tick=False
    )


def level(depth: int) -> UnitLevel:
    return UnitLevel.objects.get(depth=depth)


def names(units: list[Unit]) -> list[str]:
    return [u.name for u in units]


@dataclass
class Cycle:
    plans: Deadline  # the units' (level 4) agreements, due 1 March
    department_plans: Deadline  # the departments' agreements, due 15 February
    t1: Deadline  # the first follow-up report, due 15 May
    unit_b1b: Unit
    head_a2a: Any
    head_b1a: Any
    head_b1b: Any


@pytest.fixture
def cycle(org: Any, cascade: Any) -> Cycle:
    """Four units of level 4 and where they stand:

    * Unit A1a: submitted its agreement on time; not yet agreed, so no report is due.
    * Unit A1b: published, two initiatives, reported on one of them for T1.
    * Unit A2a: published last year, a draft this year.
    * Unit B1a: agreed, one initiative, reported for T1.
    * Unit B1b: no agreement at all.

    Each but Unit A1a and A1b has a head of its own (``head_...``).
    """
    unit_b1b = UnitFactory(parent=org.dept_b1, code="unit-b1b", name="Unit B1b")
    org.refresh()
    plans = DeadlineFactory(
        kind=DeadlineKind.AGREEMENT,
        title="Unit plans",
        unit_level=level(4),
        due_date=date(YEAR, 3, 1),
        remind_days_before=7,
    )
    department_plans = DeadlineFactory(
        kind=DeadlineKind.AGREEMENT,
        title="Department plans",
        unit_level=level(3),
        due_date=date(YEAR, 2, 15),
    )
    t1 = DeadlineFactory(
        kind=DeadlineKind.REPORT,
        title="Follow-up T1",
        period="T1",
        due_date=date(YEAR, 5, 15),
        remind_days_before=10,
    )
    DeadlineFactory(
        kind=DeadlineKind.ANNUAL_REPORT, title="Annual report", due_date=date(YEAR, 3, 2)
    )

    a1a = AgreementFactory(unit=org.unit, state=AgreementState.SUBMITTED)
    InitiativeFactory(agreement=a1a, goals=[cascade.goal_1])
    a1b = AgreementFactory(unit=org.sibling, state=AgreementState.PUBLISHED)
    reported = InitiativeFactory(agreement=a1b, goals=[cascade.goal_1])
    InitiativeFactory(agreement=a1b, goals=[cascade.goal_2])
    StatusReportFactory(initiative=reported, deadline=t1)
    AgreementFactory(unit=org.unit_a2a, year=YEAR - 1, state=AgreementState.PUBLISHED)
    AgreementFactory(unit=org.unit_a2a, state=AgreementState.DRAFT)
    b1a = AgreementFactory(unit=org.unit_b1a, state=AgreementState.AGREED)
    StatusReportFactory(initiative=InitiativeFactory(agreement=b1a), deadline=t1)

    head_a2a = UserFactory(username="head_a2a", first_name="Alva", last_name="Andersson")
    MembershipFactory(user=head_a2a, unit=org.unit_a2a, role=Role.UNIT_HEAD)
    head_b1a = UserFactory(username="head_b1a", first_name="Bo", last_name="Berg")
    MembershipFactory(user=head_b1a, unit=org.unit_b1a, role=Role.UNIT_HEAD)
    head_b1b = UserFactory(username="head_b1b", first_name="Bea", last_name="Bergström")
    MembershipFactory(user=head_b1b, unit=unit_b1b, role=Role.UNIT_HEAD)
    return Cycle(plans, department_plans, t1, unit_b1b, head_a2a, head_b1a, head_b1b)


# Overdue ------------------------------------------------------------------------------------------


def test_no_agreement_is_overdue_before_or_on_its_due_date(org, cycle):
    for day in (date(YEAR, 1, 10), date(YEAR, 2, 15)):
        assert overdue_agreements(year=YEAR, today=day) == []
    [department_plans] = overdue_agreements(year=YEAR, today=date(YEAR, 3, 1))
    assert department_plans.deadline == cycle.department_plans


def test_after_the_due_date_the_units_without_a_submitted_agreement_are_overdue(org, cycle):
    overdue = overdue_agreements(year=YEAR, today=date(YEAR, 3, 2))

    assert [o.deadline for o in overdue] == [cycle.department_plans, cycle.plans]
    departments, units = overdue
    assert names(departments.units) == ["Department A1", "Department A2", "Department B1"]
    # Unit A2a's published agreement of last year does not make up for this year's draft.
    assert names(units.units) == ["Unit A2a", "Unit B1b"]


def test_overdue_agreements_within_a_unit_are_only_those_below_it(org, cycle):
    overdue = overdue_agreements(year=YEAR, today=date(YEAR, 3, 2), within=org.centre_b)

    assert [names(o.units) for o in overdue] == [["Department B1"], ["Unit B1b"]]


def test_a_closed_unit_is_never_overdue(org, cycle):
    Unit.objects.filter(pk=org.unit_a2a.pk).update(closed_on=date(YEAR, 1, 31))

    assert names(overdue_agreements(year=YEAR, today=date(YEAR, 3, 2))[1].units) == ["Unit B1b"]


def test_reports_are_overdue_after_their_due_date_for_agreed_agreements_not_fully_reported(
    org, cycle
):
    assert overdue_reports(year=YEAR, today=date(YEAR, 5, 15)) == []

    [t1] = overdue_reports(year=YEAR, today=date(YEAR, 5, 16))

    assert t1.deadline == cycle.t1
    assert names(t1.units) == ["Unit A1b"]
    assert overdue_reports(year=YEAR, today=date(YEAR, 5, 16), within=org.centre_b)[0].units == []


def test_a_unit_is_told_which_deadlines_it_has_missed(org, cycle):
    after_t1 = date(YEAR, 5, 16)

    assert unit_overdue(org.unit_a2a, year=YEAR, today=date(YEAR, 3, 1)) == []
    assert unit_overdue(org.unit_a2a, year=YEAR, today=after_t1) == [cycle.plans]
    assert unit_overdue(org.sibling, year=YEAR, today=date(YEAR, 5, 15)) == []
    assert unit_overdue(org.sibling, year=YEAR, today=after_t1) == [cycle.t1]
    assert unit_overdue(org.unit, year=YEAR, today=after_t1) == []
    assert unit_overdue(org.unit_b1a, year=YEAR, today=after_t1) == []
    assert unit_overdue(cycle.unit_b1b, year=YEAR, today=after_t1) == [cycle.plans]
    assert unit_overdue(org.dept_b1, year=YEAR, today=after_t1) == [cycle.department_plans]


def test_the_unit_page_panel_lists_what_the_unit_owes(client, org, cycle):
    client.force_login(org.employee)
    url = reverse("followup:unit_overdue", args=[org.sibling.code])

    with on(date(YEAR, 5, 16)):
        panel = client.get(url, {"year": YEAR}, headers={"HX-Request": "true"})
        page = client.get(url, {"year": YEAR})
    with on(date(YEAR, 5, 1)):
        before = client.get(url, {"year": YEAR}, headers={"HX-Request": "true"})

    assert panel.status_code == 200
    assert panel.context["missing"] == [cycle.t1]
    assert "Follow-up T1" in panel.content.decode()
    assert "<html" not in panel.content.decode()
    assert page.status_code == 200
    assert "Follow-up T1" in page.content.decode()
    assert "<html" in page.content.decode()
    assert before.context["missing"] == []
    assert "Follow-up T1" not in before.content.decode()


def test_the_unit_page_loads_the_overdue_panel(client, org, cycle):
    client.force_login(org.employee)

    response = client.get(reverse("organisation:unit_detail", args=[org.unit.code]))

    assert reverse("followup:unit_overdue", args=[org.unit.code]) in response.content.decode()


def test_the_overdue_panel_of_an_unknown_unit_is_not_found(client, org):
    client.force_login(org.employee)

    assert client.get(reverse("followup:unit_overdue", args=["nowhere"])).status_code == 404


# Reminders ----------------------------------------------------------------------------------------


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_no_reminder_is_sent_before_the_reminder_window_opens(org, cycle):
    with on(date(YEAR, 2, 21)):
        assert send_reminders(date(YEAR, 2, 21)) == 0

    assert mail.outbox == []
    assert not Deadline.objects.filter(reminded_at__isnull=False).exists()


def test_reminders_go_to_the_heads_of_units_behind_and_not_to_those_done(org, cycle):
    sent = send_reminders(date(YEAR, 2, 23))  # the window for 1 March opened on 22 February

    assert sent == 2
    assert recipients() == ["head_a2a@example.org", "head_b1b@example.org"]
    to_a2a = next(m for m in mail.outbox if m.to == ["head_a2a@example.org"])
    assert "Alva Andersson" in to_a2a.body
    assert "Unit plans" in to_a2a.body
    assert "2026-03-01" in to_a2a.body
    assert "Unit A2a" in to_a2a.body
    assert "Unit B1b" not in to_a2a.body


def test_a_reminder_is_sent_once_and_the_deadline_marked_reminded(org, cycle):
    with on(date(YEAR, 2, 23)):
        assert send_reminders(date(YEAR, 2, 23)) == 2
    reminded = Deadline.objects.get(pk=cycle.plans.pk).reminded_at
    assert reminded is not None
    assert reminded.date() == date(YEAR, 2, 23)
    assert Deadline.objects.get(pk=cycle.department_plans.pk).reminded_at is None  # past

    assert send_reminders(date(YEAR, 2, 24)) == 0
    assert send_reminders(date(YEAR, 3, 1)) == 0
    assert len(mail.outbox) == 2


def test_report_reminders_go_to_units_that_have_not_reported_on_every_initiative(org, cycle):
    assert send_reminders(date(YEAR, 5, 4)) == 0  # ten days before 15 May is 5 May

    assert send_reminders(date(YEAR, 5, 5)) == 1

    assert recipients() == ["colleague@example.org"]
    assert "Follow-up T1" in mail.outbox[0].body
    assert "Unit A1b" in mail.outbox[0].body


def test_a_head_of_two_units_behind_gets_one_email_naming_both(org, cycle):
    MembershipFactory(user=cycle.head_a2a, unit=cycle.unit_b1b, role=Role.UNIT_HEAD)

    send_reminders(date(YEAR, 2, 27))

    [message] = [m for m in mail.outbox if m.to == ["head_a2a@example.org"]]
    assert "Unit A2a" in message.body
    assert "Unit B1b" in message.body


def test_no_reminder_to_a_former_head_or_a_head_without_an_address(org, cycle):
    membership = cycle.head_a2a.memberships.get()
    membership.ends_on = date(YEAR, 1, 31)
    membership.save()
    cycle.head_b1b.email = ""
    cycle.head_b1b.save()

    with on(date(YEAR, 2, 23)):
        assert send_reminders(date(YEAR, 2, 23)) == 0

    assert mail.outbox == []


def test_send_reminders_now_sends_at_once(org, cycle, capsys):
    with on(date(YEAR, 2, 23)):
        call_command("send-reminders", now=True)

    assert recipients() == ["head_a2a@example.org", "head_b1b@example.org"]
    assert "2 " in capsys.readouterr().out


def test_send_reminders_enqueues_the_task_that_sends_them(org, cycle, capsys):
    with override_settings(TASKS=IMMEDIATE_TASKS), on(date(YEAR, 2, 23)):
        call_command("send-reminders")

    assert recipients() == ["head_a2a@example.org", "head_b1b@example.org"]
    assert Deadline.objects.get(pk=cycle.plans.pk).reminded_at is not None


def test_send_reminders_without_a_worker_only_queues_the_task(org, cycle, capsys):
    with on(date(YEAR, 2, 23)):
        call_command("send-reminders")

    assert mail.outbox == []
    assert "db_worker" in capsys.readouterr().out
    assert Deadline.objects.get(pk=cycle.plans.pk).reminded_at is None


# The annual cycle page and the calendar feed ------------------------------------------------------


def test_the_cycle_page_lists_the_years_deadlines_and_which_have_passed(client, org, cycle):
    client.force_login(org.employee)

    with on(date(YEAR, 3, 10)):
        response = client.get(reverse("followup:cycle"), {"year": YEAR})

    assert response.status_code == 200
    assert [d.title for d in response.context["deadlines"]] == [
        "Department plans",
        "Unit plans",
        "Annual report",
        "Follow-up T1",
    ]
    assert response.context["today"] == date(YEAR, 3, 10)


def test_opening_the_cycle_page_gives_the_person_a_calendar_address(client, org, cycle):
    client.force_login(org.employee)
    assert not CalendarFeed.objects.exists()

    response = client.get(reverse("followup:cycle"))
    again = client.get(reverse("followup:cycle"))

    feed = CalendarFeed.objects.get(user=org.employee)
    assert response.context["feed_url"] == f"http://testserver/followup/calendar/{feed.token}.ics"
    assert again.context["feed_url"] == response.context["feed_url"]
    assert response.context["feed_url"] in response.content.decode()


def events_of(content: bytes) -> dict[str, date]:
    calendar = Calendar.from_ical(content)
    return {str(e["SUMMARY"]): e.decoded("DTSTART") for e in calendar.walk("VEVENT")}


def test_the_calendar_feed_is_read_without_logging_in(client, org, cycle):
    client.force_login(org.employee)
    feed_url = client.get(reverse("followup:cycle")).context["feed_url"]
    client.logout()
    DeadlineFactory(title="Long ago", year=YEAR - 3, due_date=date(YEAR - 3, 3, 1))
    DeadlineFactory(title="Next year's plans", year=YEAR + 1, due_date=date(YEAR + 1, 3, 1))

    with on(date(YEAR, 4, 1)):
        response = client.get(feed_url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    events = events_of(response.content)
    assert events == {
        "Department plans": date(YEAR, 2, 15),
        "Unit plans": date(YEAR, 3, 1),
        "Annual report": date(YEAR, 3, 2),
        "Follow-up T1": date(YEAR, 5, 15),
        "Next year's plans": date(YEAR + 1, 3, 1),
    }
    [plans] = [e for e in calendar.walk("VEVENT") if str(e["SUMMARY"]) == "Unit plans"]
    assert plans.decoded("DTEND") == date(YEAR, 3, 1) + timedelta(days=1)
    assert str(plans["UID"]) == f"deadline-{cycle.plans.pk}@pejling"


def test_an_unknown_calendar_address_is_not_found(client, org, cycle):
    response = client.get(reverse("followup:calendar_feed", args=["not-a-real-token"]))

    assert response.status_code == 404


def test_the_calendar_of_a_deactivated_person_is_not_found(client, org, cycle):
    feed = CalendarFeed.objects.create(user=org.employee)
    org.employee.is_active = False
    org.employee.save()

    assert client.get(feed.get_absolute_url()).status_code == 404


def test_a_new_calendar_address_makes_the_old_one_stop_working(client, org, cycle):
    client.force_login(org.employee)
    old_url = client.get(reverse("followup:cycle")).context["feed_url"]

    response = client.post(reverse("followup:calendar_reset"))
    new_url = client.get(reverse("followup:cycle")).context["feed_url"]
    client.logout()

    assert response.status_code == 302
    assert response["Location"] == reverse("followup:cycle")
    assert new_url != old_url
    assert client.get(old_url).status_code == 404
    assert client.get(new_url).status_code == 200
    assert CalendarFeed.objects.filter(user=org.employee).count() == 1


def test_resetting_the_calendar_address_needs_a_post(client, org):
    client.force_login(org.employee)

    assert client.get(reverse("followup:calendar_reset")).status_code == 405
