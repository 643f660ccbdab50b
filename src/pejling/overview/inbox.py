"""The start page's inbox: what waits for this person, read from the apps that own the work.

Each source is a function ``(user, year, today) -> list[InboxItem]`` in ``INBOX_SOURCES``; the
start page shows every source's items in one list, most urgent first. An app added later (board
reports' sections, portfolio decisions) adds its own source here: a function that calls that
app's selector and returns ``InboxItem``s. The rules of who may do what stay in their apps
(``organisation.permissions``, the agreements' workflow); this module only gathers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pejling.agreements.models import Agreement, AgreementState
from pejling.agreements.selectors import (
    UnitStatus,
    agreements_readable_by,
    unit_statuses,
    waits_for,
)
from pejling.agreements.workflow import available_steps
from pejling.core.utils import person_name
from pejling.followup.models import Comment, Deadline, DeadlineKind
from pejling.followup.reporting_views import PeriodState, unit_periods
from pejling.organisation import permissions
from pejling.organisation.models import Role, Unit
from pejling.portfolio.models import ChallengeState, Meeting
from pejling.reports.models import ReportState, Section, SectionState

# How far back a comment that mentions the person stays in the inbox.
MENTION_DAYS = 30


@dataclass(frozen=True)
class InboxItem:
    """One thing that waits for the person: what, where to act, and by when."""

    kind: str  # "agreement", "report", "mention", … (a CSS hook and a test handle)
    title: str
    action: str  # the link's text: "Agree or return", "Report now", …
    url: str
    due: date | None = None
    overdue: bool = False
    detail: str = ""


@dataclass
class MyUnit:
    """A unit the person holds a role in, with its agreement for the year."""

    unit: Unit
    role: str
    agreement: Agreement | None
    periods: list[Any] = field(default_factory=list)
    status: UnitStatus | None = None  # its initiatives (subtree) by status, and the light


InboxSource = Callable[[Any, int, date], list[InboxItem]]


def agreements_to_decide(user: Any, year: int, today: date) -> list[InboxItem]:
    """Submitted agreements that this person may agree or return now (the workflow's table
    decides, four-eyes included)."""
    submitted = (
        agreements_readable_by(user)
        .filter(year=year, state=AgreementState.SUBMITTED)
        .select_related("unit", "submitted_by")
        .order_by("unit__path")
    )
    return [
        InboxItem(
            kind="agreement",
            title=_("Annual agreement %(year)s for %(unit)s waits for you")
            % {"year": agreement.year, "unit": agreement.unit.name},
            action=_("Agree or return"),
            url=reverse("agreements:agreement_detail", args=[agreement.unit.code, agreement.year]),
        )
        for agreement in submitted
        if waits_for(user, agreement)
    ]


def agreements_to_submit(user: Any, year: int, today: date) -> list[InboxItem]:
    """Drafts of the units this person heads that they may submit now, with the agreement
    deadline of the unit's level when the annual cycle has one."""
    units = _units_with(user, [Role.UNIT_HEAD])
    drafts = (
        Agreement.objects.filter(year=year, unit__in=units, state=AgreementState.DRAFT)
        .select_related("unit")
        .order_by("unit__path")
    )
    due = dict(
        Deadline.objects.filter(year=year, kind=DeadlineKind.AGREEMENT)
        .order_by("-due_date")
        .values_list("unit_level_id", "due_date")
    )
    items = []
    for agreement in drafts:
        if "submit" not in {s.name for s in available_steps(user, agreement)}:
            continue
        deadline = due.get(agreement.unit.level_id)
        items.append(
            InboxItem(
                kind="submit",
                title=_("Annual agreement %(year)s for %(unit)s is a draft")
                % {"year": agreement.year, "unit": agreement.unit.name},
                action=_("Finish and submit"),
                url=reverse(
                    "agreements:agreement_detail", args=[agreement.unit.code, agreement.year]
                ),
                due=deadline,
                overdue=bool(deadline and deadline < today),
            )
        )
    return items


def reports_due(user: Any, year: int, today: date) -> list[InboxItem]:
    """Follow-up periods open for the units this person reports for (head or editor)."""
    items = []
    for unit in _units_with(user, permissions.WRITE_ROLES):
        agreement, periods = unit_periods(unit=unit, year=year, today=today)
        if agreement is None:
            continue  # nothing agreed to report on yet
        for period in periods:
            if not period.is_open:
                continue
            items.append(
                InboxItem(
                    kind="report",
                    title=_("Follow-up %(period)s for %(unit)s")
                    % {
                        "period": period.deadline.period or period.deadline.title,
                        "unit": unit.name,
                    },
                    action=_("Report now"),
                    url=reverse("reports:report_period", args=[unit.code, period.deadline.pk]),
                    due=period.deadline.due_date,
                    overdue=period.state == PeriodState.OVERDUE,
                    detail=_("%(reported)s of %(total)s initiatives reported")
                    % {"reported": period.reported, "total": period.total},
                )
            )
    return items


