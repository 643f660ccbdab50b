"""Builders: gather a document's content once, as the reader may read it.

``user=None`` is the public view: published strategies, published agreements, and analyses
only where an approved chapter of a report publishes them. A signed-in reader sees, besides,
what they may read elsewhere (``organisation.permissions``, ``agreements.selectors``,
``reports.permissions``): never a draft of someone else's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pejling.agreements.models import Agreement
from pejling.agreements.selectors import readable_agreement
from pejling.followup.models import Deadline, ReportStatus, StatusReport
from pejling.followup.selectors import Cell, compliance_matrix
from pejling.indicators.charts import goal_chart
from pejling.indicators.evaluation import Evaluation, Status, status_label
from pejling.organisation.models import Unit, UnitLevel
from pejling.organisation.selectors import unit_ancestors
from pejling.reports.documents.model import (
    Document,
    Facts,
    Figure,
    Heading,
    Markdown,
    PageBreak,
    Paragraph,
    Table,
    Value,
    format_date,
)
from pejling.reports.models import Analysis, Report, Section, SectionKind, SectionState
from pejling.reports.permissions import can_read_analysis, can_read_report, can_write_section
from pejling.reports.selectors import goals_by_theme, period_evaluations
from pejling.strategy.models import AgreementRule, Element, Strategy, StrategyStatus
from pejling.strategy.selectors import element_tree, readable_strategies

Progress = Callable[[int, int], None]


def _noop(done: int, total: int) -> None:
    return None


def organisation_name() -> str:
    if settings.PEJLING_ORGANISATION_NAME:
        return str(settings.PEJLING_ORGANISATION_NAME)
    root = Unit.objects.filter(depth=1).order_by("path").first()
    return root.name if root else "Pejling"


def _new(kind: str, title: str, subtitle: str, language: str, stem: str) -> Document:
    return Document(
        kind=kind,
        title=title,
        subtitle=subtitle,
        language=language,
        organisation=organisation_name(),
        generated_at=timezone.now(),
        filename_stem=stem,
    )


def _reader(user: Any) -> Any:
    return user if user is not None else AnonymousUser()


# Goals: figures, chart and analysis ------------------------------------------------------------


def _measure_label(goal: Element, evaluation: Evaluation) -> str:
    if evaluation.indicator is not None:
        return str(evaluation.indicator.get_measure_unit_display())
    if evaluation.kind == "coverage":
        return "%"
    return goal.measure_unit


def _goal_blocks(
    doc: Document,
    goal: Element,
    evaluation: Evaluation | None,
    analysis: Analysis | None,
) -> None:
    doc.add(Heading(3, f"{goal.code} {goal.title}"))
    if evaluation is None:
        doc.add(Paragraph(_("The goal is not measured."), "note"))
    else:
        unit_label = _measure_label(goal, evaluation)
        items: list[tuple[str, Any]] = [
            (_("Computed status"), evaluation.status_label),
        ]
        if evaluation.value is not None:
            items.append((_("Value"), _with_unit(evaluation.value, unit_label)))
        if evaluation.latest_period:
            items.append((_("Latest period"), evaluation.latest_period))
        if evaluation.baseline is not None:
            items.append((_("Baseline"), _with_unit(evaluation.baseline, unit_label)))
        if evaluation.target is not None:
            items.append((_("Target"), _with_unit(evaluation.target, unit_label)))
        elif goal.target_text:
            items.append((_("Target"), goal.target_text))
        doc.add(Facts(items, evaluation.status, evaluation.status_label))
        if evaluation.reason:
            doc.add(Paragraph(evaluation.reason, "note"))
        if evaluation.points and evaluation.indicator is not None:
            chart = goal_chart(
                evaluation=evaluation,
                title=goal.title,
                description=evaluation.reason,
                unit_label=unit_label,
            )
            doc.add(
                Figure(
                    number=doc.next_figure_number(),
                    title=goal.title,
                    description=evaluation.reason or goal.title,
                    spec=chart.spec,
                    rows=[(p.period, float(p.value)) for p in evaluation.points],
                    value_label=unit_label,
                )
            )
    if analysis is not None:
        label = analysis.get_assessment_display()
        doc.add(Heading(4, _("Analysis")))
        doc.add(Facts([(_("Assessment"), label)], analysis.assessment, str(label)))
        if analysis.deviation_reason:
            doc.add(
                Paragraph(
                    _("Why the assessment differs from the computed status: %(why)s")
                    % {"why": analysis.deviation_reason},
                    "note",
                )
            )
        if analysis.body.strip():
            doc.add(Markdown(analysis.body))
        doc.add(
            Paragraph(
                _("Written by %(unit)s.") % {"unit": analysis.unit.name},
                "note",
            )
        )


def _with_unit(value: float, unit_label: str) -> Any:
    # Kept as a number when there is no unit, so Excel gets a number.
    if not unit_label:
        return value
    from pejling.reports.documents.model import format_number

    return f"{format_number(value, translation.get_language() or 'en')} {unit_label}"


def _analyses(period: Deadline, unit: Unit) -> dict[int, Analysis]:
    return {
        a.goal_id: a
        for a in Analysis.objects.filter(
            period=period, unit=unit, initiative__isnull=True
        ).select_related("unit")
    }


def _summary_table(evaluations: list[Evaluation]) -> Table:
    counts = Counter(e.status for e in evaluations)
    order = [Status.ACHIEVED, Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK, Status.NO_DATA]
    return Table(
        _("Goals by computed status"),
        [_("Status"), _("Goals")],
        [[str(status_label(s)), counts.get(s, 0)] for s in order],
        sheet=_("Summary"),
    )


CELL_LABELS = {
    Cell.COVERED: gettext_lazy("Covered"),
    Cell.JUSTIFIED: gettext_lazy("Justified"),
    Cell.MISSING: gettext_lazy("Missing"),
    Cell.DRAFT: gettext_lazy("Draft"),
    Cell.NO_AGREEMENT: gettext_lazy("No agreement"),
}


def _compliance_blocks(doc: Document, year: int, within: Unit | None) -> None:
    strategies = Strategy.objects.filter(
        status=StrategyStatus.PUBLISHED, start_year__lte=year, end_year__gte=year
    ).order_by("position", "title")
    shown = False
    for strategy in strategies:
        rule = (
            AgreementRule.objects.filter(strategy=strategy, active=True, unit_level__isnull=False)
            .select_related("unit_level")
            .first()
        )
        if rule is None:
            continue
        level: UnitLevel | None = rule.unit_level
        matrix = compliance_matrix(year=year, strategy=strategy, level=level, within=within)
        if not matrix.rows:
            continue
        shown = True
        labels = {k: str(v) for k, v in CELL_LABELS.items()}
        doc.add(
            Paragraph(
                _(
                    "%(strategy)s: %(complete)s of %(total)s %(level)s have an initiative under every theme."
                )
                % {
                    "strategy": strategy.title,
                    "complete": matrix.complete_count,
                    "total": len(matrix.rows),
                    "level": (level.name_plural if level else "").lower(),
                }
            ),
            Table(
                _("Compliance: %(strategy)s") % {"strategy": strategy.title},
                [str(level.name if level else _("Unit")), *[c.title for c in matrix.columns]],
                [[row.unit.name, *[labels[c] for c in row.cells]] for row in matrix.rows],
                sheet=_("Compliance"),
            ),
        )
    if not shown:
        doc.add(
            Paragraph(_("No strategy in force has a rule on what the agreements cover."), "note")
        )


def _at_risk_blocks(doc: Document, user: Any, period: Deadline, within: Unit | None) -> None:
    reports = (
        StatusReport.objects.filter(
            deadline=period, status__in=[ReportStatus.AT_RISK, ReportStatus.OFF_TRACK]
        )
        .select_related("initiative__agreement__unit")
        .order_by("initiative__agreement__unit__path", "initiative__position", "initiative__pk")
    )
    if within is not None:
        reports = reports.filter(initiative__agreement__unit__path__startswith=within.path)
    reader = _reader(user)
    readable: dict[int, bool] = {}
    rows: list[list[Value]] = []
    for report in reports:
        agreement: Agreement = report.initiative.agreement
        if agreement.pk not in readable:
            view = readable_agreement(reader, agreement)
            readable[agreement.pk] = view is not None and view.live
        if not readable[agreement.pk]:
            continue  # a draft or a revision the reader may not see
        rows.append(
            [
                agreement.unit.name,
                report.initiative.title,
                str(report.get_status_display()),
                report.comment,
            ]
        )
    if rows:
        doc.add(
            Table(
                _("Initiatives at risk or off track, %(period)s") % {"period": period.period},
                [_("Unit"), _("Initiative"), _("Status"), _("Comment")],
                rows,
                sheet=_("At risk"),
            )
        )
    else:
        doc.add(Paragraph(_("No initiative is reported at risk or off track."), "note"))


# Follow-up ----------------------------------------------------------------------------------


def build_followup_document(
    *,
    user: Any,
    language: str,
    period: Deadline,
    unit: Unit | None = None,
    progress: Progress = _noop,
) -> Document:
    """The period's follow-up for the whole organisation or one unit: goals with status,
    value, chart and analysis, compliance, initiatives at risk."""
    with translation.override(language):
        where = unit.name if unit is not None else organisation_name()
        doc = _new(
            "followup",
            _("Follow-up %(period)s %(year)s") % {"period": period.period, "year": period.year},
            where,
            language,
            f"followup-{period.year}-{period.period}".lower(),
        )
        evaluations = period_evaluations(period)
        writer = unit or Unit.objects.filter(depth=1).order_by("path").first()
        analyses = _analyses(period, writer) if writer is not None else {}
        reader = _reader(user)
        if writer is not None and not can_read_analysis(reader, writer):
            analyses = {}
        doc.add(Heading(1, _("Summary")))
        doc.add(
            Paragraph(
                _("Figures as on %(date)s, for the follow-up period %(period)s.")
                % {
                    "date": format_date(min(timezone.localdate(), period.due_date), language),
                    "period": period.period,
                },
                "lead",
            )
        )
        doc.add(_summary_table(list(evaluations.values())))
        groups = goals_by_theme(period)
        total = sum(len(g) for _s, themes in groups for _t, g in themes) + 2
        done = 0
        for strategy, themes in groups:
            doc.add(PageBreak(), Heading(1, strategy.title))
            for theme, goals in themes:
                doc.add(Heading(2, theme.title))
                for goal in goals:
                    _goal_blocks(doc, goal, evaluations.get(goal.pk), analyses.get(goal.pk))
                    done += 1
                    progress(done, total)
        doc.add(PageBreak(), Heading(1, _("Compliance with the annual agreements")))
        _compliance_blocks(doc, period.year, unit)
        progress(done + 1, total)
        doc.add(Heading(1, _("Initiatives at risk")))
        _at_risk_blocks(doc, user, period, unit)
        progress(total, total)
    return doc


# Annual agreement ---------------------------------------------------------------------------


def build_agreement_document(
    *, user: Any, language: str, unit: Unit, year: int, progress: Progress = _noop
) -> Document:
    """A unit's annual agreement for signing and publishing (the version the reader may read)."""
    agreement = Agreement.objects.filter(unit=unit, year=year).select_related("unit").first()
    view = readable_agreement(_reader(user), agreement) if agreement is not None else None
    if view is None:
        raise PermissionDenied(
            _("There is no annual agreement you may read for this unit and year.")
        )
    with translation.override(language):
        doc = _new(
            "agreement",
            _("Annual agreement %(year)s") % {"year": year},
            unit.name,
            language,
            f"agreement-{unit.code}-{year}".lower(),
        )
        state = (
            view.version.get_state_display() if view.version else view.agreement.get_state_display()
        )
        facts: list[tuple[str, Any]] = [
            (_("Unit"), unit.name),
            (_("Year"), str(year)),
            (_("State"), str(state)),
        ]
        if view.version is not None:
            facts.append((_("Version"), view.version.number))
        if view.agreement.agreed_at:
            facts.append((_("Agreed"), view.agreement.agreed_at.date()))
        doc.add(Heading(1, _("The agreement")), Facts(facts))
        if view.summary:
            doc.add(Markdown(view.summary))
        doc.add(Heading(1, _("Initiatives")))
        doc.add(
            Table(
                _("Initiatives of %(unit)s, %(year)s") % {"unit": unit.name, "year": year},
                [_("Initiative"), _("Owner"), _("Start"), _("End"), _("Status"), _("Goals")],
                [
                    [
                        i.title,
                        i.owner,
                        i.start_date,
                        i.end_date,
                        i.status_label,
                        ", ".join(f"{g.code} {g.title}" for g in i.goals),
                    ]
                    for i in view.initiatives
                ],
                sheet=_("Initiatives"),
            )
        )
        for n, initiative in enumerate(view.initiatives, 1):
            doc.add(Heading(2, initiative.title))
            if initiative.description:
                doc.add(Markdown(initiative.description))
            if initiative.goals:
                doc.add(
                    Paragraph(
                        _("Contributes to: %(goals)s")
                        % {"goals": "; ".join(f"{g.code} {g.title}" for g in initiative.goals)},
                        "note",
                    )
                )
            progress(n, len(view.initiatives))
        doc.add(Heading(1, _("Signatures")))
        doc.add(
            Table(
                _("Signatures"),
                [_("For"), _("Name"), _("Date"), _("Signature")],
                [[unit.name, "", "", ""], [_above(unit), "", "", ""]],
                sheet=_("Signatures"),
            )
        )
    return doc


