"""Demo board reports for Fjärdviks kommun: analyses for tertial 1 and 2, a finalised T1
report and a T2 report in progress. Written through the same services as the pages; loaded
once (an existing report of the period is never touched again)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import translation

from pejling.followup.models import Deadline
from pejling.indicators.evaluation import Status
from pejling.organisation.models import Unit
from pejling.organisation.permissions import forget_memberships
from pejling.reports import services
from pejling.reports.models import Analysis, Assessment, Report, ReportKind, SectionKind
from pejling.reports.selectors import goal_evaluation, goals_of_unit

YEAR = 2026

# What the writers say, by their assessment: (what happened, why, what now).
WORDS: dict[str, tuple[str, str, str]] = {
    Assessment.ACHIEVED: (
        "Målet är nått för året. Förvaltningarna har arbetat i den takt vi planerade och resultatet håller i sig.",
        "Arbetet har haft tydliga ägare och har följts upp på ledningsgruppernas möten varje månad.",
        "Vi håller fast vid arbetssättet och sprider det till de enheter som kom i gång sent.",
    ),
    Assessment.ON_TRACK: (
        "Utvecklingen går åt rätt håll och ligger i nivå med vad vi räknade med vid den här tiden på året.",
        "Insatserna i verksamhetsplanerna är i gång nästan överallt, och de första effekterna syns i siffrorna.",
        "Vi fortsätter enligt plan och följer särskilt upp de enheter som ännu inte har startat sina insatser.",
    ),
    Assessment.AT_RISK: (
        "Vi ligger efter den takt som behövs för att nå målet vid årets slut.",
        "Flera insatser har startat senare än planerat, bland annat på grund av vakanser och upphandlingar som dragit ut på tiden.",
        "Förvaltningarna tar fram en plan för att komma i kapp före nästa tertial. Strategikontoret stöttar med uppföljning varannan vecka.",
    ),
    Assessment.OFF_TRACK: (
        "Målet kommer inte att nås i år med nuvarande insatser.",
        "Förutsättningarna har ändrats sedan målet sattes, och de insatser som finns räcker inte för att vända utvecklingen.",
        "Vi föreslår kommunstyrelsen att prioritera om resurser till målet och att se över målnivån inför nästa år.",
    ),
}

DEVIATION = (
    "Siffran bygger på de verksamhetsplaner som var beslutade vid mätdagen. "
    "Flera förvaltningar har beslutat sina insatser efter det, så läget är bättre än det beräknade."
)


def _assessment_for(status: str, index: int) -> tuple[str, str]:
    """The writer mostly agrees with the figures; now and then they see it differently."""
    if status in Assessment.values:
        if status == Status.OFF_TRACK and index % 3 == 0:
            return Assessment.AT_RISK, DEVIATION
        return status, ""
    return (Assessment.ON_TRACK, "") if index % 2 else (Assessment.AT_RISK, "")


def _body(goal_title: str, assessment: str, period: str) -> str:
    happened, why, now = WORDS[assessment]
    return (
        f"## Vad har hänt under {period}?\n\n{happened}\n\n"
        f"## Varför?\n\n{why}\n\n"
        f"## Vad gör vi nu?\n\n{now}\n\n"
        f"- Ansvarig: förvaltningarnas ledningsgrupper\n"
        f"- Nästa avstämning: vid nästa tertialuppföljning\n"
    )


def _write_analyses(unit: Unit, period: Deadline, by: Any) -> None:
    if Analysis.objects.filter(unit=unit, period=period).exists():
        return
    for index, goal in enumerate(goals_of_unit(unit, period)):
        evaluation = goal_evaluation(goal, period)
        computed = evaluation.status if evaluation is not None else ""
        assessment, why = _assessment_for(computed, index)
        services.analysis_save(
            goal=goal,
            unit=unit,
            period=period,
            by=by,
            body=_body(goal.title, assessment, period.period),
            assessment=assessment,
            deviation_reason=why,
            computed_status=computed,
        )


INTRODUCTION = (
    "Den här rapporten beskriver hur Fjärdviks kommun ligger till mot målen i koncernstrategin "
    "och digitaliseringsstrategin efter {period}. Siffrorna kommer direkt ur förvaltningarnas "
    "verksamhetsplaner och kommunens nyckeltal; analyserna är skrivna av de ansvariga förvaltningarna.\n\n"
    "**Sammanfattningsvis:** de flesta mål utvecklas i rätt riktning, men kompetensförsörjningen "
    "och sjukfrånvaron kräver fortsatt uppmärksamhet."
)
CLOSING = (
    "Kommunledningen bedömer att arbetet med strategin i huvudsak går enligt plan. "
    "Förvaltningarna fortsätter med sina insatser, och strategikontoret följer särskilt upp de mål "
    "som bedöms vara i riskzonen inför nästa tertial."
)


def _fill(report: Report, by: Any, root: Unit, due: date) -> None:
    """Every chapter to the strategy office (the whole organisation's analyses), with texts."""
    for section in report.sections.order_by("position"):
        section = services.section_assign(
            section=section, by=by, unit=root, assignee=by, due_date=due
        )
        if section.kind == SectionKind.INTRODUCTION:
            body = INTRODUCTION.format(period=report.period.title.lower())
            services.section_update(section=section, by=by, body=body)
        elif section.kind == SectionKind.CLOSING:
            services.section_update(section=section, by=by, body=CLOSING)


def load_reports(by: Any) -> None:
    """A finalised report for tertial 1 and one in progress for tertial 2, with analyses,
    in Swedish (chapter titles and the frozen document are written in the active language)."""
    with translation.override("sv"):
        _load_reports(by)


def _load_reports(by: Any) -> None:
    forget_memberships(by)
    t1 = Deadline.objects.filter(year=YEAR, period="T1").first()
    t2 = Deadline.objects.filter(year=YEAR, period="T2").first()
    root = Unit.objects.filter(depth=1).order_by("path").first()
    if t1 is None or t2 is None or root is None:
        return
    user_model = get_user_model()
    writers = [(root, by)]
    for username, code in (("forvaltningschef", "VOF"), ("avdelningschef", "VOF-HEM")):
        person = user_model.objects.filter(username=username).first()
        unit = Unit.objects.filter(code=code).first()
        if person is not None and unit is not None:
            writers.append((unit, person))
    for period in (t1, t2):
        for unit, person in writers:
            _write_analyses(unit, period, person)
    if not Report.objects.filter(period=t1).exists():
        _finalised_report(t1, by, root)
    if not Report.objects.filter(period=t2).exists():
        _report_in_progress(t2, by, Report.objects.filter(period=t1).order_by("created_at").first())


def _finalised_report(period: Deadline, by: Any, root: Unit) -> None:
    report = services.report_create(
        period=period, by=by, title="Tertialrapport 1 2026", kind=ReportKind.INTERIM
    )
    _fill(report, by, root, date(YEAR, 5, 10))
    for section in report.sections.order_by("position"):
        services.section_step(section=section, step="ready", by=by)
        services.section_step(section=section, step="approve", by=by)
    services.report_finalise(report=report, by=by, language="sv")


def _report_in_progress(period: Deadline, by: Any, previous: Report | None) -> None:
    """Copied from T1: the care centre writes one theme, two chapters are approved, one
    waits for approval, the rest are being written."""
    report = services.report_create(
        period=period,
        by=by,
        title="Tertialrapport 2 2026",
        kind=ReportKind.INTERIM,
        copy_from=previous,
    )
    sections = list(report.sections.order_by("position"))
    head = get_user_model().objects.filter(username="forvaltningschef").first()
    care = Unit.objects.filter(code="VOF").first()
    for index, section in enumerate(sections):
        due = date(YEAR, 9, 5) if index % 3 else date(YEAR, 8, 25)
        unit, assignee = section.unit, section.assignee
        if section.kind == SectionKind.THEME and index == 2 and head and care:
            unit, assignee = care, head
        services.section_assign(section=section, by=by, unit=unit, assignee=assignee, due_date=due)
    for section in sections[:2]:
        services.section_step(section=section, step="ready", by=by)
        services.section_step(section=section, step="approve", by=by)
    if len(sections) > 3:
        services.section_step(section=sections[3], step="ready", by=by)
