"""Writes for follow-up: a unit's status reports for a period, and comments with mentions.

Every service is keyword-only, checks its permission, runs in one transaction (all or nothing)
and records the acting user in the change history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import transaction
from django.utils.translation import gettext as _

from pejling.agreements.models import Agreement, AgreementState, Initiative
from pejling.agreements.services import record_reported_status
from pejling.core.history import SYSTEM, StateConflictError, delete_as, save_as
from pejling.followup.models import (
    CalendarFeed,
    Comment,
    Deadline,
    DeadlineKind,
    DerivedGoal,
    ReportStatus,
    StatusReport,
    new_feed_token,
)
from pejling.followup.permissions import can_read_subject
from pejling.followup.tasks import notify_mentions
from pejling.organisation import permissions
from pejling.organisation.models import Unit
from pejling.strategy.models import Element

# Status reports ------------------------------------------------------------------------------

COMMENT_MAX_LENGTH = StatusReport._meta.get_field("comment").max_length or 1000
REPORTABLE_STATES = (AgreementState.AGREED, AgreementState.PUBLISHED)


@dataclass(frozen=True)
class ReportEntry:
    """One line of a period's report: an initiative's status and an optional short comment."""

    initiative_id: int
    status: str
    comment: str = ""


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("You do not have permission to do this."))


def reporting_agreement(*, unit: Unit, year: int) -> Agreement | None:
    """The agreement a unit reports on in ``year``: its agreement of the year once agreed
    (also while an agreed agreement is being revised)."""
    agreement = Agreement.objects.filter(unit=unit, year=year).select_related("unit").first()
    if agreement is None:
        return None
    if agreement.state in REPORTABLE_STATES or agreement.versions.exists():
        return agreement
    return None


def previous_deadline(deadline: Deadline) -> Deadline | None:
    """The report deadline before ``deadline`` in the same year (by due date)."""
    return (
        Deadline.objects.filter(
            year=deadline.year, kind=DeadlineKind.REPORT, due_date__lt=deadline.due_date
        )
        .exclude(pk=deadline.pk)
        .order_by("-due_date", "-pk")
        .first()
    )


def _locked_agreement(unit: Unit, deadline: Deadline) -> Agreement:
    if deadline.kind != DeadlineKind.REPORT:
        raise ValidationError(
            _("“%(title)s” is not a follow-up period.") % {"title": deadline.title}
        )
    agreement = reporting_agreement(unit=unit, year=deadline.year)
    if agreement is None:
        raise ValidationError(
            _("%(unit)s has no agreed agreement for %(year)s to report on.")
            % {"unit": unit.name, "year": deadline.year}
        )
    # One report of a unit at a time: two people saving at once cannot collide on a row. The
    # state is checked again on the locked row: a revision or a return may have come first.
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if locked.state not in REPORTABLE_STATES and not locked.versions.exists():
        raise StateConflictError(
            _("%(unit)s has no agreed agreement for %(year)s to report on.")
            % {"unit": unit.name, "year": deadline.year},
            code="not_reportable",
        )
    return locked


def _validate_entries(agreement: Agreement, entries: list[ReportEntry]) -> dict[int, Initiative]:
    initiatives = {i.pk: i for i in agreement.initiatives.all()}
    errors: list[str] = []
    seen: set[int] = set()
    for entry in entries:
        initiative = initiatives.get(entry.initiative_id)
        if initiative is None:
            errors.append(
                _("Initiative %(id)s is not part of the agreement %(agreement)s.")
                % {"id": entry.initiative_id, "agreement": agreement}
            )
            continue
        if entry.initiative_id in seen:
            errors.append(
                _("“%(title)s” is reported twice.") % {"title": initiative.title},
            )
        seen.add(entry.initiative_id)
        if entry.status not in ReportStatus.values:
            errors.append(
                _("“%(status)s” is not a status an initiative can be reported with (“%(title)s”).")
                % {"status": entry.status, "title": initiative.title}
            )
        if "\x00" in entry.comment:
            errors.append(str(ProhibitNullCharactersValidator.message))
        if len(entry.comment.strip()) > COMMENT_MAX_LENGTH:
            errors.append(
                _("The comment on “%(title)s” is longer than %(max)s characters.")
                % {"title": initiative.title, "max": COMMENT_MAX_LENGTH}
            )
    if errors:
        raise ValidationError(errors)
    return initiatives


@transaction.atomic
def report_period(
    *, unit: Unit, deadline: Deadline, by: Any, entries: list[ReportEntry]
) -> list[StatusReport]:
    """Save the unit's status reports for the period of ``deadline``: one row per initiative,
    created or updated. Every entry is checked before anything is written; a bad entry writes
    nothing. Unchanged rows are left as they are. Returns the reports of the entries."""
    _require(permissions.can_write_agreement(by, unit))
    agreement = _locked_agreement(unit, deadline)
    _validate_entries(agreement, entries)
    existing = {
        r.initiative_id: r
        for r in StatusReport.objects.filter(
            deadline=deadline, initiative__agreement=agreement
        ).select_related("deadline")
    }
    reports = []
    for entry in entries:
        comment = entry.comment.strip()
        report = existing.get(entry.initiative_id)
        if report is None:
            report = StatusReport(
                initiative_id=entry.initiative_id,
                deadline=deadline,
                status=entry.status,
                comment=comment,
                reported_by=by,
            )
            save_as(report, by)
        elif report.status != entry.status or report.comment != comment:
            report.status = entry.status
            report.comment = comment
            report.reported_by = by
            save_as(report, by, update_fields=["status", "comment", "reported_by", "reported_at"])
        reports.append(report)
    _carry_latest_status([e.initiative_id for e in entries])
    return reports


def _carry_latest_status(initiative_ids: list[int]) -> None:
    """Each initiative's status becomes that of its latest report (the latest period; a late
    correction of an earlier period does not overwrite a newer report), through the agreements'
    service: one vocabulary, stored on the initiative, with when and by whom."""
    latest: dict[int, StatusReport] = {}
    for report in (
        StatusReport.objects.filter(initiative_id__in=initiative_ids)
        .select_related("reported_by")
        .order_by("initiative_id", "-deadline__due_date", "-reported_at")
    ):
        latest.setdefault(report.initiative_id, report)
    for initiative_id, report in latest.items():
        record_reported_status(
            initiative_id=initiative_id,
            status=report.status,
            reported_at=report.reported_at,
            reported_by=report.reported_by,
        )


def unchanged_entries(*, agreement: Agreement, deadline: Deadline) -> list[ReportEntry]:
    """Each initiative's report of the previous period, or *on track* where there is none."""
    before = previous_deadline(deadline)
    previous = (
        {
            r.initiative_id: r
            for r in StatusReport.objects.filter(deadline=before, initiative__agreement=agreement)
        }
        if before is not None
        else {}
    )
    entries = []
    for initiative_id in agreement.initiatives.values_list("pk", flat=True):
        report = previous.get(initiative_id)
        if report is None:
            entries.append(ReportEntry(initiative_id, ReportStatus.ON_TRACK))
        else:
            entries.append(ReportEntry(initiative_id, report.status, report.comment))
    return entries


