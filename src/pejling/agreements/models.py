"""Annual agreements: a unit's initiatives for a year, linked to goals, and their workflow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from pejling.agreements.validation import initiative_dates_problem
from pejling.core.utils import person_name
from pejling.organisation.models import Unit
from pejling.strategy.models import AgreementRule, Element


class AgreementState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    AGREED = "agreed", _("Agreed")
    PUBLISHED = "published", _("Published")


class Agreement(models.Model):
    """One unit's annual agreement for one year (årsaftale, verksamhetsplan)."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="agreements"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    state = models.CharField(
        _("state"), max_length=20, choices=AgreementState.choices, default=AgreementState.DRAFT
    )
    summary = models.TextField(_("summary"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    agreed_at = models.DateTimeField(_("agreed"), null=True, blank=True)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agreed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["year", "unit__path"]
        verbose_name = _("annual agreement")
        verbose_name_plural = _("annual agreements")
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="one_agreement_per_unit_year")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.year}"

    def get_absolute_url(self) -> str:
        return reverse("agreements:agreement_detail", args=[self.unit.code, self.year])

    @property
    def is_editable(self) -> bool:
        return self.state == AgreementState.DRAFT

    @property
    def is_public(self) -> bool:
        """Readable by every employee: published now, or published before a running revision."""
        return self.state == AgreementState.PUBLISHED


class InitiativeStatus(models.TextChoices):
    """The one vocabulary of an initiative's status, on every page and in the follow-up reports.

    A status report (followup) is given in a subset of it (``REPORTABLE``) and becomes the
    initiative's status through ``services.record_reported_status``, with when and by whom.
    """

    PLANNED = "planned", _("Planned")
    STARTED = "started", _("Started")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Off track")
    DONE = "done", _("Done")
    EVALUATED = "evaluated", _("Evaluated")
    CANCELLED = "cancelled", _("Cancelled")


# What a follow-up report may say of an initiative.
REPORTABLE = (
    InitiativeStatus.ON_TRACK,
    InitiativeStatus.AT_RISK,
    InitiativeStatus.OFF_TRACK,
    InitiativeStatus.DONE,
)
# The marker shown with the status's text (colour is never alone): a traffic light's tone.
STATUS_TONES = {
    InitiativeStatus.PLANNED: "neutral",
    InitiativeStatus.STARTED: "info",
    InitiativeStatus.ON_TRACK: "success",
    InitiativeStatus.AT_RISK: "warning",
    InitiativeStatus.OFF_TRACK: "danger",
    InitiativeStatus.DONE: "success",
    InitiativeStatus.EVALUATED: "success",
    InitiativeStatus.CANCELLED: "neutral",
}
# The marker's icon per tone (shown with the text, hidden from screen readers).
TONE_ICONS = {"success": "✓", "warning": "!", "danger": "✕", "info": "▶", "neutral": "○"}


@dataclass(frozen=True)
class TrafficLight:
    """A unit's (or any group's) traffic light from its initiatives' statuses: the worst one
    reported (off track, then at risk, then on track), with its tone, icon and text."""

    tone: str
    label: str

    @property
    def icon(self) -> str:
        return TONE_ICONS[self.tone]


def traffic_light(counts: Mapping[str, int]) -> TrafficLight:
    """The light of a group of initiatives, from how many there are of each status (cancelled
    ones do not count; planned and started ones have no report to judge yet)."""
    for status in (InitiativeStatus.OFF_TRACK, InitiativeStatus.AT_RISK):
        if counts.get(status):
            return TrafficLight(STATUS_TONES[status], str(status.label))
    if any(
        counts.get(s)
        for s in (InitiativeStatus.ON_TRACK, InitiativeStatus.DONE, InitiativeStatus.EVALUATED)
    ):
        return TrafficLight("success", str(InitiativeStatus.ON_TRACK.label))
    if any(n for s, n in counts.items() if s != InitiativeStatus.CANCELLED):
        return TrafficLight("neutral", gettext("No report yet"))
    return TrafficLight("neutral", gettext("No initiatives"))


class Initiative(models.Model):
    """An initiative (insats, indsats) in an agreement, linked to one or more goals."""

    agreement = models.ForeignKey(
        Agreement,
        verbose_name=_("annual agreement"),
        on_delete=models.CASCADE,
        related_name="initiatives",
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_initiatives",
    )
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=InitiativeStatus.choices,
        default=InitiativeStatus.PLANNED,
    )
    # When the status last came from a follow-up report, and who reported it (empty when set by
    # hand in the agreement).
    status_reported_at = models.DateTimeField(
        _("status reported"), null=True, blank=True, editable=False
    )
    status_reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("status reported by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    goals = models.ManyToManyField(
        Element,
        verbose_name=_("goals"),
        through="InitiativeGoal",
        related_name="initiatives",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "position", "pk"]
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="initiative_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def status_tone(self) -> str:
        return STATUS_TONES.get(InitiativeStatus(self.status), "neutral")

    @property
    def status_label(self) -> str:
        return str(self.get_status_display())

    @property
    def status_reporter(self) -> str:
        """Who reported the status (their name), or "" when it was set in the agreement."""
        user = self.status_reported_by
        return person_name(user)

    def clean(self) -> None:
        problem = initiative_dates_problem(self.start_date, self.end_date)
        if problem:
            raise ValidationError({"end_date": problem})


class InitiativeGoal(models.Model):
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="goal_links")
    goal = models.ForeignKey(Element, on_delete=models.PROTECT, related_name="initiative_links")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("goal link")
        verbose_name_plural = _("goal links")
        constraints = [
            models.UniqueConstraint(fields=["initiative", "goal"], name="unique_initiative_goal")
        ]

    def __str__(self) -> str:
        return f"{self.initiative} → {self.goal}"


class AgreementVersion(models.Model):
    """A frozen copy of an agreement as it was agreed, kept readable through later revisions."""

    agreement = models.ForeignKey(
        Agreement,
        verbose_name=_("annual agreement"),
        on_delete=models.CASCADE,
        related_name="versions",
    )
    number = models.PositiveIntegerField(_("version"))
    state = models.CharField(_("state"), max_length=20, choices=AgreementState.choices)
    content = models.JSONField(_("content"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Who froze which version when, in the audit trail (the content is the row itself, which is
    # never changed: not copied into the history).
    history = HistoricalRecords(excluded_fields=["content"])

    class Meta:
        ordering = ["agreement", "-number"]
        verbose_name = _("agreement version")
        verbose_name_plural = _("agreement versions")
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="unique_agreement_version")
        ]

    def __str__(self) -> str:
        return f"{self.agreement} v{self.number}"


class RuleJustification(models.Model):
    """Why an agreement was submitted although it breaks a rule; shown to the approver."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="rule_justifications"
    )
    rule = models.ForeignKey(AgreementRule, on_delete=models.CASCADE, related_name="justifications")
    text = models.TextField(_("justification"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rule justification")
        verbose_name_plural = _("rule justifications")
        constraints = [
            models.UniqueConstraint(fields=["agreement", "rule"], name="one_justification_per_rule")
        ]

    def __str__(self) -> str:
        return f"{self.agreement}: {self.rule}"
