"""E-mail reminders before the annual cycle's deadlines, sent by a background task.

Run daily (cron or a systemd timer): ``pejling send-reminders``. It enqueues the task for the
database-backed worker (``pejling db_worker``); ``--now`` sends at once without the worker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Count, Q
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pejling.agreements.coverage import COMMITTED_STATES
from pejling.agreements.models import Agreement, AgreementState
from pejling.core.utils import person_name
from pejling.followup.models import Deadline, DeadlineKind
from pejling.organisation.models import Membership, Role, Unit

# What else people owe, from apps above follow-up (a board report's chapter), registered in
# their AppConfig.ready() so that follow-up imports none of them. A source answers, for
# ``today``, (person, line) pairs, and marks what it reminded of so it is not sent twice.
ReminderSource = Callable[[date], list[tuple[Any, str]]]
REMINDER_SOURCES: list[ReminderSource] = []


def register_reminder_source(source: ReminderSource) -> None:
    if source not in REMINDER_SOURCES:
        REMINDER_SOURCES.append(source)


def due_deadlines(today: date) -> list[Deadline]:
    """Deadlines whose reminder window has opened and that have not been reminded of."""
    candidates = Deadline.objects.filter(
        reminded_at__isnull=True, due_date__gte=today, due_date__lte=today + timedelta(days=60)
    ).select_related("unit_level")
    return [d for d in candidates if d.due_date - timedelta(days=d.remind_days_before) <= today]


def units_behind(deadline: Deadline) -> list[Unit]:
    if deadline.kind == DeadlineKind.AGREEMENT and deadline.unit_level_id:
        done = Agreement.objects.filter(year=deadline.year, state__in=COMMITTED_STATES)
        return list(
            Unit.objects.filter(level_id=deadline.unit_level_id, closed_on__isnull=True).exclude(
                pk__in=done.values("unit_id")  # the same agreement: this year's, not a draft
            )
        )
    if deadline.kind == DeadlineKind.REPORT:
        agreements = Agreement.objects.filter(
            year=deadline.year, state__in=[AgreementState.AGREED, AgreementState.PUBLISHED]
        ).annotate(
            n=Count("initiatives", distinct=True),
            r=Count(
                "initiatives__reports",
                filter=Q(initiatives__reports__deadline=deadline),
                distinct=True,
            ),
        )
        return [a.unit for a in agreements.select_related("unit") if a.r < a.n]
    return []


def send_reminders(today: date | None = None) -> int:
    """Send one e-mail per unit head listing what their units still owe; returns e-mails sent."""
    today = today or timezone.localdate()
    owed: dict[int, list[tuple[Deadline, Unit]]] = defaultdict(list)
    users = {}
    deadlines = due_deadlines(today)
    for deadline in deadlines:
        units = units_behind(deadline)
        heads = Membership.objects.filter(unit__in=units, role=Role.UNIT_HEAD).select_related(
            "user", "unit"
        )
        for membership in heads:
            if membership.user.email and membership.is_current():
                owed[membership.user.pk].append((deadline, membership.unit))
                users[membership.user.pk] = membership.user
    extra: dict[int, list[str]] = defaultdict(list)
    with translation.override(settings.LANGUAGE_CODE):
        for source in REMINDER_SOURCES:
            for person, line in source(today):
                if person.email:
                    extra[person.pk].append(line)
                    users[person.pk] = person
    sent = 0
    for user_id in [*owed, *(pk for pk in extra if pk not in owed)]:
        items = owed.get(user_id, [])
        user = users[user_id]
        with translation.override(settings.LANGUAGE_CODE):
            lines = [
                _("%(title)s is due on %(date)s for %(unit)s.")
                % {"title": d.title, "date": d.due_date.isoformat(), "unit": u.name}
                for d, u in items
            ] + extra.get(user_id, [])
            send_mail(
                subject=_("Pejling: deadlines coming up"),
                message="\n".join(
                    [
                        _("Hello %(name)s,") % {"name": person_name(user)},
                        "",
                        *lines,
                    ]
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[user.email],
            )
        sent += 1
    Deadline.objects.filter(pk__in=[d.pk for d in deadlines]).update(reminded_at=timezone.now())
    return sent


@task()
def send_reminders_task() -> int:
    return send_reminders()
