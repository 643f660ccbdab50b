"""Follow-up: status reports per initiative and period, goal evaluations, the annual cycle."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema
from pydantic import Field, StringConstraints

from pejling.api.auth import principal
from pejling.api.endpoints.organisation import unit_by_code, within_unit
from pejling.api.errors import ApiError, not_found
from pejling.api.pagination import paginate, paginate_list
from pejling.api.schemas import MAX_ID, NO_NUL, Cursor, Limit, Within, responses
from pejling.followup import services
from pejling.followup.evaluation import readable_evaluations
from pejling.followup.models import Deadline, DeadlineKind, ReportStatus, StatusReport
from pejling.organisation import permissions

router = Router(tags=["follow-up"])

OptionalYear = Annotated[int | None, Query(None, ge=1900, le=2200)]
UnitCode = Annotated[str, Path(max_length=50, pattern=NO_NUL)]
DeadlineId = Annotated[int, Path(ge=1, le=MAX_ID)]


# Status reports --------------------------------------------------------------------------------


class StatusReportOut(Schema):
    id: int
    unit: str
    year: int
    initiative: int
    initiative_title: str
    deadline: int
    period: str
    status: str
    comment: str
    reported_by: str | None
    reported_at: datetime


class StatusReportPage(Schema):
    items: list[StatusReportOut]
    next: str | None


def report_out(r: StatusReport) -> StatusReportOut:
    return StatusReportOut(
        id=r.pk,
        unit=r.initiative.agreement.unit.code,
        year=r.initiative.agreement.year,
        initiative=r.initiative_id,
        initiative_title=r.initiative.title,
        deadline=r.deadline_id,
        period=r.deadline.period,
        status=r.status,
        comment=r.comment,
        reported_by=r.reported_by.get_username() if r.reported_by else None,
        reported_at=r.reported_at,
    )


def _reports() -> QuerySet[StatusReport]:
    return StatusReport.objects.select_related(
        "initiative__agreement__unit", "deadline", "reported_by"
    )


def _readable_reports(user: Any) -> QuerySet[StatusReport]:
    """Reports of the units whose unpublished work ``user`` may read (as the report pages)."""
    qs = _reports()
    if permissions.is_strategy_office(user):
        return qs
    q = Q(pk__in=[])
    for membership in permissions.memberships_of(user):
        if membership.role in permissions.READ_ROLES:
            q |= Q(initiative__agreement__unit__path__startswith=membership.unit.path)
    return qs.filter(q)


@router.get(
    "/status-reports",
    response=responses(StatusReportPage),
    summary="List status reports of the units you may follow",
)
def list_reports(
    request: HttpRequest,
    year: OptionalYear = None,
    within: Within = None,
    deadline: Annotated[int | None, Query(None, ge=1, le=MAX_ID)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> StatusReportPage:
    qs = _readable_reports(principal(request).user)
    if year is not None:
        qs = qs.filter(deadline__year=year)
    if deadline is not None:
        qs = qs.filter(deadline_id=deadline)
    subtree = within_unit(within)
    if subtree is not None:
        qs = qs.filter(initiative__agreement__unit__path__startswith=subtree.path)
    rows, following = paginate(qs, keys=["pk"], cursor=cursor, limit=limit)
    return StatusReportPage(items=[report_out(r) for r in rows], next=following)


class EntryIn(Schema):
    initiative: Annotated[int, Field(ge=1, le=MAX_ID)]
    status: ReportStatus
    comment: Annotated[str, StringConstraints(max_length=1000, pattern=NO_NUL)] = ""


class ReportIn(Schema):
    entries: list[EntryIn] = Field(min_length=1, max_length=1000)


def _report_deadline(pk: int) -> Deadline:
    deadline = Deadline.objects.filter(pk=pk, kind=DeadlineKind.REPORT).first()
    if deadline is None:
        raise not_found()
    return deadline


def _saved(reports: list[StatusReport]) -> list[StatusReportOut]:
    return [report_out(r) for r in _reports().filter(pk__in=[r.pk for r in reports]).order_by("pk")]


@router.post(
    "/status-reports/{unit}/{deadline_id}",
    response=responses(list[StatusReportOut]),
    summary="Report the unit's initiatives for a follow-up period (all or nothing)",
)
def report_period(
    request: HttpRequest, unit: UnitCode, deadline_id: DeadlineId, data: ReportIn
) -> list[StatusReportOut]:
    user = principal(request).user
    reports = services.report_period(
        unit=unit_by_code(unit),
        deadline=_report_deadline(deadline_id),
        by=user,
        entries=[services.ReportEntry(e.initiative, e.status, e.comment) for e in data.entries],
    )
    return _saved(reports)


@router.post(
    "/status-reports/{unit}/{deadline_id}/unchanged",
    response=responses(list[StatusReportOut]),
    summary="Nothing changed: report every initiative as in the previous period",
)
def confirm_unchanged(
    request: HttpRequest, unit: UnitCode, deadline_id: DeadlineId
) -> list[StatusReportOut]:
    user = principal(request).user
    reports = services.confirm_unchanged(
        unit=unit_by_code(unit), deadline=_report_deadline(deadline_id), by=user
    )
    return _saved(reports)


# Goal evaluations ------------------------------------------------------------------------------


class ForecastOut(Schema):
    value: float
    low: float
    high: float
    date: date


class EvaluationOut(Schema):
    goal: int
    code: str
    title: str
    strategy: str
    kind: str
    unit: str | None
    unit_name: str | None
    indicator: str | None
    value: float | None
    current: float | None
    target: float | None
    baseline: float | None
    progress: float | None
    expected: float | None
    forecast: ForecastOut | None
    status: str = Field(description="achieved, on_track, at_risk, off_track or no_data")
    reason: str
    latest_period: str | None
    behind: list[str]
    missing: list[str]


class EvaluationPage(Schema):
    items: list[EvaluationOut]
    next: str | None


@router.get(
    "/evaluations",
    response=responses(EvaluationPage),
    summary="Every measured goal's evaluation for a year (strategy office, executive)",
)
def list_evaluations(
    request: HttpRequest, year: OptionalYear = None, cursor: Cursor = None, limit: Limit = 50
) -> EvaluationPage:
    user = principal(request).user
    if not permissions.can_see_overview(user):
        raise ApiError(403, "forbidden", _("You do not have permission to do this."))
    evaluations = readable_evaluations(user, year=year or timezone.localdate().year)
    page, following = paginate_list(evaluations, cursor=cursor, limit=limit)
    return EvaluationPage(
        items=[EvaluationOut(goal=e.goal.pk, **e.as_dict()) for e in page], next=following
    )


# The annual cycle ------------------------------------------------------------------------------


class DeadlineOut(Schema):
    id: int
    year: int
    kind: str
    title: str
    due_date: date
    unit_level: int | None = Field(description="Depth of the unit level it is for; none: all")
    period: str
    period_start: date | None


class DeadlinePage(Schema):
    items: list[DeadlineOut]
    next: str | None


@router.get("/deadlines", response=responses(DeadlinePage), summary="Deadlines of the annual cycle")
def list_deadlines(
    request: HttpRequest,
    year: OptionalYear = None,
    kind: DeadlineKind | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DeadlinePage:
    principal(request)
    qs = Deadline.objects.select_related("unit_level")
    if year is not None:
        qs = qs.filter(year=year)
    if kind:
        qs = qs.filter(kind=kind)
    rows, following = paginate(qs, keys=["due_date", "pk"], cursor=cursor, limit=limit)
    return DeadlinePage(
        items=[
            DeadlineOut(
                id=d.pk,
                year=d.year,
                kind=d.kind,
                title=d.title,
                due_date=d.due_date,
                unit_level=d.unit_level.depth if d.unit_level else None,
                period=d.period,
                period_start=d.period_start,
            )
            for d in rows
        ],
        next=following,
    )
