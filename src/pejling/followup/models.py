"""Follow-up: goals measured from the agreements themselves, the annual cycle, light status
reports per initiative, justifications for broken rules, and comments."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from pejling.agreements.models import Agreement, Initiative, InitiativeStatus
from pejling.organisation.models import UnitLevel
from pejling.strategy.models import Element, Strategy


class CountsWhat(models.TextChoices):
    UNITS = "units", _("Distinct units")
    INITIATIVES = "initiatives", _("Initiatives")


class DerivedGoal(models.Model):
    """How a count or coverage goal is computed from the annual agreements.

    *count*: the number of distinct units (optionally of one level) or of initiatives linked to
    the goal (or, with ``scope_strategy``, to any goal of that strategy) whose status is one of
    ``statuses``. *coverage*: the share of the units of ``unit_level`` that have such an
    initiative. The target is the goal's ``target_value`` (a number, or a percentage).
    """

    goal = models.OneToOneField(
        Element, verbose_name=_("goal"), on_delete=models.CASCADE, related_name="derived"
    )
    counts = models.CharField(
        _("counts"), max_length=20, choices=CountsWhat.choices, default=CountsWhat.UNITS
    )
    unit_level = models.ForeignKey(
        UnitLevel,
        verbose_name=_("units of level"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    statuses = models.JSONField(
        _("initiative statuses that count"),
        default=list,
        blank=True,
        help_text=_("Empty: every status except cancelled."),
    )
    scope_strategy = models.ForeignKey(
        Strategy,
        verbose_name=_("or any goal of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Count initiatives linked to any goal of this strategy instead of this goal."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("computed goal")
        verbose_name_plural = _("computed goals")

    def __str__(self) -> str:
        return str(self.goal)

    def counted_statuses(self) -> list[str]:
        return list(self.statuses) or [
            s for s in InitiativeStatus.values if s != InitiativeStatus.CANCELLED
        ]


class AssessmentStatus(models.TextChoices):
    ACHIEVED = "achieved", _("Achieved")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Off track")


class GoalAssessment(models.Model):
    """The owner's own assessment of an *assessed* goal, with a short justification."""

    goal = models.ForeignKey(
        Element, verbose_name=_("goal"), on_delete=models.CASCADE, related_name="assessments"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(_("status"), max_length=20, choices=AssessmentStatus.choices)
    justification = models.TextField(_("justification"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["goal", "-created_at"]
        verbose_name = _("goal assessment")
        verbose_name_plural = _("goal assessments")

    def __str__(self) -> str:
        return f"{self.goal} {self.year}: {self.status}"


class DeadlineKind(models.TextChoices):
    AGREEMENT = "agreement", _("Annual agreements due")
    REPORT = "report", _("Follow-up report due")
    ANNUAL_REPORT = "annual_report", _("Annual report")
    OTHER = "other", _("Other")


class Deadline(models.Model):
    """A date in the annual cycle (årshjul): agreements of a level due, a follow-up period due."""

    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.CharField(_("kind"), max_length=20, choices=DeadlineKind.choices)
    title = models.CharField(_("title"), max_length=200)
    due_date = models.DateField(_("due date"))
    unit_level = models.ForeignKey(
        UnitLevel,
        verbose_name=_("for units of level"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    period = models.CharField(
        _("follow-up period"), max_length=20, blank=True, help_text=_("For reports: e.g. T1, Q2.")
    )
    period_start = models.DateField(_("period starts"), null=True, blank=True)
    remind_days_before = models.PositiveSmallIntegerField(_("remind days before"), default=7)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "title"]
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")

    def __str__(self) -> str:
        return f"{self.title} ({self.due_date})"


class ReportStatus(models.TextChoices):
    """What a report may say: the reportable part of the initiatives' one status vocabulary
    (``agreements.models.InitiativeStatus``), same values, same labels."""

    ON_TRACK = InitiativeStatus.ON_TRACK.value, InitiativeStatus.ON_TRACK.label
    AT_RISK = InitiativeStatus.AT_RISK.value, InitiativeStatus.AT_RISK.label
    OFF_TRACK = InitiativeStatus.OFF_TRACK.value, InitiativeStatus.OFF_TRACK.label
    DONE = InitiativeStatus.DONE.value, InitiativeStatus.DONE.label


class StatusReport(models.Model):
    """A unit's report on one initiative for one follow-up period: a status and a few words."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="reports")
    deadline = models.ForeignKey(
        Deadline, verbose_name=_("period"), on_delete=models.PROTECT, related_name="reports"
    )
    status = models.CharField(_("status"), max_length=20, choices=ReportStatus.choices)
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("status report")
        verbose_name_plural = _("status reports")
        constraints = [
            models.UniqueConstraint(fields=["initiative", "deadline"], name="one_report_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.initiative} {self.deadline.period}: {self.status}"


class Comment(models.Model):
    """Dialogue on a goal, an initiative or an agreement; replies nest one level."""

    goal = models.ForeignKey(
        Element, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    agreement = models.ForeignKey(
        Agreement, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("comment"), max_length=4000)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(goal__isnull=False, initiative__isnull=True, agreement__isnull=True)
                    | models.Q(goal__isnull=True, initiative__isnull=False, agreement__isnull=True)
                    | models.Q(goal__isnull=True, initiative__isnull=True, agreement__isnull=False)
                ),
                name="comment_has_one_subject",
            )
        ]

    def __str__(self) -> str:
        return self.body[:50]


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(models.Model):
    """A person's secret address for the annual cycle as an iCalendar feed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)

    # Creation and resets in the audit trail; never the secret itself.
    history = HistoricalRecords(excluded_fields=["token"])

    def __str__(self) -> str:
        return f"{self.user}"

    def get_absolute_url(self) -> str:
        return reverse("followup:calendar_feed", args=[self.token])
