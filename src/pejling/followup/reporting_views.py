"""Status reporting with little burden: a unit's periods, one page per period, and comments.

Every page works without JavaScript; htmx only saves the report form in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from pejling.agreements.models import Agreement, Initiative
from pejling.core.http import HtmxHttpRequest
from pejling.core.utils import requested_year
from pejling.followup import services
from pejling.followup.models import Comment, Deadline, DeadlineKind, ReportStatus, StatusReport
from pejling.followup.permissions import can_read_subject
from pejling.organisation import permissions
from pejling.organisation.models import Unit
from pejling.strategy.models import Element

# Reads ---------------------------------------------------------------------------------------


class PeriodState:
    REPORTED = "reported"
    MISSING = "missing"
    OVERDUE = "overdue"
    NO_AGREEMENT = "no_agreement"

    LABELS = {
        REPORTED: gettext_lazy("Reported"),
        MISSING: gettext_lazy("Not reported yet"),
        OVERDUE: gettext_lazy("Overdue"),
        NO_AGREEMENT: gettext_lazy("No agreed agreement"),
    }
    COLOURS = {REPORTED: "success", MISSING: "neutral", OVERDUE: "danger", NO_AGREEMENT: "neutral"}


@dataclass
class Period:
    """A report deadline as one unit stands with it."""

    deadline: Deadline
    total: int
    reported: int
    has_agreement: bool
    today: date

    @property
    def state(self) -> str:
        if not self.has_agreement:
            return PeriodState.NO_AGREEMENT
        if self.reported >= self.total:
            return PeriodState.REPORTED
        if self.deadline.due_date < self.today:
            return PeriodState.OVERDUE
        return PeriodState.MISSING

    @property
    def state_label(self) -> str:
        return str(PeriodState.LABELS[self.state])

    @property
    def colour(self) -> str:
        return PeriodState.COLOURS[self.state]

    @property
    def is_open(self) -> bool:
        """Started (or without a start date) and not fully reported."""
        started = self.deadline.period_start is None or self.deadline.period_start <= self.today
        return started and self.state in (PeriodState.MISSING, PeriodState.OVERDUE)


def unit_periods(*, unit: Unit, year: int, today: date) -> tuple[Agreement | None, list[Period]]:
    """The year's report deadlines and how far the unit has reported on each (three queries)."""
    agreement = services.reporting_agreement(unit=unit, year=year)
    deadlines = list(Deadline.objects.filter(year=year, kind=DeadlineKind.REPORT))
    total = agreement.initiatives.count() if agreement else 0
    counts: dict[int, int] = {}
    if agreement is not None and deadlines:
        counts = dict(
            StatusReport.objects.filter(initiative__agreement=agreement, deadline__in=deadlines)
            .values("deadline")
            .annotate(n=Count("pk"))
            .values_list("deadline", "n")
        )
    periods = [
        Period(d, total, counts.get(d.pk, 0), agreement is not None, today) for d in deadlines
    ]
    return agreement, periods


def _top_level_comments(**subject: Any) -> Any:
    return (
        Comment.objects.filter(parent__isnull=True, **subject)
        .select_related("author")
        .prefetch_related(
            Prefetch("replies", queryset=Comment.objects.select_related("author").order_by("pk"))
        )
        .order_by("created_at", "pk")
    )


@dataclass
class Thread:
    """What ``followup/reporting/_comments.html`` renders: a subject's comments and forms."""

    key: str  # unique on the page, for element ids
    field: str  # "agreement", "initiative" or "goal"
    subject_id: int
    comments: list[Comment]
    can_comment: bool
    next: str
    label: str = ""

    @property
    def count(self) -> int:
        return len(self.comments) + sum(len(c.replies.all()) for c in self.comments)


def comment_thread(
    *,
    user: Any,
    next_url: str,
    agreement: Agreement | None = None,
    goal: Element | None = None,
) -> Thread:
    """The thread on one agreement or goal, for the comments fragment."""
    subject: Agreement | Element
    if agreement is not None:
        field_name, subject = "agreement", agreement
        can = can_read_subject(user, agreement=agreement)
    elif goal is not None:
        field_name, subject = "goal", goal
        can = can_read_subject(user, goal=goal)
    else:
        raise ValueError("comment_thread needs an agreement or a goal")
    comments = list(_top_level_comments(**{field_name: subject})) if can else []
    return Thread(f"{field_name}-{subject.pk}", field_name, subject.pk, comments, can, next_url)