@transaction.atomic
def confirm_unchanged(*, unit: Unit, deadline: Deadline, by: Any) -> list[StatusReport]:
    """Nothing changed since last period: report every initiative as in the previous period
    (or *on track* where it has no earlier report), in one action."""
    _require(permissions.can_write_agreement(by, unit))
    agreement = _locked_agreement(unit, deadline)
    entries = unchanged_entries(agreement=agreement, deadline=deadline)
    return report_period(unit=unit, deadline=deadline, by=by, entries=entries)


# Comments ------------------------------------------------------------------------------------

BODY_MAX_LENGTH = Comment._meta.get_field("body").max_length or 4000
# @username, not inside an e-mail address; Django usernames may hold letters, digits and @.+-_
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]+)")


def mentioned_usernames(body: str) -> list[str]:
    """The usernames mentioned in ``body`` (``@name``), in order, without trailing punctuation."""
    names: list[str] = []
    for match in MENTION.finditer(body):
        name = match.group(1).rstrip(".-@+")
        if name and name not in names:
            names.append(name)
    return names


def _subject_of(comment: Comment) -> dict[str, Any]:
    return {
        "goal": comment.goal,
        "initiative": comment.initiative,
        "agreement": comment.agreement,
    }


@transaction.atomic
def comment_add(
    *,
    by: Any,
    body: str,
    goal: Element | None = None,
    initiative: Initiative | None = None,
    agreement: Agreement | None = None,
    parent: Comment | None = None,
) -> Comment:
    """Add a comment (plain text) on one goal, initiative or agreement, or a reply to one.

    A reply joins its thread's subject; a reply to a reply joins the thread's first comment
    (replies nest one level). ``@username`` mentions of existing people are kept and each
    mentioned person who may read the subject is sent an e-mail by a background task once the
    comment is committed.
    """
    if parent is not None:
        if parent.parent_id is not None:
            parent = Comment.objects.select_related(
                "goal__strategy", "initiative__agreement__unit", "agreement__unit"
            ).get(pk=parent.parent_id)
        given = {"goal": goal, "initiative": initiative, "agreement": agreement}
        for field, value in given.items():
            if value is not None and getattr(parent, f"{field}_id") != value.pk:
                raise ValidationError(_("A reply must be about what its thread is about."))
        subject = _subject_of(parent)
    else:
        subject = {"goal": goal, "initiative": initiative, "agreement": agreement}
    if sum(value is not None for value in subject.values()) != 1:
        raise ValidationError(_("A comment is about one goal, initiative or agreement."))
    _require(can_read_subject(by, **subject))
    text = body.strip()
    if not text:
        raise ValidationError({"body": _("Write a comment first.")})
    ProhibitNullCharactersValidator()(text)  # PostgreSQL text cannot hold NUL
    if len(text) > BODY_MAX_LENGTH:
        raise ValidationError(
            {"body": _("A comment can be at most %(max)s characters.") % {"max": BODY_MAX_LENGTH}}
        )
    comment = Comment(author=by, body=text, parent=parent, **subject)
    save_as(comment, by)
    names = mentioned_usernames(text)
    mentioned = list(
        get_user_model().objects.filter(username__in=names, is_active=True).order_by("pk")
    )
    if mentioned:
        comment.mentions.set(mentioned)

        comment_id = comment.pk
        transaction.on_commit(lambda: notify_mentions.enqueue(comment_id))
    return comment


