"""Board reports: the list, creating a report, its page with progress, sections (text,
assignment, workflow steps) and finalising. Views parse, check, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pejling.core.forms import add_validation_error
from pejling.core.history import ConcurrentEditError, entries_for
from pejling.reports import services, workflow
from pejling.reports.documents.builders import section_visible
from pejling.reports.forms import AssignForm, DocumentForm, ReportCreateForm, SectionForm
from pejling.reports.markdown import render_markdown
from pejling.reports.models import Report, Section, SectionKind
from pejling.reports.permissions import can_manage_reports, can_read_report, can_write_section
from pejling.reports.selectors import (
    analyses_for_unit,
    goals_by_theme,
    report_progress,
    report_sections,
    reports_visible,
)


def _report(request: HttpRequest, pk: int) -> Report:
    report = get_object_or_404(Report.objects.select_related("period", "finalised_by"), pk=pk)
    if not can_read_report(request.user, report):
        raise Http404
    return report


def _section(request: HttpRequest, pk: int, section_pk: int) -> Section:
    report = _report(request, pk)
    section = get_object_or_404(
        Section.objects.select_related("unit", "assignee", "theme"), report=report, pk=section_pk
    )
    section.report = report
    return section


def report_list(request: HttpRequest) -> HttpResponse:
    reports = reports_visible(request.user)
    return render(
        request,
        "reports/report_list.html",
        {
            "reports": reports,
            "can_manage": can_manage_reports(request.user),
            "form": ReportCreateForm() if can_manage_reports(request.user) else None,
        },
    )


def report_create(request: HttpRequest) -> HttpResponse:
    if not can_manage_reports(request.user):
        raise PermissionDenied
    form = ReportCreateForm(
        request.POST or None, initial={"copy_from": request.GET.get("copy_from")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = services.report_create(
                period=data["period"],
                by=request.user,
                title=data["title"],
                kind=data["kind"],
                copy_from=data["copy_from"],
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The report was created."))
            return redirect(report)
    return render(request, "reports/report_form.html", {"form": form})


def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    sections = report_sections(report)
    for s in sections:
        s.report = report
    today = timezone.localdate()
    rows = [
        {
            "section": s,
            "late": s.is_late(today),
            "steps": workflow.available_steps(request.user, s),
            "can_open": section_visible(request.user, s) or can_manage_reports(request.user),
        }
        for s in sections
    ]
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "rows": rows,
            "progress": report_progress(sections, today),
            "can_manage": can_manage_reports(request.user),
            "can_finalise": workflow.can_finalise(request.user, report, sections),
            "history": entries_for(list(report.history.select_related("history_user")[:20])),
            "document_form": DocumentForm(
                initial={"kind": "report", "report": report.pk, "language": get_language()}
            ),
            "formats": [("pdf", "PDF"), ("docx", "Word"), ("xlsx", "Excel")],
        },
    )


def section_detail(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    section = _section(request, pk, section_pk)
    if not (section_visible(request.user, section) or can_manage_reports(request.user)):
        raise Http404
    may_write = can_write_section(request.user, section) and workflow.section_is_editable(section)
    form = SectionForm(
        request.POST or None, initial={"body": section.body}, version=section.version
    )
    if request.method == "POST":
        done = _save_section(request, section, form, may_write=may_write)
        if done is not None:
            return done
    assign_form = None
    if can_manage_reports(request.user) and not section.report.is_finalised:
        assign_form = AssignForm(
            initial={
                "unit": section.unit_id,
                "assignee": section.assignee_id,
                "due_date": section.due_date,
            },
            version=section.version,
        )
    return render(
        request,
        "reports/section_detail.html",
        {
            "report": section.report,
            "section": section,
            "form": form if may_write else None,
            "assign_form": assign_form,
            "body_html": render_markdown(section.body),
            "steps": workflow.available_steps(request.user, section),
            "goals": _theme_goals(section),
            "history": entries_for(list(section.history.select_related("history_user")[:20])),
        },
    )


def _save_section(
    request: HttpRequest, section: Section, form: SectionForm, *, may_write: bool
) -> HttpResponse | None:
    """Save a chapter's text; None when the form is shown again (invalid or a conflict)."""
    back = redirect("board_reports:section_detail", pk=section.report_id, section_pk=section.pk)
    if not may_write:
        if not can_write_section(request.user, section):
            raise PermissionDenied
        messages.error(request, _("The section can no longer be changed: it is not a draft."))
        return back
    if not form.is_valid():
        return None
    try:
        services.section_update(
            section=section,
            by=request.user,
            body=form.cleaned_data["body"],
            expected_version=form.loaded_version(),
        )
    except ConcurrentEditError as exc:
        add_validation_error(form, exc)
        form.show_current_version(exc.current_version)
        return None
    except ValidationError as exc:
        add_validation_error(form, exc)
        return None
    messages.success(request, _("The section was saved."))
    return back


def _theme_goals(section: Section) -> list[dict[str, Any]]:
    """A theme chapter's goals with the responsible unit's analysis of each."""
    if section.kind != SectionKind.THEME or not section.theme_id:
        return []
    analyses = analyses_for_unit(section.unit, section.report.period) if section.unit else {}
    for _strategy, themes in goals_by_theme(section.report.period):
        for theme, goals in themes:
            if theme.pk == section.theme_id:
                return [{"goal": g, "analysis": analyses.get(g.pk)} for g in goals]
    return []


@require_POST
def section_assign(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    section = _section(request, pk, section_pk)
    if not can_manage_reports(request.user):
        raise PermissionDenied
    form = AssignForm(request.POST)
    if form.is_valid():
        try:
            services.section_assign(
                section=section,
                by=request.user,
                unit=form.cleaned_data["unit"],
                assignee=form.cleaned_data["assignee"],
                due_date=form.cleaned_data["due_date"],
                expected_version=form.loaded_version(),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The section was assigned."))
    else:
        messages.error(
            request, _("Check the assignment: %(errors)s") % {"errors": form.errors.as_text()}
        )
    return redirect("board_reports:section_detail", pk=pk, section_pk=section.pk)


@require_POST
def section_step(request: HttpRequest, pk: int, section_pk: int, step: str) -> HttpResponse:
    section = _section(request, pk, section_pk)
    wanted = workflow.STEPS.get(step)
    if wanted is None:
        raise Http404
    if not wanted.allowed(request.user, section):
        raise PermissionDenied
    try:
        services.section_step(section=section, step=step, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, str(wanted.done_message))
    if request.POST.get("back") == "section":
        return redirect("board_reports:section_detail", pk=pk, section_pk=section.pk)
    return redirect("board_reports:report_detail", pk=pk)


@require_POST
def report_finalise(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    if not can_manage_reports(request.user):
        raise PermissionDenied
    try:
        services.report_finalise(
            report=report,
            by=request.user,
            language=get_language() or "sv",
            expected_version=_int(request.POST.get("version")),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The report is finalised and archived as it stands."))
    return redirect("board_reports:report_detail", pk=pk)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