def initiative_threads(
    *, user: Any, agreement: Agreement, initiatives: list[Initiative], next_url: str
) -> dict[int, Thread]:
    """One thread per initiative, in two queries whatever their number."""
    can = can_read_subject(user, agreement=agreement)
    by_initiative: dict[int, list[Comment]] = {i.pk: [] for i in initiatives}
    if can and initiatives:
        for comment in _top_level_comments(initiative__in=initiatives):
            by_initiative[comment.initiative_id].append(comment)
    return {
        i.pk: Thread(
            f"initiative-{i.pk}", "initiative", i.pk, by_initiative[i.pk], can, next_url, i.title
        )
        for i in initiatives
    }


# Report rows -----------------------------------------------------------------------------------


@dataclass
class ReportRow:
    initiative: Initiative
    previous: StatusReport | None
    current: StatusReport | None
    status: str
    comment: str
    selected: bool = False
    thread: Thread | None = None


@dataclass
class ReportPage:
    unit: Unit
    deadline: Deadline
    previous_deadline: Deadline | None
    agreement: Agreement | None
    period: Period
    rows: list[ReportRow] = field(default_factory=list)
    can_write: bool = False


def _report_page(
    request: HttpRequest, unit: Unit, deadline: Deadline, *, posted: bool = False
) -> ReportPage:
    today = timezone.localdate()
    agreement = services.reporting_agreement(unit=unit, year=deadline.year)
    before = services.previous_deadline(deadline)
    can_write = permissions.can_write_agreement(request.user, unit)
    if agreement is None:
        return ReportPage(
            unit, deadline, before, None, Period(deadline, 0, 0, False, today), [], can_write
        )
    initiatives = list(agreement.initiatives.select_related("owner").order_by("position", "pk"))
    reports = StatusReport.objects.filter(initiative__agreement=agreement)
    current = {r.initiative_id: r for r in reports.filter(deadline=deadline)}
    previous = (
        {r.initiative_id: r for r in reports.filter(deadline=before)} if before is not None else {}
    )
    threads = initiative_threads(
        user=request.user, agreement=agreement, initiatives=initiatives, next_url=request.path
    )
    values = _posted_rows(request, agreement) if posted else {}
    selected = set(_selected(request)) if posted else set()
    rows = []
    for initiative in initiatives:
        now, then = current.get(initiative.pk), previous.get(initiative.pk)
        shown = now or then
        status, comment = (shown.status, shown.comment) if shown else ("", "")
        if posted:
            status, comment = values.get(initiative.pk, ("", ""))
        rows.append(
            ReportRow(
                initiative,
                then,
                now,
                status,
                comment,
                selected=initiative.pk in selected,
                thread=threads[initiative.pk],
            )
        )
    period = Period(deadline, len(initiatives), len(current), True, today)
    return ReportPage(unit, deadline, before, agreement, period, rows, can_write)


def _posted_rows(request: HttpRequest, agreement: Agreement) -> dict[int, tuple[str, str]]:
    return {
        pk: (
            request.POST.get(f"status-{pk}", "").strip(),
            request.POST.get(f"comment-{pk}", ""),
        )
        for pk in agreement.initiatives.values_list("pk", flat=True)
    }


def _selected(request: HttpRequest) -> list[int]:
    return [int(v) for v in request.POST.getlist("selected") if v.isdigit()]


# Views ---------------------------------------------------------------------------------------


def _unit(code: str) -> Unit:
    return get_object_or_404(Unit.objects.select_related("level"), code=code)


def _require_read(user: Any, unit: Unit) -> None:
    if not (
        permissions.can_read_unpublished(user, unit) or permissions.can_write_agreement(user, unit)
    ):
        raise PermissionDenied


def unit_reports(request: HttpRequest, unit_code: str) -> HttpResponse:
    """The unit's follow-up periods of the year and whether each is reported."""
    unit = _unit(unit_code)
    _require_read(request.user, unit)
    year = requested_year(request)
    agreement, periods = unit_periods(unit=unit, year=year, today=timezone.localdate())
    context = {
        "unit": unit,
        "year": year,
        "agreement": agreement,
        "periods": periods,
        "can_write": permissions.can_write_agreement(request.user, unit),
    }
    return render(request, "followup/reporting/unit_reports.html", context)


