"""Each kind of document built from the demo and read back: PDF text, tags, language, title
and bookmarks (pypdf, pdftotext); Word headings, tables and alt texts (python-docx); Excel
cells and their types (openpyxl). And what a reader may not read stays out."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse
from pypdf import PdfReader

from pejling.agreements.models import Agreement, AgreementState
from pejling.reports.documents.generate import build_document, render
from pejling.reports.documents.model import format_number
from pejling.reports.models import DocumentJob, JobStatus, Report, ReportState
from pejling.strategy.models import Strategy
from tests.demo_snapshot import demo_restored

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(scope="module")
def demo(demo_snapshot: str, django_db_blocker: Any) -> Iterator[None]:
    """The rows ``pejling demo`` wrote (once for this test process, see tests/conftest.py)."""
    with django_db_blocker.unblock(), demo_restored():
        yield


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(content)).pages)


def test_numbers_and_dates_are_in_the_documents_language():
    assert format_number(64.5, "sv") == "64,5"
    assert format_number(1800, "sv") == "1\xa0800"
    assert format_number(1800, "en") == "1,800"
    assert format_number(64.5, "da") == "64,5"


def test_the_followup_pdf_is_tagged_titled_in_swedish_with_bookmarks(demo):
    doc = build_document(kind="followup", user=None, language="sv", year=2026, period="T1")
    content = render(doc, "pdf")
    reader = PdfReader(BytesIO(content))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "sv"
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root
    assert reader.metadata.title.startswith("Uppföljning T1 2026")
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Sammanfattning" in outline and any("Koncernstrategi" in t for t in outline)
    text = _pdf_text(content)
    assert "Uppföljning T1 2026" in text and "beräknad status" in text.lower()
    assert "Bilaga: uppgifterna bakom diagrammen" in text
    assert "13,5" in text  # a target in Swedish notation
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo:
        info = subprocess.run(  # noqa: S603 (our own bytes into pdfinfo)
            [pdfinfo, "-"], input=content, capture_output=True, check=True
        )
        assert b"Tagged:          yes" in info.stdout


def test_the_agreement_document_in_three_formats(demo):
    agreement = (
        Agreement.objects.filter(year=2026, state=AgreementState.PUBLISHED)
        .select_related("unit")
        .first()
    )
    doc = build_document(
        kind="agreement", user=None, language="sv", unit=agreement.unit.code, year=2026
    )
    titles = [i.title for i in agreement.initiatives.all()]
    pdf_text = " ".join(_pdf_text(render(doc, "pdf")).split())
    assert titles and all(t in pdf_text for t in titles)
    word = docx.Document(BytesIO(render(doc, "docx")))
    headings = [
        (p.style.name, p.text) for p in word.paragraphs if p.style.name.startswith("Heading")
    ]
    assert ("Heading 1", "Insatser") in headings
    assert any(h == ("Heading 2", titles[0]) for h in headings)
    table = word.tables[0]
    assert table.rows[0].cells[0].text == "Insats" and len(table.rows) == len(titles) + 1
    assert word.core_properties.language == "sv-SE"
    assert word.core_properties.title == doc.title
    book = openpyxl.load_workbook(BytesIO(render(doc, "xlsx")))
    sheet = book["Insatser"]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].value == "Insats"
    starts = [row[2].value for row in sheet.iter_rows(min_row=2)]
    assert any(isinstance(v, datetime | date) for v in starts)


def test_the_followup_in_word_has_heading_styles_a_toc_field_and_charts_with_alt_text(demo):
    doc = build_document(kind="followup", user=None, language="nb", year=2026, period="T1")
    word = docx.Document(BytesIO(render(doc, "docx")))
    styles = {p.style.name for p in word.paragraphs}
    assert {"Heading 1", "Heading 2", "Heading 3"} <= styles
    xml = word.element.xml
    assert 'TOC \\o "1-2"' in xml
    pictures = word.inline_shapes
    assert len(pictures) == len(doc.figures) >= 1
    for shape in pictures:
        assert shape._inline.docPr.get("descr")
    assert len(word.tables) >= len(doc.figures)


def test_the_followup_in_excel_has_numbers_as_numbers(demo):
    doc = build_document(kind="followup", user=None, language="da", year=2026, period="T1")
    book = openpyxl.load_workbook(BytesIO(render(doc, "xlsx")))
    assert len(book.sheetnames) == 1 + len(doc.tables) + len(doc.figures)
    summary = book[book.sheetnames[1]]
    counts = [row[1].value for row in summary.iter_rows(min_row=2)]
    assert all(isinstance(n, int) for n in counts) and sum(counts) > 0
    chart_data = book["A1"]
    assert chart_data.freeze_panes == "A2"
    assert all(isinstance(row[1].value, float | int) for row in chart_data.iter_rows(min_row=2))


def test_the_strategy_document_runs_from_the_narrative_to_the_goals(demo):
    doc = build_document(kind="strategy", user=None, language="sv", year=2026)
    headings = [b.text for b in doc.blocks if b.kind == "heading" and b.level == 1]
    narrative = Strategy.objects.get(code="framtidsbild-2031")
    assert headings[0] == narrative.title  # the top of the cascade comes first
    assert [h for h in headings if h.startswith("Koncernstrategi")]
    text = _pdf_text(render(doc, "pdf"))
    assert "Koncernstrategi" in text


def test_the_finalised_demo_report_is_frozen_and_the_one_in_progress_is_not(demo):
    finalised = Report.objects.get(title="Tertialrapport 1 2026")
    assert finalised.state == ReportState.FINALISED and finalised.snapshot
    doc = build_document(kind="report", user=None, language="sv", report_id=finalised.pk)
    assert doc.frozen_at is not None and doc.to_json() == finalised.snapshot
    text = _pdf_text(render(doc, "pdf"))
    assert "Tertialrapport 1 2026" in text and "fastställd" in text.lower()
    assert "Vad gör vi nu?" in text  # the analyses made it in
    running = Report.objects.get(title="Tertialrapport 2 2026")
    assert running.state == ReportState.OPEN
    office = get_user_model().objects.get(username="strategi")
    live = build_document(kind="report", user=office, language="sv", report_id=running.pk)
    assert live.frozen_at is None


def test_drafts_of_others_stay_out_of_a_readers_document(demo):
    draft = (
        Agreement.objects.filter(year=2026, state=AgreementState.DRAFT)
        .select_related("unit")
        .first()
    )
    if draft is None:
        pytest.skip("the demo has no draft agreement")
    employee = get_user_model().objects.get(username="medarbetare")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        build_document(
            kind="agreement", user=employee, language="sv", unit=draft.unit.code, year=2026
        )
    running = Report.objects.get(title="Tertialrapport 2 2026")
    with pytest.raises(PermissionDenied):
        build_document(kind="report", user=employee, language="sv", report_id=running.pk)


def test_the_report_command_writes_each_format(demo, tmp_path: Path):
    for fmt in ("pdf", "docx", "xlsx"):
        out = tmp_path / f"followup.{fmt}"
        call_command(
            "report",
            "followup",
            "--year",
            "2026",
            "--period",
            "T2",
            "--language",
            "en",
            "--format",
            fmt,
            "--output",
            str(out),
            verbosity=0,
        )
        assert out.stat().st_size > 1000
    assert _pdf_text((tmp_path / "followup.pdf").read_bytes()).count("Follow-up T2 2026") >= 1
    with pytest.raises(CommandError, match="NOPE"):
        call_command(
            "report",
            "agreement",
            "--unit",
            "NOPE",
            "--year",
            "2026",
            "--format",
            "pdf",
            "--output",
            str(tmp_path / "x.pdf"),
            verbosity=0,
        )


def test_one_click_queues_the_document_and_offers_it_for_download(
    demo, client, django_capture_on_commit_callbacks
):
    office = get_user_model().objects.get(username="strategi")
    client.force_login(office)
    report = Report.objects.get(title="Tertialrapport 1 2026")
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("board_reports:document_create"),
            {"kind": "report", "report": report.pk, "format": "xlsx", "language": "sv"},
        )
    job = DocumentJob.objects.get(requested_by=office)
    assert response.status_code == 302 and job.status == JobStatus.DONE and job.progress == 100
    download = client.get(reverse("board_reports:document_download", args=[job.pk]))
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert openpyxl.load_workbook(BytesIO(download.content)).sheetnames[0] == "Om"
    other = get_user_model().objects.get(username="medarbetare")
    client.force_login(other)
    assert client.get(reverse("board_reports:document_download", args=[job.pk])).status_code == 404
