"""A board report from assignment to the council's PDF: the strategy office assigns a chapter,
the head of a centre writes the analysis of a goal and marks the chapter ready, the office
approves it, finalises the report and downloads the PDF. axe-core checks every page."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from e2e.browser import _, check_a11y, follow, log_in, submit, visit
from pejling.reports import services
from pejling.reports.models import Analysis, Report, ReportState, SectionKind, SectionState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_assign_write_approve_finalise_and_download_the_pdf(page: Page) -> None:
    office = get_user_model().objects.get(username="strategi")
    report = Report.objects.get(title="Tertialrapport 2 2026")
    # Every chapter but one theme is done already: the test walks the last one through.
    chapter = report.sections.filter(kind=SectionKind.THEME).order_by("position").last()
    for section in report.sections.exclude(pk=chapter.pk):
        if section.state == SectionState.DRAFT:
            services.section_step(section=section, step="ready", by=office)
        if section.state != SectionState.APPROVED:
            section.refresh_from_db()
            services.section_step(section=section, step="approve", by=office)
    if chapter.state != SectionState.DRAFT:
        services.section_step(section=chapter, step="reopen", by=office)

    # The office assigns the chapter to the care centre and its head.
    log_in(page, "strategi")
    visit(page, "/board-reports/")
    follow(page, page.get_by_role("link", name="Tertialrapport 2 2026"))
    follow(page, page.get_by_role("link", name=chapter.title))
    page.get_by_label(_("Responsible unit")).select_option(label="Vård- och omsorgsförvaltningen")
    page.get_by_label(_("Responsible person")).select_option(label="Anders Ek")
    page.get_by_label(_("Due date")).fill(date(2026, 12, 20).isoformat())
    submit(page, page.get_by_role("button", name=_("Assign")))
    expect(page.get_by_text(_("The section was assigned."))).to_be_visible()

    # The head of the centre writes the analysis of the chapter's first goal.
    log_in(page, "forvaltningschef")
    visit(page, f"/board-reports/{report.pk}/sections/{chapter.pk}/")
    goal_link = page.locator("#goals-heading ~ .table-scroll table a").first
    follow(page, goal_link)
    expect(page.get_by_role("heading", name=_("The previous period's analysis"))).to_be_visible()
    page.get_by_label(_("Analysis: what happened, why, and what now")).fill(
        "## Läget\n\nFörvaltningen har kommit i gång med **alla** insatser.\n\n- Nästa steg: uppföljning i oktober"
    )
    reason = page.get_by_label(_("Why your assessment differs from the computed status"))
    reason.fill("Insatserna som beslutades i augusti syns inte i siffrorna ännu.")
    submit(page, page.get_by_role("button", name=_("Save the analysis")))
    expect(page.get_by_text(_("The analysis was saved."))).to_be_visible()
    assert Analysis.objects.filter(
        unit__code="VOF", period=report.period, body__contains="alla"
    ).exists()
    visit(page, f"/board-reports/{report.pk}/sections/{chapter.pk}/")
    submit(page, page.get_by_role("button", name=_("Mark as ready")))
    expect(page.get_by_text(_("The section is ready for approval."))).to_be_visible()

    # The office approves, finalises and downloads the PDF.
    log_in(page, "strategi")
    visit(page, f"/board-reports/{report.pk}/")
    approve = re.compile(re.escape(_("Approve")) + r"\W+" + re.escape(chapter.title))
    submit(page, page.get_by_role("button", name=approve))
    submit(page, page.get_by_role("button", name=_("Finalise the report")))
    expect(
        page.get_by_text(_("The report is finalised and archived as it stands."))
    ).to_be_visible()
    report.refresh_from_db()
    assert report.state == ReportState.FINALISED and report.snapshot
    submit(page, page.get_by_role("button", name="PDF"))
    expect(page.locator("progress")).to_be_visible()  # queued for the background worker
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)  # the worker
    expect(page.get_by_text(_("The document is ready."))).to_be_visible(timeout=30_000)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"\.pdf$")).click()
    content = Path(download_info.value.path()).read_bytes()
    assert content.startswith(b"%PDF")
    reader = PdfReader(BytesIO(content))
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    assert "Tertialrapport 2 2026" in text and "kommit i gång med alla insatser" in " ".join(
        text.split()
    )
    check_a11y(page)


def test_a_document_whose_worker_stopped_says_so_and_is_tried_again(page: Page) -> None:
    from pejling.reports.models import DocumentJob, JobStatus
    from pejling.reports.tasks import interrupt_document_job

    office = get_user_model().objects.get(username="strategi")
    job = DocumentJob.objects.create(
        kind="strategy",
        format="pdf",
        language="sv",
        params={"year": timezone.localdate().year},
        requested_by=office,
        status=JobStatus.RUNNING,
    )
    assert interrupt_document_job(job.pk)  # what the next worker's check does
    log_in(page, "strategi")
    visit(page, f"/board-reports/documents/{job.pk}/")
    expect(page.get_by_role("alert")).to_contain_text(
        _("The background worker stopped while building the document. Try again.")
    )
    check_a11y(page)
    submit(page, page.get_by_role("button", name=_("Try again")))
    expect(page.locator("progress")).to_be_visible()  # queued again for the worker
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    check_a11y(page)