def _above(unit: Unit) -> str:
    ancestors = unit_ancestors(unit)
    return ancestors[-1].name if ancestors else _("The executive board")


# Strategy -----------------------------------------------------------------------------------


def _strategy_order(user: Any, year: int | None) -> list[tuple[int, Strategy]]:
    """The strategies the reader may read (``readable_strategies``), parents first."""
    qs = readable_strategies(_reader(user)).order_by("position", "title")
    if year is not None:
        qs = qs.filter(start_year__lte=year, end_year__gte=year)
    strategies = list(qs)
    ids = {s.pk for s in strategies}
    children: dict[int | None, list[Strategy]] = {}
    for s in strategies:
        parent = s.parent_id if s.parent_id in ids else None
        children.setdefault(parent, []).append(s)
    ordered: list[tuple[int, Strategy]] = []

    def walk(parent: int | None, depth: int) -> None:
        for s in children.get(parent, []):
            ordered.append((depth, s))
            walk(s.pk, depth + 1)

    walk(None, 0)
    return ordered


def build_strategy_document(
    *, user: Any, language: str, year: int | None = None, progress: Progress = _noop
) -> Document:
    """The cascade from the future narrative down to the goals (published strategies)."""
    with translation.override(language):
        title = _("Strategies %(year)s") % {"year": year} if year else _("Strategies")
        doc = _new("strategy", title, organisation_name(), language, f"strategy-{year or 'all'}")
        ordered = _strategy_order(user, year)
        for n, (depth, strategy) in enumerate(ordered, 1):
            doc.add(PageBreak(), Heading(1, strategy.title))
            facts: list[tuple[str, Any]] = [(_("Period"), strategy.period_label)]
            if depth and strategy.parent is not None:
                facts.append((_("Serves"), strategy.parent.title))
            doc.add(Facts(facts))
            if strategy.summary:
                doc.add(Paragraph(strategy.summary, "lead"))
            if strategy.body:
                doc.add(Markdown(strategy.body))
            goals_rows: list[list[Any]] = []
            for node in element_tree(strategy):
                _element_blocks(doc, node, 2, goals_rows)
            if goals_rows:
                doc.add(
                    Table(
                        _("Goals of %(strategy)s") % {"strategy": strategy.title},
                        [_("Code"), _("Goal"), _("Baseline"), _("Target"), _("Target date")],
                        goals_rows,
                        sheet=strategy.code,
                    )
                )
            progress(n, len(ordered))
    return doc


