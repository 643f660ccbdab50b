"""Documents in one click: the request is queued for the background worker, the page shows
its progress (htmx polling the same URL), then offers the file."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from pejling.core.http import HtmxHttpRequest
from pejling.reports.documents.generate import CONTENT_TYPES
from pejling.reports.forms import DocumentForm
from pejling.reports.models import DocumentFormat, DocumentJob, DocumentKind, JobStatus, Report
from pejling.reports.permissions import can_read_report
from pejling.reports.selectors import report_periods, reports_visible
from pejling.reports.tasks import build_document_job, retry_document_job


def document_list(request: HttpRequest) -> HttpResponse:
    form = DocumentForm(initial={"language": get_language(), "format": "pdf"})
    return render(
        request,
        "reports/document_list.html",
        {
            "form": form,
            "periods": list(report_periods()),
            "reports": reports_visible(request.user),
            "jobs": list(
                DocumentJob.objects.filter(requested_by_id=request.user.pk).defer("content")[:10]
            ),
        },
    )


@require_POST
def document_create(request: HttpRequest) -> HttpResponse:
    form = DocumentForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "reports/document_list.html",
            {
                "form": form,
                "periods": list(report_periods()),
                "reports": reports_visible(request.user),
                "jobs": [],
            },
            status=400,
        )
    data = form.cleaned_data
    if data["kind"] == DocumentKind.REPORT and data["report"]:
        report = get_object_or_404(Report, pk=data["report"])
        if not can_read_report(request.user, report):
            raise Http404
    job = DocumentJob.objects.create(
        kind=data["kind"],
        format=data["format"],
        language=data["language"],
        params={
            "unit": data["unit"] or None,
            "year": data["year"],
            "period": data["period"] or None,
            "report": data["report"],
        },
        requested_by=request.user,  # type: ignore[misc]  # signed in: a User
    )
    transaction.on_commit(lambda: build_document_job.enqueue(job.pk))
    return redirect("board_reports:document_detail", pk=job.pk)


def _job(request: HttpRequest, pk: int) -> DocumentJob:
    return get_object_or_404(
        DocumentJob.objects.defer("content"), pk=pk, requested_by_id=request.user.pk
    )


def document_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    context = {"job": job, "running": job.status in (JobStatus.QUEUED, JobStatus.RUNNING)}
    if request.htmx:
        return render(request, "reports/document_detail.html#status", context)
    return render(request, "reports/document_detail.html", context)


@require_POST
def document_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Try a failed document again (once, however often this is posted)."""
    job = _job(request, pk)
    retry_document_job(job.pk, user_id=request.user.pk)  # type: ignore[arg-type]
    return redirect("board_reports:document_detail", pk=job.pk)


def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(DocumentJob, pk=pk, requested_by_id=request.user.pk)
    if job.status != JobStatus.DONE or job.content is None:
        return redirect("board_reports:document_detail", pk=pk)
    response = HttpResponse(
        bytes(job.content), content_type=CONTENT_TYPES[DocumentFormat(job.format)]
    )
    response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    return response