def report_period(request: HtmxHttpRequest, unit_code: str, deadline_id: int) -> HttpResponse:
    """One page for a period: every initiative with last period's status already chosen."""
    unit = _unit(unit_code)
    deadline = get_object_or_404(Deadline, pk=deadline_id, kind=DeadlineKind.REPORT)
    _require_read(request.user, unit)
    errors: list[str] = []
    notice = ""
    if request.method == "POST":
        if not permissions.can_write_agreement(request.user, unit):
            raise PermissionDenied
        try:
            notice = _save(request, unit, deadline)
        except ValidationError as exc:
            errors = exc.messages
        else:
            if not request.htmx:
                messages.success(request, notice)
                return redirect(request.path)
    # After an error the form shows what was posted; else what is stored.
    keep_posted = bool(errors) and request.POST.get("action") != "confirm"
    page = _report_page(request, unit, deadline, posted=keep_posted)
    context = {
        "page": page,
        "unit": unit,
        "deadline": deadline,
        "statuses": ReportStatus.choices,
        "errors": errors,
        "notice": notice,
    }
    template = "followup/reporting/report_period.html"
    if request.htmx and request.method == "POST":
        return render(request, f"{template}#report", context)
    return render(request, template, context)


def _save(request: HttpRequest, unit: Unit, deadline: Deadline) -> str:
    """Carry out the posted action; return the notice to show."""
    action = request.POST.get("action", "save")
    if action == "confirm":
        reports = services.confirm_unchanged(unit=unit, deadline=deadline, by=request.user)
        notice = ngettext(
            "Nothing changed: %(count)s initiative was reported as in the previous period.",
            "Nothing changed: %(count)s initiatives were reported as in the previous period.",
            len(reports),
        ) % {"count": len(reports)}
        return notice
    agreement = services.reporting_agreement(unit=unit, year=deadline.year)
    if agreement is None:
        raise ValidationError(
            _("%(unit)s has no agreed agreement for %(year)s to report on.")
            % {"unit": unit.name, "year": deadline.year}
        )
    posted = _posted_rows(request, agreement)
    changed = 0
    if action == "bulk":
        selected = [pk for pk in _selected(request) if pk in posted]
        bulk_status = request.POST.get("bulk_status", "")
        if not selected:
            raise ValidationError(_("Select the initiatives to set first."))
        if bulk_status not in ReportStatus.values:
            raise ValidationError(_("Choose the status to set the selected initiatives to."))
        for pk in selected:
            posted[pk] = (bulk_status, posted[pk][1])
        changed = len(selected)
    entries = [
        services.ReportEntry(pk, status, comment)
        for pk, (status, comment) in posted.items()
        if status
    ]
    services.report_period(unit=unit, deadline=deadline, by=request.user, entries=entries)
    missing = len(posted) - len(entries)
    if action == "bulk":
        label = ReportStatus(request.POST["bulk_status"]).label
        notice = ngettext(
            "The report was saved; %(count)s initiative was set to “%(status)s”.",
            "The report was saved; %(count)s initiatives were set to “%(status)s”.",
            changed,
        ) % {"count": changed, "status": label}
    else:
        notice = _("The report was saved.")
    if missing:
        notice += " " + ngettext(
            "%(count)s initiative still has no status.",
            "%(count)s initiatives still have no status.",
            missing,
        ) % {"count": missing}
    return notice


# Comments --------------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    # A path on this site only: anything else would be read by redirect() as a view name.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@require_POST
def comment_add(request: HttpRequest) -> HttpResponse:
    """Add a comment or a reply, then go back to the page it was written on."""
    post = request.POST
    subject: dict[str, Any] = {}
    fallback = reverse("home")
    if (pk := _int(post.get("agreement"))) is not None:
        agreement = get_object_or_404(Agreement.objects.select_related("unit"), pk=pk)
        subject["agreement"] = agreement
        fallback = agreement.get_absolute_url()
    elif (pk := _int(post.get("initiative"))) is not None:
        initiative = get_object_or_404(Initiative.objects.select_related("agreement__unit"), pk=pk)
        subject["initiative"] = initiative
        fallback = initiative.agreement.get_absolute_url()
    elif (pk := _int(post.get("goal"))) is not None:
        goal = get_object_or_404(Element.objects.select_related("strategy"), pk=pk)
        subject["goal"] = goal
        fallback = goal.get_absolute_url()
    parent = None
    if (pk := _int(post.get("parent"))) is not None:
        parent = get_object_or_404(Comment, pk=pk)
    target = _safe_next(request, fallback)
    try:
        comment = services.comment_add(
            by=request.user, body=post.get("body", ""), parent=parent, **subject
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(target)
    messages.success(request, _("Your comment was added."))
    return redirect(f"{target.split('#', 1)[0]}#comment-{comment.pk}")
