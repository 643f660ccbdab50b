"""Status reporting with little burden: the services, the period page and the unit's periods."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from pejling.agreements.models import Agreement, AgreementState
from pejling.followup import services
from pejling.followup.models import DeadlineKind, ReportStatus, StatusReport
from pejling.followup.services import ReportEntry
from pejling.organisation.models import Role
from tests.factories import (
    YEAR,
    AgreementFactory,
    InitiativeFactory,
    MembershipFactory,
    ReportDeadlineFactory,
    StatusReportFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreed(org: Any, cascade: Any, agreement: Agreement) -> Agreement:
    """The unit's agreement for YEAR, agreed, with three initiatives."""
    InitiativeFactory(agreement=agreement, title="Shared introduction")
    InitiativeFactory(agreement=agreement, title="Mentors for new staff")
    agreement.state = AgreementState.AGREED
    agreement.save()
    return agreement


@pytest.fixture
def t1() -> Any:
    return ReportDeadlineFactory(period="T1", title="Tertial 1", due_date=date(YEAR, 5, 15))


@pytest.fixture
def t2(t1: Any) -> Any:
    return ReportDeadlineFactory(period="T2", title="Tertial 2", due_date=date(YEAR, 9, 15))


def initiatives_of(agreement: Agreement) -> list[Any]:
    return list(agreement.initiatives.order_by("position", "pk"))


def statuses(agreement: Agreement, deadline: Any) -> dict[str, tuple[str, str]]:
    return {
        r.initiative.title: (r.status, r.comment)
        for r in StatusReport.objects.filter(
            deadline=deadline, initiative__agreement=agreement
        ).select_related("initiative")
    }


def report_t1(agreement: Agreement, t1: Any) -> None:
    first, second, third = initiatives_of(agreement)
    StatusReportFactory(initiative=first, deadline=t1, status=ReportStatus.AT_RISK, comment="Late")
    StatusReportFactory(initiative=second, deadline=t1, status=ReportStatus.OFF_TRACK)
    StatusReportFactory(initiative=third, deadline=t1, status=ReportStatus.ON_TRACK)


# Services ------------------------------------------------------------------------------------


def test_a_unit_head_reports_every_initiative_of_a_period_in_one_call(org, agreed, t1):
    first, second, third = initiatives_of(agreed)
    entries = [
        ReportEntry(first.pk, ReportStatus.ON_TRACK),
        ReportEntry(second.pk, ReportStatus.AT_RISK, "  Waiting for the budget  "),
        ReportEntry(third.pk, ReportStatus.DONE),
    ]

    reports = services.report_period(unit=org.unit, deadline=t1, by=org.head, entries=entries)

    assert len(reports) == 3
    assert statuses(agreed, t1) == {
        "Early health talks": ("on_track", ""),
        "Shared introduction": ("at_risk", "Waiting for the budget"),
        "Mentors for new staff": ("done", ""),
    }
    report = StatusReport.objects.get(initiative=second, deadline=t1)
    assert report.reported_by == org.head
    assert report.history.get().history_user == org.head


def test_reporting_again_updates_the_periods_reports_instead_of_adding_rows(org, agreed, t1):
    first = initiatives_of(agreed)[0]
    services.report_period(
        unit=org.unit, deadline=t1, by=org.head, entries=[ReportEntry(first.pk, "on_track")]
    )
    services.report_period(
        unit=org.unit,
        deadline=t1,
        by=org.parent_head,
        entries=[ReportEntry(first.pk, "off_track", "Supplier went bankrupt")],
    )

    report = StatusReport.objects.get(initiative=first, deadline=t1)
    assert (report.status, report.comment) == ("off_track", "Supplier went bankrupt")
    assert report.reported_by == org.parent_head
    assert [h.history_user for h in report.history.order_by("history_date")] == [
        org.head,
        org.parent_head,
    ]


def test_a_report_that_changes_nothing_leaves_the_rows_and_their_history_alone(org, agreed, t1):
    first = initiatives_of(agreed)[0]
    entries = [ReportEntry(first.pk, "at_risk", "Late")]
    services.report_period(unit=org.unit, deadline=t1, by=org.head, entries=entries)
    services.report_period(unit=org.unit, deadline=t1, by=org.parent_head, entries=entries)

    report = StatusReport.objects.get(initiative=first, deadline=t1)
    assert report.reported_by == org.head
    assert report.history.count() == 1


