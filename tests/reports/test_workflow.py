"""The report workflow: the template's chapters, the step table, locking, finalising and
freezing, copying a finalised report, progress."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from pejling.reports import services, workflow
from pejling.reports.documents.builders import build_report_document
from pejling.reports.models import Report, ReportState, Section, SectionKind, SectionState
from pejling.reports.selectors import report_progress, report_sections

pytestmark = pytest.mark.django_db


def _approve_all(report, by):
    for section in report.sections.all():
        services.section_step(section=section, step="ready", by=by)
        services.section_step(section=section, step="approve", by=by)


def test_a_report_starts_from_the_template(report, cascade):
    kinds = list(report.sections.values_list("kind", flat=True))
    assert kinds[0] == SectionKind.INTRODUCTION and kinds[-1] == SectionKind.CLOSING
    assert {SectionKind.COMPLIANCE, SectionKind.AT_RISK, SectionKind.PORTFOLIO} <= set(kinds)
    themes = list(report.sections.filter(kind=SectionKind.THEME).values_list("theme", flat=True))
    assert themes == [cascade.theme_1.pk]  # the theme of the measured goal


def test_only_the_strategy_office_creates_reports(org, cascade, periods):
    with pytest.raises(PermissionDenied):
        services.report_create(period=periods[0], by=org.executive, title="No")


def test_a_section_goes_draft_ready_approved_and_only_the_office_approves(org, report):
    section = report.sections.first()
    services.section_assign(
        section=section, by=org.office, unit=org.unit, assignee=org.head, due_date=None
    )
    section.refresh_from_db()
    assert [s.name for s in workflow.available_steps(org.head, section)] == ["ready"]
    section = services.section_step(section=section, step="ready", by=org.head)
    assert section.state == SectionState.READY
    with pytest.raises(PermissionDenied):
        services.section_step(section=section, step="approve", by=org.head)
    section = services.section_step(section=section, step="approve", by=org.office)
    assert section.state == SectionState.APPROVED
    assert workflow.available_steps(org.head, section) == []


def test_a_step_taken_twice_is_refused_with_a_message(org, report):
    section = report.sections.first()
    services.section_step(section=section, step="ready", by=org.office)
    stale = Section.objects.get(pk=section.pk)
    services.section_step(section=section, step="approve", by=org.office)
    with translation.override("en"), pytest.raises(ValidationError, match="someone else"):
        services.section_step(section=stale, step="approve", by=org.office)


def test_the_text_of_a_ready_section_cannot_change(org, report):
    section = report.sections.first()
    services.section_step(section=section, step="ready", by=org.office)
    with pytest.raises(ValidationError):
        services.section_update(section=section, by=org.office, body="Late change")


def test_the_report_is_finalised_only_when_every_section_is_approved(org, report):
    with pytest.raises(ValidationError):
        services.report_finalise(report=report, by=org.office, language="sv")
    _approve_all(report, org.office)
    with pytest.raises(PermissionDenied):
        services.report_finalise(report=report, by=org.executive, language="sv")
    done = services.report_finalise(report=report, by=org.office, language="sv")
    assert done.state == ReportState.FINALISED and done.finalised_at and done.snapshot
    assert done.snapshot["frozen_at"]


def test_a_finalised_report_never_changes(org, report, cascade):
    services.section_update(section=report.sections.first(), by=org.office, body="Frozen words")
    _approve_all(report, org.office)
    services.report_finalise(report=report, by=org.office, language="en")
    report.refresh_from_db()
    before = build_report_document(report=report, user=org.office, language="en").to_json()
    # Later changes to what the report was made of do not reach it.
    cascade.goal_1.title = "A renamed goal"
    cascade.goal_1.save()
    section = report.sections.first()
    for call in (
        lambda: services.section_update(section=section, by=org.office, body="Changed"),
        lambda: services.section_step(section=section, step="reopen", by=org.office),
        lambda: services.report_finalise(report=report, by=org.office, language="en"),
    ):
        with pytest.raises(ValidationError):
            call()
    after = build_report_document(report=report, user=org.office, language="en").to_json()
    assert after == before
    assert "Frozen words" in str(after) and "A renamed goal" not in str(after)
    assert "Sick leave falls" in str(after)


def test_a_finalised_report_is_copied_as_the_next_one(org, report, periods):
    section = report.sections.first()
    services.section_update(section=section, by=org.office, body="Intro text")
    services.section_assign(
        section=section, by=org.office, unit=org.unit, assignee=org.head, due_date=None
    )
    _approve_all(report, org.office)
    services.report_finalise(report=report, by=org.office, language="sv")
    copy = services.report_create(period=periods[1], by=org.office, title="T2", copy_from=report)
    first = copy.sections.order_by("position").first()
    assert first.body == "Intro text" and first.assignee == org.head
    assert set(copy.sections.values_list("state", flat=True)) == {SectionState.DRAFT}
    assert copy.copied_from == report


def test_progress_counts_ready_approved_and_late(org, report):
    sections = report_sections(report)
    Section.objects.filter(pk=sections[0].pk).update(due_date=date(2026, 1, 1))
    services.section_step(section=sections[1], step="ready", by=org.office)
    services.section_step(section=sections[2], step="ready", by=org.office)
    services.section_step(section=sections[2], step="approve", by=org.office)
    progress = report_progress(report_sections(report), today=date(2026, 2, 1))
    assert (progress.ready, progress.approved, progress.late, progress.total) == (
        1,
        1,
        1,
        len(sections),
    )
    assert report_progress(report_sections(report), today=date(2025, 12, 1)).late == 0


def test_the_report_page_shows_progress_and_the_steps(client, org, report):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(org.office)
    page = client.get(reverse("board_reports:report_detail", args=[report.pk])).content.decode()
    assert "Mark as ready" in page and "0 / " in page


def test_finalising_in_the_web_with_a_stale_version_is_refused(client, org, report):
    _approve_all(report, org.office)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(org.office)
    url = reverse("board_reports:report_finalise", args=[report.pk])
    response = client.post(url, {"version": report.version + 5}, follow=True)
    assert Report.objects.get().state == ReportState.OPEN
    assert "Someone else changed the report" in response.content.decode()
    client.post(url, {"version": Report.objects.get().version})
    assert Report.objects.get().state == ReportState.FINALISED


def test_a_report_in_progress_is_hidden_from_people_outside_it(client, org, report):
    url = reverse("board_reports:report_detail", args=[report.pk])
    client.force_login(org.employee)
    assert client.get(url).status_code == 404
    section = report.sections.first()
    services.section_assign(
        section=section,
        by=org.office,
        unit=None,
        assignee=org.employee,
        due_date=date(2026, 12, 1) + timedelta(days=3),
    )
    assert client.get(url).status_code == 200


def test_the_annual_cycle_reminds_the_writer_of_a_chapter_once(org, report, mailoutbox):
    from pejling.followup.reminders import send_reminders

    org.head.email = "head@example.org"
    org.head.save()
    section = report.sections.first()
    services.section_assign(
        section=section, by=org.office, unit=org.unit, assignee=org.head, due_date=date(2026, 4, 10)
    )
    assert send_reminders(date(2026, 3, 1)) == 0  # not yet within the week before
    assert send_reminders(date(2026, 4, 5)) == 1
    assert section.title in mailoutbox[-1].body and mailoutbox[-1].to == ["head@example.org"]
    assert send_reminders(date(2026, 4, 6)) == 0  # once


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_report_pages_cost_the_same_queries_as_reports_and_chapters_grow(
    client, org, report, periods
):
    client.force_login(org.office)
    list_url = reverse("board_reports:report_list")
    detail_url = reverse("board_reports:report_detail", args=[report.pk])
    few_list, few_detail = _queries(client, list_url), _queries(client, detail_url)
    for n in range(3):
        services.report_create(period=periods[1], by=org.office, title=f"More {n}")
        Section.objects.create(report=report, kind=SectionKind.CLOSING, title=f"Extra {n}")
    assert _queries(client, list_url) == few_list
    assert _queries(client, detail_url) == few_detail
