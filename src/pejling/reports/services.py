"""Writes for analyses and board reports. Keyword-only, permission-checked, in one
transaction, recorded in the change history; every state-dependent write locks its row
(``select_for_update``), checks state and version on the locked row and saves only the fields
it changes."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pejling.agreements.models import Initiative
from pejling.core.history import next_version, save_as
from pejling.followup.models import Deadline, DeadlineKind
from pejling.indicators.evaluation import Status
from pejling.organisation.models import Unit
from pejling.reports import workflow
from pejling.reports.models import (
    Analysis,
    Assessment,
    Report,
    ReportKind,
    ReportState,
    Section,
    SectionKind,
    SectionState,
)
from pejling.reports.permissions import can_manage_reports, can_write_analysis, can_write_section
from pejling.reports.selectors import goals_by_theme
from pejling.strategy.models import Element


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("You do not have permission to do this."))


# Analyses ------------------------------------------------------------------------------------


def assessment_differs(assessment: str, computed_status: str) -> bool:
    """Whether a writer's assessment departs from the computed status (then it needs a why).
    A goal without data or without a computed status never asks for one."""
    if not computed_status or computed_status == Status.NO_DATA:
        return False
    return assessment != computed_status


@transaction.atomic
def analysis_save(
    *,
    goal: Element,
    unit: Unit,
    period: Deadline,
    by: Any,
    body: str,
    assessment: str,
    deviation_reason: str = "",
    computed_status: str = "",
    initiative: Initiative | None = None,
    expected_version: int | None = None,
) -> Analysis:
    """Create or update ``unit``'s analysis of ``goal`` for ``period``. ``expected_version``:
    the version the writer loaded; if someone saved in between, ``ConcurrentEditError``."""
    _require(can_write_analysis(by, unit))
    errors: dict[str, list[str]] = {}
    if not goal.level.holds_goals:
        errors.setdefault("goal", []).append(_("Analyses are written for goals."))
    if period.kind != DeadlineKind.REPORT or not period.period:
        errors.setdefault("period", []).append(_("Choose a follow-up period."))
    if assessment not in Assessment.values:
        errors.setdefault("assessment", []).append(_("Choose an assessment."))
    deviation_reason = deviation_reason.strip()
    if assessment_differs(assessment, computed_status) and not deviation_reason:
        errors.setdefault("deviation_reason", []).append(
            _("Your assessment differs from the computed status: say why.")
        )
    if initiative is not None and not initiative.goals.filter(pk=goal.pk).exists():
        errors.setdefault("initiative", []).append(_("The initiative is not linked to the goal."))
    if errors:
        raise ValidationError(errors)
    analysis = (
        Analysis.objects.filter(goal=goal, unit=unit, period=period, initiative=initiative)
        .select_for_update()
        .first()
    )
    if analysis is None:
        analysis = Analysis(goal=goal, unit=unit, period=period, initiative=initiative)
        if expected_version is not None:
            # The writer loaded an analysis that existed: someone deleted it meanwhile.
            raise ValidationError(_("Someone else removed this analysis in the meantime."))
    next_version(analysis, expected_version)
    analysis.body = body
    analysis.assessment = assessment
    analysis.deviation_reason = deviation_reason
    analysis.computed_status = computed_status or ""
    analysis.updated_by = by
    analysis.full_clean(exclude=["goal", "unit", "period", "initiative"])
    try:
        with transaction.atomic():
            save_as(analysis, by)
    except IntegrityError as exc:
        # Two first saves at once: the other one's row now exists.
        raise ValidationError(
            _("Someone else wrote this analysis in the meantime. Open it again to see theirs.")
        ) from exc
    return analysis


# Reports -------------------------------------------------------------------------------------


def report_themes(period: Deadline) -> list[Element]:
    """The themes of a period's report: the top elements above the measured goals of the
    published strategies in force that year, in strategy order."""
    return [theme for _strategy, themes in goals_by_theme(period) for theme, _goals in themes]


def report_template(period: Deadline) -> list[dict[str, Any]]:
    """The chapters of a new report: introduction, each theme, compliance, initiatives at
    risk, the development portfolio, closing."""
    chapters: list[dict[str, Any]] = [
        {"kind": SectionKind.INTRODUCTION, "title": _("Introduction")}
    ]
    chapters += [
        {"kind": SectionKind.THEME, "title": theme.title, "theme": theme}
        for theme in report_themes(period)
    ]
    chapters += [
        {"kind": SectionKind.COMPLIANCE, "title": _("Compliance with the annual agreements")},
        {"kind": SectionKind.AT_RISK, "title": _("Initiatives at risk")},
        {"kind": SectionKind.PORTFOLIO, "title": _("Development portfolio")},
        {"kind": SectionKind.CLOSING, "title": _("Closing words")},
    ]
    return chapters


@transaction.atomic
def report_create(
    *,
    period: Deadline,
    by: Any,
    title: str,
    kind: str = ReportKind.INTERIM,
    copy_from: Report | None = None,
) -> Report:
    """A new report for ``period`` from the template, or as a copy of an earlier report
    (its chapters, texts and assignments; every section starts as a draft)."""
    _require(can_manage_reports(by))
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("Give the report a title.")})
    if period.kind != DeadlineKind.REPORT or not period.period:
        raise ValidationError({"period": _("Choose a follow-up period.")})
    report = Report(title=title, kind=kind, period=period, created_by=by, copied_from=copy_from)
    report.full_clean()
    save_as(report, by)
    if copy_from is not None:
        previous = list(copy_from.sections.order_by("position", "pk"))
        themes = {t.pk for t in report_themes(period)}
        for position, old in enumerate(previous):
            if old.kind == SectionKind.THEME and old.theme_id not in themes:
                continue
            save_as(
                Section(
                    report=report,
                    position=position,
                    kind=old.kind,
                    title=old.title,
                    theme_id=old.theme_id,
                    body=old.body,
                    unit_id=old.unit_id,
                    assignee_id=old.assignee_id,
                ),
                by,
            )
    else:
        for position, chapter in enumerate(report_template(period)):
            save_as(Section(report=report, position=position, **chapter), by)
    return report


def _locked_section(section: Section) -> Section:
    locked = Section.objects.select_for_update().select_related("report").get(pk=section.pk)
    report_state = (
        Report.objects.select_for_update()
        .filter(pk=locked.report_id)
        .values_list("state", flat=True)
    ).get()
    locked.report.state = report_state
    return locked


def _require_open(section: Section) -> None:
    if section.report.state != ReportState.OPEN:
        raise ValidationError(_("The report is finalised: nothing in it can change."))


@transaction.atomic
def section_update(
    *, section: Section, by: Any, body: str, expected_version: int | None = None
) -> Section:
    """Change a draft section's text."""
    _require(can_write_section(by, section))
    locked = _locked_section(section)
    _require_open(locked)
    if locked.state != SectionState.DRAFT:
        raise ValidationError(
            _("The section is %(state)s: reopen it as a draft to change it.")
            % {"state": locked.get_state_display().lower()}
        )
    next_version(locked, expected_version)
    locked.body = body
    locked.full_clean(exclude=["report", "theme", "unit", "assignee"])
    save_as(locked, by, update_fields=["body", "version"])
    return locked


