"""The one entry point for documents: which builder for which kind, which renderer for which
format. The web (through the background task) and ``pejling report`` both call
``build_document`` and ``render``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from pejling.followup.models import Deadline
from pejling.organisation.models import Unit
from pejling.reports.documents import builders
from pejling.reports.documents.model import Document
from pejling.reports.models import DocumentFormat, DocumentKind, Report

CONTENT_TYPES = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
LANGUAGES = ("sv", "da", "nb", "en")


def _period(year: int | None, period: str | None) -> Deadline:
    from pejling.reports.selectors import report_periods

    periods = report_periods(year)
    if period:
        periods = periods.filter(period__iexact=period)
    found = periods.order_by("-year", "-due_date").first()
    if found is None:
        raise ValidationError(
            _("There is no follow-up period %(period)s in %(year)s.")
            % {"period": period or "", "year": year or ""}
        )
    return found


def _unit(code: str | None) -> Unit | None:
    if not code:
        return None
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise ValidationError(_("There is no unit with the code %(code)s.") % {"code": code})
    return unit


def build_document(
    *,
    kind: str,
    user: Any,
    language: str,
    unit: str | None = None,
    year: int | None = None,
    period: str | None = None,
    report_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Document:
    """Gather a document's content as ``user`` may read it (None: the public view)."""
    progress = progress or (lambda done, total: None)
    if language not in LANGUAGES:
        raise ValidationError(_("Choose one of the languages sv, da, nb or en."))
    if kind == DocumentKind.AGREEMENT:
        where = _unit(unit)
        if where is None or year is None:
            raise ValidationError(_("An annual agreement needs a unit and a year."))
        return builders.build_agreement_document(
            user=user, language=language, unit=where, year=year, progress=progress
        )
    if kind == DocumentKind.FOLLOWUP:
        return builders.build_followup_document(
            user=user,
            language=language,
            period=_period(year, period),
            unit=_unit(unit),
            progress=progress,
        )
    if kind == DocumentKind.STRATEGY:
        return builders.build_strategy_document(
            user=user, language=language, year=year, progress=progress
        )
    if kind == DocumentKind.REPORT:
        report = _report(report_id, year, period)
        return builders.build_report_document(
            report=report, user=user, language=language, progress=progress
        )
    raise ValidationError(_("Unknown kind of document: %(kind)s.") % {"kind": kind})


def _report(report_id: int | None, year: int | None, period: str | None) -> Report:
    qs = Report.objects.select_related("period")
    if report_id is not None:
        found = qs.filter(pk=report_id).first()
    else:
        chosen = _period(year, period)
        found = qs.filter(period=chosen).order_by("-created_at").first()
    if found is None:
        raise ValidationError(_("There is no such board report."))
    return found


def render(doc: Document, fmt: str) -> bytes:
    if fmt == DocumentFormat.PDF:
        from pejling.reports.documents.pdf import render_pdf

        return render_pdf(doc)
    if fmt == DocumentFormat.DOCX:
        from pejling.reports.documents.word import render_docx

        return render_docx(doc)
    if fmt == DocumentFormat.XLSX:
        from pejling.reports.documents.excel import render_xlsx

        return render_xlsx(doc)
    raise ValidationError(_("Choose one of the formats pdf, docx or xlsx."))


def filename(doc: Document, fmt: str) -> str:
    return f"{doc.filename_stem}-{doc.language}.{fmt}"