def _element_blocks(doc: Document, node: Any, level: int, goals_rows: list[list[Any]]) -> None:
    element: Element = node.element
    doc.add(Heading(min(level, 4), f"{element.code} {element.title}"))
    if element.description:
        doc.add(Markdown(element.description))
    if element.level.holds_goals:
        goals_rows.append(
            [
                element.code,
                element.title,
                float(element.baseline_value) if element.baseline_value is not None else None,
                float(element.target_value)
                if element.target_value is not None
                else element.target_text,
                element.target_date,
            ]
        )
    for child in node.children:
        _element_blocks(doc, child, level + 1, goals_rows)


# Board report -------------------------------------------------------------------------------


def section_visible(user: Any, section: Section) -> bool:
    """Whether a reader sees a section's text and analyses: once approved everyone who may
    read the report; before that, its writers and the office."""
    if section.state == SectionState.APPROVED:
        return True
    return user is not None and can_write_section(user, section)


def build_report_document(
    *,
    report: Report,
    user: Any,
    language: str,
    frozen_at: datetime | None = None,
    progress: Progress = _noop,
) -> Document:
    """A board report: finalised, exactly as frozen; in progress, as it stands now, with the
    chapters the reader may not see yet left as placeholders."""
    if report.is_finalised and report.snapshot and frozen_at is None:
        return Document.from_json(report.snapshot)
    if user is not None and not can_read_report(user, report):
        raise PermissionDenied(_("You may not read this report."))
    period = report.period
    sections = list(
        report.sections.select_related("unit", "theme", "assignee").order_by("position", "pk")
    )
    root = Unit.objects.filter(depth=1).order_by("path").first()
    with translation.override(language):
        doc = _new(
            "report",
            report.title,
            f"{period.title} · {period.year}",
            language,
            f"report-{period.year}-{period.period}".lower(),
        )
        doc.frozen_at = frozen_at
        evaluations = period_evaluations(period)
        groups = {
            theme.pk: goals for _s, themes in goals_by_theme(period) for theme, goals in themes
        }
        for n, section in enumerate(sections, 1):
            doc.add(PageBreak(), Heading(1, section.title))
            if not section_visible(user, section):
                doc.add(Paragraph(_("This chapter is being written."), "note"))
                progress(n, len(sections))
                continue
            if section.body.strip():
                doc.add(Markdown(section.body))
            if section.kind == SectionKind.THEME and section.theme_id:
                writer = section.unit or root
                analyses = _analyses(period, writer) if writer is not None else {}
                for goal in groups.get(section.theme_id, []):
                    _goal_blocks(doc, goal, evaluations.get(goal.pk), analyses.get(goal.pk))
            elif section.kind == SectionKind.COMPLIANCE:
                _compliance_blocks(doc, period.year, None)
            elif section.kind == SectionKind.AT_RISK:
                _at_risk_blocks(doc, user, period, None)
            elif section.kind == SectionKind.PORTFOLIO:
                _portfolio_blocks(doc, user, period)
            progress(n, len(sections))
    return doc


def _portfolio_blocks(doc: Document, user: Any, period: Deadline) -> None:
    """The development portfolio's chapter, from ``pejling.portfolio`` when it is installed
    (imported only then: reports never depends on it)."""
    if not apps.is_installed("pejling.portfolio"):
        doc.add(Paragraph(_("The development portfolio is not in use."), "note"))
        return
    try:
        module = import_module("pejling.portfolio.reporting")
        tables = module.report_tables(user=user, year=period.year)
    except (ImportError, AttributeError):
        doc.add(Paragraph(_("The development portfolio has nothing to report yet."), "note"))
        return
    # Plain data (title, column names, rows), so the portfolio needs nothing of ours.
    for title, columns, rows in tables:
        doc.add(Table(str(title), [str(c) for c in columns], [list(r) for r in rows]))