@transaction.atomic
def section_assign(
    *,
    section: Section,
    by: Any,
    unit: Unit | None,
    assignee: Any,
    due_date: date | None,
    expected_version: int | None = None,
) -> Section:
    """Assign a section to a unit and a person, with a deadline (the office only)."""
    _require(can_manage_reports(by))
    locked = _locked_section(section)
    _require_open(locked)
    next_version(locked, expected_version)
    locked.unit = unit
    locked.assignee = assignee
    locked.due_date = due_date
    save_as(locked, by, update_fields=["unit", "assignee", "due_date", "version"])
    return locked


@transaction.atomic
def section_step(*, section: Section, step: str, by: Any) -> Section:
    """Take a workflow step (``workflow.STEPS``) on the locked section; a step that is no
    longer available (someone else moved the section on) is refused with a message."""
    locked = _locked_section(section)
    _require_open(locked)
    wanted = workflow.STEPS.get(step)
    if wanted is None:
        raise ValidationError(_("Unknown step."))
    if wanted not in workflow.available_steps(by, locked):
        if wanted.allowed(by, locked):
            raise ValidationError(
                _("The section is %(state)s now: someone else changed it. Look again.")
                % {"state": locked.get_state_display().lower()}
            )
        _require(False)
    locked.state = wanted.to_state
    locked.version += 1
    save_as(locked, by, reason=step, update_fields=["state", "version"])
    return locked


@transaction.atomic
def report_finalise(
    *, report: Report, by: Any, language: str, expected_version: int | None = None
) -> Report:
    """Lock the report when every section is approved: its content is frozen as it stands
    now (figures, statuses, analyses, charts) and never changes again."""
    from pejling.reports.documents.builders import build_report_document

    _require(can_manage_reports(by))
    locked = Report.objects.select_for_update().get(pk=report.pk)
    sections = list(locked.sections.select_for_update().order_by("position", "pk"))
    if locked.state != ReportState.OPEN:
        raise ValidationError(_("The report is already finalised."))
    if expected_version is not None and locked.version != expected_version:
        raise ValidationError(_("Someone else changed the report in the meantime. Look again."))
    if not workflow.can_finalise(by, locked, sections):
        raise ValidationError(_("Every section must be approved before the report is finalised."))
    now = timezone.now()
    locked.state = ReportState.FINALISED
    locked.finalised_at = now
    locked.finalised_by = by
    document = build_report_document(report=locked, user=None, language=language, frozen_at=now)
    locked.snapshot = document.to_json()
    locked.version += 1
    save_as(
        locked,
        by,
        reason="finalised",
        update_fields=["state", "finalised_at", "finalised_by", "snapshot", "version"],
    )
    return locked