def test_one_bad_status_among_good_entries_writes_nothing(org, agreed, t1):
    report_t1(agreed, t1)
    before = statuses(agreed, t1)
    first, second, third = initiatives_of(agreed)
    entries = [
        ReportEntry(first.pk, ReportStatus.DONE),
        ReportEntry(second.pk, "splendid"),
        ReportEntry(third.pk, ReportStatus.DONE),
    ]

    with pytest.raises(ValidationError) as error:
        services.report_period(unit=org.unit, deadline=t1, by=org.head, entries=entries)

    assert "splendid" in " ".join(error.value.messages)
    assert statuses(agreed, t1) == before


def test_an_initiative_of_another_units_agreement_is_refused_and_nothing_is_written(
    org, agreed, t1
):
    other = AgreementFactory(unit=org.sibling, year=YEAR, state=AgreementState.AGREED)
    foreign = InitiativeFactory(agreement=other, title="Not ours")
    first = initiatives_of(agreed)[0]

    with pytest.raises(ValidationError):
        services.report_period(
            unit=org.unit,
            deadline=t1,
            by=org.head,
            entries=[ReportEntry(first.pk, "on_track"), ReportEntry(foreign.pk, "on_track")],
        )

    assert not StatusReport.objects.exists()


def test_an_initiative_of_the_units_agreement_for_another_year_is_refused(org, agreed, t1):
    next_year = AgreementFactory(unit=org.unit, year=YEAR + 1, state=AgreementState.AGREED)
    later = InitiativeFactory(agreement=next_year)

    with pytest.raises(ValidationError):
        services.report_period(
            unit=org.unit, deadline=t1, by=org.head, entries=[ReportEntry(later.pk, "on_track")]
        )
    assert not StatusReport.objects.exists()