def mentions(user: Any, year: int, today: date) -> list[InboxItem]:
    """Comments of the last weeks that mention this person by name."""
    since = today - timedelta(days=MENTION_DAYS)
    comments = (
        Comment.objects.filter(mentions=user, created_at__date__gte=since)
        .select_related(
            "author", "goal__strategy", "initiative__agreement__unit", "agreement__unit"
        )
        .order_by("-created_at")[:20]
    )
    items = []
    for comment in comments:
        author = person_name(comment.author) if comment.author else ""
        if comment.goal is not None:
            url = reverse(
                "strategy:element_detail", args=[comment.goal.strategy.code, comment.goal.pk]
            )
            subject = str(comment.goal)
        else:
            agreement = comment.agreement or comment.initiative.agreement  # type: ignore[union-attr]
            url = reverse("agreements:agreement_detail", args=[agreement.unit.code, agreement.year])
            subject = str(comment.initiative or agreement.unit.name)
        items.append(
            InboxItem(
                kind="mention",
                title=_("%(author)s mentioned you on %(subject)s")
                % {"author": author, "subject": subject},
                action=_("Read the comment"),
                url=f"{url}#comment-{comment.pk}",
                detail=comment.body[:160],
            )
        )
    return items


def report_sections(user: Any, year: int, today: date) -> list[InboxItem]:
    """Chapters of open board reports assigned to this person and not yet approved."""
    sections = (
        Section.objects.filter(assignee=user, report__state=ReportState.OPEN)
        .exclude(state=SectionState.APPROVED)
        .select_related("report")
        .order_by("due_date", "pk")
    )
    return [
        InboxItem(
            kind="board-report",
            title=_("“%(section)s” in %(report)s") % {"section": s.title, "report": s.report},
            action=_("Write the chapter")
            if s.state == SectionState.DRAFT
            else _("Review the chapter"),
            url=reverse("board_reports:section_detail", args=[s.report_id, s.pk]),
            due=s.due_date,
            overdue=bool(s.due_date and s.due_date < today),
            detail=str(s.get_state_display()),
        )
        for s in sections
    ]


def portfolio_decisions(user: Any, year: int, today: date) -> list[InboxItem]:
    """Meetings from today on of the leadership teams this person sits in or chairs, with
    challenges on their agenda still waiting for a decision."""
    meetings = (
        Meeting.objects.filter(Q(team__members=user) | Q(team__chair=user), held_on__gte=today)
        .annotate(
            waiting=Count("agenda", filter=Q(agenda__state=ChallengeState.ON_AGENDA), distinct=True)
        )
        .filter(waiting__gt=0)
        .select_related("team")
        .order_by("held_on")
    )
    items = []
    for meeting in meetings:
        items.append(
            InboxItem(
                kind="decision",
                title=ngettext(
                    "%(team)s decides on %(count)s challenge",
                    "%(team)s decides on %(count)s challenges",
                    meeting.waiting,
                )
                % {"team": meeting.team.name, "count": meeting.waiting},
                action=_("Prepare the decisions"),
                url=reverse("portfolio:meeting_detail", args=[meeting.pk]),
                due=meeting.held_on,
            )
        )
    return items


# The inbox's sources, in the order the start page asks them.
INBOX_SOURCES: list[InboxSource] = [
    agreements_to_decide,
    agreements_to_submit,
    reports_due,
    report_sections,
    portfolio_decisions,
    mentions,
]


def inbox(user: Any, *, year: int, today: date) -> list[InboxItem]:
    """Everything that waits for ``user``: overdue first, then by deadline, then the rest."""
    items = [item for source in INBOX_SOURCES for item in source(user, year, today)]
    return sorted(items, key=lambda i: (not i.overdue, i.due or date.max))


def _units_with(user: Any, roles: Any) -> list[Unit]:
    wanted = set(roles)
    seen: dict[int, Unit] = {}
    for membership in permissions.memberships_of(user):
        if membership.role in wanted and membership.unit.closed_on is None:
            seen.setdefault(membership.unit.pk, membership.unit)
    return sorted(seen.values(), key=lambda u: u.path)


def my_units(user: Any, *, year: int, today: date) -> list[MyUnit]:
    """The units the person leads, edits or oversees, with their agreement's state this year."""
    roles: dict[int, tuple[Unit, str]] = {}
    for membership in permissions.memberships_of(user):
        if membership.role in (Role.UNIT_HEAD, Role.EDITOR, Role.EXECUTIVE):
            roles.setdefault(membership.unit.pk, (membership.unit, membership.role))
    units = sorted(roles.values(), key=lambda pair: pair[0].path)
    agreements = {
        a.unit_id: a for a in Agreement.objects.filter(year=year, unit__in=[u for u, _r in units])
    }
    statuses = {s.unit.pk: s for s in unit_statuses(year=year, units=[u for u, _r in units])}
    return [
        MyUnit(
            unit=unit,
            role=str(Role(role).label),
            agreement=agreements.get(unit.pk),
            status=statuses.get(unit.pk),
        )
        for unit, role in units
    ]