# The annual cycle and computed goals: kept by the strategy office (or a package load) --------


def _require_office(by: Any) -> None:
    if by is not SYSTEM and not permissions.is_strategy_office(by):
        raise PermissionDenied(_("Only the strategy office can change the annual cycle."))


@transaction.atomic
def deadline_save(*, deadline: Deadline, by: Any) -> Deadline:
    """Create or update a deadline of the annual cycle (validated)."""
    _require_office(by)
    deadline.full_clean()
    save_as(deadline, by)
    return deadline


@transaction.atomic
def deadline_delete(*, deadline: Deadline, by: Any) -> None:
    _require_office(by)
    delete_as(deadline, by)


@transaction.atomic
def derived_goal_save(*, derived: DerivedGoal, by: Any) -> DerivedGoal:
    """Create or update how a goal is computed from units or initiatives (validated)."""
    _require_office(by)
    derived.full_clean()
    save_as(derived, by)
    return derived


@transaction.atomic
def derived_goal_delete(*, derived: DerivedGoal, by: Any) -> None:
    _require_office(by)
    delete_as(derived, by)


# Calendar feeds ------------------------------------------------------------------------------


def calendar_feed_reset(*, user: Any) -> CalendarFeed:
    """Give the person a new secret calendar address; the old one stops working at once.
    Recorded in the audit trail (without the secret)."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
        feed = feed or CalendarFeed(user=user)
        feed.token = new_feed_token()
        save_as(feed, user, reason="calendar reset")
    return feed