def test_a_failure_half_way_through_the_writes_rolls_every_row_back(org, agreed, t1, monkeypatch):
    """All or nothing even when the database refuses a row after others were written."""
    calls = {"n": 0}
    real_save_as = services.save_as

    def failing_save_as(obj: Any, by: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the disk is full")
        real_save_as(obj, by, **kwargs)

    monkeypatch.setattr(services, "save_as", failing_save_as)
    entries = [ReportEntry(i.pk, "on_track") for i in initiatives_of(agreed)]

    with pytest.raises(RuntimeError):
        services.report_period(unit=org.unit, deadline=t1, by=org.head, entries=entries)

    assert calls["n"] == 3
    assert not StatusReport.objects.exists()


def test_an_initiative_reported_twice_in_one_call_is_refused(org, agreed, t1):
    first = initiatives_of(agreed)[0]
    with pytest.raises(ValidationError):
        services.report_period(
            unit=org.unit,
            deadline=t1,
            by=org.head,
            entries=[ReportEntry(first.pk, "on_track"), ReportEntry(first.pk, "done")],
        )
    assert not StatusReport.objects.exists()


@pytest.mark.parametrize("who", ["employee", "colleague", "executive", "outsider"])
def test_only_those_who_can_write_the_agreement_can_report(org, agreed, t1, who):
    first = initiatives_of(agreed)[0]
    with pytest.raises(PermissionDenied):
        services.report_period(
            unit=org.unit,
            deadline=t1,
            by=getattr(org, who),
            entries=[ReportEntry(first.pk, "on_track")],
        )
    with pytest.raises(PermissionDenied):
        services.confirm_unchanged(unit=org.unit, deadline=t1, by=getattr(org, who))
    assert not StatusReport.objects.exists()


@pytest.mark.parametrize("who", ["head", "parent_head", "office"])
def test_the_head_an_editor_above_or_the_strategy_office_can_report(org, agreed, t1, who):
    first = initiatives_of(agreed)[0]
    services.report_period(
        unit=org.unit, deadline=t1, by=getattr(org, who), entries=[ReportEntry(first.pk, "done")]
    )
    assert StatusReport.objects.get().status == "done"


def test_a_draft_agreement_never_agreed_has_nothing_to_report_on(org, agreement, t1):
    first = initiatives_of(agreement)[0]
    with pytest.raises(ValidationError):
        services.report_period(
            unit=org.unit, deadline=t1, by=org.head, entries=[ReportEntry(first.pk, "on_track")]
        )


def test_a_deadline_that_is_not_a_follow_up_period_is_refused(org, agreed):
    deadline = ReportDeadlineFactory(kind=DeadlineKind.AGREEMENT, period="")
    first = initiatives_of(agreed)[0]
    with pytest.raises(ValidationError):
        services.report_period(
            unit=org.unit,
            deadline=deadline,
            by=org.head,
            entries=[ReportEntry(first.pk, "on_track")],
        )


def test_nothing_changed_copies_every_status_and_comment_of_the_previous_period(
    org, agreed, t1, t2
):
    report_t1(agreed, t1)

    reports = services.confirm_unchanged(unit=org.unit, deadline=t2, by=org.head)

    assert len(reports) == 3
    assert (
        statuses(agreed, t2)
        == statuses(agreed, t1)
        == {
            "Early health talks": ("at_risk", "Late"),
            "Shared introduction": ("off_track", ""),
            "Mentors for new staff": ("on_track", ""),
        }
    )
    assert {r.reported_by for r in StatusReport.objects.filter(deadline=t2)} == {org.head}


def test_nothing_changed_reports_on_track_where_there_is_no_earlier_report(org, agreed, t1, t2):
    first = initiatives_of(agreed)[0]
    StatusReportFactory(initiative=first, deadline=t1, status=ReportStatus.DONE)

    services.confirm_unchanged(unit=org.unit, deadline=t2, by=org.head)

    assert statuses(agreed, t2) == {
        "Early health talks": ("done", ""),
        "Shared introduction": ("on_track", ""),
        "Mentors for new staff": ("on_track", ""),
    }


def test_nothing_changed_in_the_first_period_reports_everything_on_track(org, agreed, t1):
    services.confirm_unchanged(unit=org.unit, deadline=t1, by=org.head)
    assert {s for s, _c in statuses(agreed, t1).values()} == {"on_track"}


def test_the_previous_period_is_the_latest_earlier_deadline_of_the_same_year(org, agreed, t1):
    first = initiatives_of(agreed)[0]
    t3 = ReportDeadlineFactory(period="T3", due_date=date(YEAR, 12, 15))
    t2 = ReportDeadlineFactory(period="T2", due_date=date(YEAR, 9, 15))  # made after T3
    last_year = ReportDeadlineFactory(year=YEAR - 1, period="T3", due_date=date(YEAR - 1, 12, 1))
    StatusReportFactory(initiative=first, deadline=t1, status=ReportStatus.OFF_TRACK)
    StatusReportFactory(initiative=first, deadline=t2, status=ReportStatus.AT_RISK)

    assert services.previous_deadline(t3) == t2
    assert services.previous_deadline(t1) is None
    assert services.previous_deadline(last_year) is None
    services.confirm_unchanged(unit=org.unit, deadline=t3, by=org.head)
    assert statuses(agreed, t3)["Early health talks"] == ("at_risk", "")


def test_nothing_changed_overwrites_what_was_saved_for_the_period_so_far(org, agreed, t1, t2):
    report_t1(agreed, t1)
    first = initiatives_of(agreed)[0]
    StatusReportFactory(initiative=first, deadline=t2, status=ReportStatus.DONE)

    services.confirm_unchanged(unit=org.unit, deadline=t2, by=org.head)

    assert statuses(agreed, t2)["Early health talks"] == ("at_risk", "Late")
    assert StatusReport.objects.filter(deadline=t2).count() == 3


def test_an_agreement_under_revision_is_still_reported_on(org, agreed, t1):
    from pejling.agreements import services as agreement_services

    agreed.state = AgreementState.SUBMITTED
    agreed.save()
    agreement_services.agreement_agree(agreement=agreed, by=org.parent_head)
    agreement_services.agreement_revise(agreement=agreed, by=org.head)

    services.confirm_unchanged(unit=org.unit, deadline=t1, by=org.head)
    assert StatusReport.objects.filter(deadline=t1).count() == 3


# The period page -------------------------------------------------------------------------------


def period_url(org: Any, deadline: Any) -> str:
    return reverse("reports:report_period", args=[org.unit.code, deadline.pk])


def list_url(org: Any) -> str:
    return reverse("reports:unit_reports", args=[org.unit.code]) + f"?year={YEAR}"


def test_the_period_page_lists_every_initiative_with_last_periods_status_chosen(
    client, org, agreed, t1, t2
):
    report_t1(agreed, t1)
    first, second, third = initiatives_of(agreed)
    client.force_login(org.head)

    response = client.get(period_url(org, t2))

    assert response.status_code == 200
    html = response.content.decode()
    for initiative, status in [(first, "at_risk"), (second, "off_track"), (third, "on_track")]:
        assert initiative.title in html
        assert f'name="status-{initiative.pk}" value="{status}" checked' in html, initiative.title
    assert f'name="comment-{first.pk}" maxlength="1000" value="Late"' in html
    assert str(t2.title) in html
    assert 'name="action" value="confirm"' in html
    assert 'name="bulk_status"' in html
    assert f'name="selected" value="{first.pk}"' in html


def test_the_period_page_shows_the_due_date_and_that_the_unit_is_overdue(client, org, agreed):
    today = timezone.localdate()
    late = ReportDeadlineFactory(period="T1", due_date=today - timedelta(days=3))
    coming = ReportDeadlineFactory(period="T2", due_date=today + timedelta(days=30))
    client.force_login(org.head)

    late_page = client.get(period_url(org, late))
    coming_page = client.get(period_url(org, coming))

    assert late_page.context["page"].period.state == "overdue"
    assert 'id="report-state">' in late_page.content.decode()
    assert coming_page.context["page"].period.state == "missing"
    assert late_page.context["page"].period.deadline.due_date == late.due_date


def test_one_post_confirms_every_initiative_as_unchanged(client, org, agreed, t1, t2):
    report_t1(agreed, t1)
    client.force_login(org.head)

    response = client.post(period_url(org, t2), {"action": "confirm"})

    assert response.status_code == 302
    assert response["Location"] == period_url(org, t2)
    assert statuses(agreed, t2) == statuses(agreed, t1)
    page = client.get(period_url(org, t2))
    assert page.context["page"].period.state == "reported"


def test_saving_the_form_with_two_changes_reports_every_initiative(client, org, agreed, t1, t2):
    report_t1(agreed, t1)
    first, second, third = initiatives_of(agreed)
    client.force_login(org.head)

    response = client.post(
        period_url(org, t2),
        {
            "action": "save",
            f"status-{first.pk}": "on_track",
            f"comment-{first.pk}": "Back on track",
            f"status-{second.pk}": "at_risk",
            f"comment-{second.pk}": "",
            f"status-{third.pk}": "on_track",
            f"comment-{third.pk}": "",
        },
    )

    assert response.status_code == 302
    assert statuses(agreed, t2) == {
        "Early health talks": ("on_track", "Back on track"),
        "Shared introduction": ("at_risk", ""),
        "Mentors for new staff": ("on_track", ""),
    }


def test_set_all_selected_to_one_status_saves_the_report_with_them_changed(
    client, org, agreed, t1, t2
):
    report_t1(agreed, t1)
    first, second, third = initiatives_of(agreed)
    client.force_login(org.head)

    response = client.post(
        period_url(org, t2),
        {
            "action": "bulk",
            "bulk_status": "done",
            "selected": [first.pk, third.pk],
            f"status-{first.pk}": "at_risk",
            f"comment-{first.pk}": "Late",
            f"status-{second.pk}": "off_track",
            f"status-{third.pk}": "on_track",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert statuses(agreed, t2) == {
        "Early health talks": ("done", "Late"),
        "Shared introduction": ("off_track", ""),
        "Mentors for new staff": ("done", ""),
    }
    with translation.override(settings.LANGUAGE_CODE):
        label = str(ReportStatus.DONE.label)
    assert any(label in str(m) for m in response.context["messages"])


def test_set_all_selected_without_a_selection_or_status_explains_and_writes_nothing(
    client, org, agreed, t1
):
    first = initiatives_of(agreed)[0]
    client.force_login(org.head)

    no_selection = client.post(
        period_url(org, t1),
        {"action": "bulk", "bulk_status": "done", f"status-{first.pk}": "at_risk"},
    )
    no_status = client.post(
        period_url(org, t1),
        {"action": "bulk", "bulk_status": "", "selected": [first.pk]},
    )

    assert no_selection.status_code == no_status.status_code == 200
    assert no_selection.context["errors"] and no_status.context["errors"]
    # the form keeps what was posted
    assert no_selection.context["page"].rows[0].status == "at_risk"
    assert no_status.context["page"].rows[0].selected
    assert not StatusReport.objects.exists()


def test_a_bad_status_posted_shows_an_error_and_writes_nothing(client, org, agreed, t1):
    first, second, _third = initiatives_of(agreed)
    client.force_login(org.head)

    response = client.post(
        period_url(org, t1),
        {"action": "save", f"status-{first.pk}": "done", f"status-{second.pk}": "<b>great</b>"},
    )

    assert response.status_code == 200
    assert response.context["errors"]
    assert "&lt;b&gt;great&lt;/b&gt;" in response.content.decode()
    assert not StatusReport.objects.exists()


def test_an_htmx_save_answers_with_the_report_fragment_only(client, org, agreed, t1):
    client.force_login(org.head)

    response = client.post(
        period_url(org, t1), {"action": "confirm"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="report"')
    assert "<html" not in html
    assert 'role="status"' in html
    assert StatusReport.objects.filter(deadline=t1).count() == 3


def test_the_period_page_is_read_only_for_a_reader_of_the_unit(client, org, agreed, t1):
    reader = UserFactory(username="reader")
    MembershipFactory(user=reader, unit=org.unit, role=Role.READER)
    client.force_login(reader)

    page = client.get(period_url(org, t1))
    post = client.post(period_url(org, t1), {"action": "confirm"})

    assert page.status_code == 200
    assert 'name="action"' not in page.content.decode()
    assert post.status_code == 403
    assert not StatusReport.objects.exists()


@pytest.mark.parametrize("who", ["employee", "colleague", "outsider"])
def test_people_outside_the_units_line_get_403(client, org, agreed, t1, who):
    client.force_login(getattr(org, who))
    assert client.get(period_url(org, t1)).status_code == 403
    assert client.post(period_url(org, t1), {"action": "confirm"}).status_code == 403
    assert client.get(list_url(org)).status_code == 403
    assert not StatusReport.objects.exists()


def test_anonymous_visitors_are_asked_to_log_in(client, org, agreed, t1):
    response = client.get(period_url(org, t1))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_deadline_that_is_not_a_report_period_has_no_page(client, org, agreed):
    deadline = ReportDeadlineFactory(kind=DeadlineKind.AGREEMENT, period="")
    client.force_login(org.head)
    assert client.get(period_url(org, deadline)).status_code == 404


def test_a_unit_without_an_agreed_agreement_is_told_so(client, org, agreement, t1):
    client.force_login(org.head)
    response = client.get(period_url(org, t1))
    assert response.status_code == 200
    assert response.context["page"].agreement is None
    assert 'name="action"' not in response.content.decode()


# The unit's periods ---------------------------------------------------------------------------


def test_the_units_periods_show_reported_missing_and_overdue(client, org, agreed):
    today = timezone.localdate()
    done = ReportDeadlineFactory(period="T1", due_date=today - timedelta(days=60))
    late = ReportDeadlineFactory(period="T2", due_date=today - timedelta(days=1))
    coming = ReportDeadlineFactory(period="T3", due_date=today + timedelta(days=30))
    for initiative in initiatives_of(agreed):
        StatusReportFactory(initiative=initiative, deadline=done)
    StatusReportFactory(initiative=initiatives_of(agreed)[0], deadline=late)
    client.force_login(org.head)

    response = client.get(list_url(org))

    assert response.status_code == 200
    periods = {p.deadline.pk: p for p in response.context["periods"]}
    assert periods[done.pk].state == "reported"
    assert periods[late.pk].state == "overdue"
    assert (periods[late.pk].reported, periods[late.pk].total) == (1, 3)
    assert periods[coming.pk].state == "missing"
    html = response.content.decode()
    assert reverse("reports:report_period", args=[org.unit.code, late.pk]) in html


def test_the_units_periods_page_lists_only_the_years_report_deadlines(client, org, agreed, t1):
    ReportDeadlineFactory(kind=DeadlineKind.AGREEMENT, period="", title="Agreements due")
    ReportDeadlineFactory(year=YEAR + 1, period="T1", title="Next year")
    client.force_login(org.head)

    response = client.get(list_url(org))

    assert [p.deadline for p in response.context["periods"]] == [t1]


# The agreement page ----------------------------------------------------------------------------


def test_the_agreement_page_links_writers_to_the_follow_up_reports(client, org, agreed, t1):
    page = reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])
    url = reverse("followup:agreement_reporting", args=[org.unit.code, YEAR])
    reports = reverse("reports:unit_reports", args=[org.unit.code])

    client.force_login(org.head)
    assert f'hx-get="{url}"' in client.get(page).content.decode()
    html = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert reports in html
    assert reverse("reports:report_period", args=[org.unit.code, t1.pk]) in html

    client.force_login(org.executive)
    assert reports not in client.get(url, headers={"HX-Request": "true"}).content.decode()


def test_the_period_page_does_not_grow_with_initiatives_reports_or_comments(
    client, org, agreed, t1, t2
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import CommentFactory

    client.force_login(org.head)
    url = period_url(org, t2)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context.captured_queries)

    CommentFactory(author=org.head, initiative=initiatives_of(agreed)[0])
    before = queries()
    for n in range(10):
        initiative = InitiativeFactory(agreement=agreed, owner=org.employee)
        StatusReportFactory(initiative=initiative, deadline=t1, comment=f"Note {n}")
        StatusReportFactory(initiative=initiative, deadline=t2)
        first = CommentFactory(author=org.head, initiative=initiative)
        CommentFactory(author=org.parent_head, initiative=initiative, parent=first)
    assert queries() == before
