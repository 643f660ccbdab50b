"""The development portfolio: challenges and ideas with their user journeys, workshops where
they are collected, leadership teams that decide on them, assignments that carry them through
develop–test–implement, and the benefits they realise and where freed capacity is reinvested.

An assignment points down to an initiative in its owner unit's annual agreement: the initiative
is the one copy of the fields both share (title and goals), so portfolio and cascade are one
chain.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from pejling.agreements.models import Initiative
from pejling.indicators.models import Indicator
from pejling.organisation.models import Unit
from pejling.strategy.models import Element

USER = settings.AUTH_USER_MODEL


class Workshop(models.Model):
    """A dialogue workshop where staff describe their challenges and user journeys."""

    title = models.CharField(_("title"), max_length=200)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    units = models.ManyToManyField(
        Unit, verbose_name=_("participants' units"), related_name="workshops", blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        USER, verbose_name=_("recorded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-held_on", "pk"]
        verbose_name = _("workshop")
        verbose_name_plural = _("workshops")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("portfolio:workshop_detail", args=[self.pk])


class ChallengeKind(models.TextChoices):
    CHALLENGE = "challenge", _("Challenge")
    IDEA = "idea", _("Idea")


class ChallengeState(models.TextChoices):
    """Where a challenge stands. Only a decision moves it past "on the agenda"."""

    SUBMITTED = "submitted", _("Submitted")
    ON_AGENDA = "on_agenda", _("On the agenda")
    ASSIGNED = "assigned", _("Assigned")
    PARKED = "parked", _("Parked")
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged")


OPEN_STATES = (ChallengeState.SUBMITTED, ChallengeState.ON_AGENDA, ChallengeState.PARKED)


class Challenge(models.Model):
    """A challenge or an idea, submitted by anyone or recorded at a workshop."""

    kind = models.CharField(
        _("kind"), max_length=20, choices=ChallengeKind.choices, default=ChallengeKind.CHALLENGE
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="challenges"
    )
    goals = models.ManyToManyField(
        Element, verbose_name=_("themes and goals"), related_name="challenges", blank=True
    )
    links = models.TextField(
        _("links"), blank=True, help_text=_("Attachments as links, one address per line.")
    )
    workshop = models.ForeignKey(
        Workshop,
        verbose_name=_("workshop"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="challenges",
    )
    state = models.CharField(
        _("state"), max_length=20, choices=ChallengeState.choices, default=ChallengeState.SUBMITTED
    )
    parked_until = models.DateField(_("parked until"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
    )
    submitted_by = models.ForeignKey(
        USER, verbose_name=_("submitted by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("portfolio:challenge_detail", args=[self.pk])

    @property
    def link_list(self) -> list[str]:
        return [line.strip() for line in self.links.splitlines() if line.strip()]

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class Support(models.Model):
    """One person's support for a challenge: at most one each."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        constraints = [
            models.UniqueConstraint(fields=["challenge", "user"], name="one_support_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.challenge}"


class ChallengeComment(models.Model):
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("comment"), max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return self.body[:60]


class JourneyStep(models.Model):
    """One step of a challenge's user journey: who acts, what happens, what hurts, how it feels."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="journey_steps")
    position = models.PositiveSmallIntegerField(_("position"))
    actor = models.CharField(_("who acts"), max_length=200)
    action = models.TextField(_("what happens"))
    pain_point = models.TextField(_("what hurts"), blank=True)
    feeling = models.PositiveSmallIntegerField(
        _("feeling (1–5)"),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 is very bad, 5 is very good."),
    )
    opportunity = models.TextField(_("opportunity"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["challenge", "position", "pk"]
        verbose_name = _("journey step")
        verbose_name_plural = _("journey steps")
        constraints = [
            models.CheckConstraint(
                condition=Q(feeling__gte=1) & Q(feeling__lte=5), name="journey_feeling_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.actor}"


class LeadershipTeam(models.Model):
    """A named group of people from several levels that decides on challenges (ledningsteam)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    chair = models.ForeignKey(
        USER, verbose_name=_("chair"), on_delete=models.PROTECT, related_name="chaired_teams"
    )
    members: models.ManyToManyField = models.ManyToManyField(
        USER, verbose_name=_("members"), related_name="leadership_teams", blank=True
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("leadership team")
        verbose_name_plural = _("leadership teams")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:team_detail", args=[self.pk])


class Meeting(models.Model):
    team = models.ForeignKey(
        LeadershipTeam, verbose_name=_("team"), on_delete=models.PROTECT, related_name="meetings"
    )
    held_on = models.DateField(_("date"))
    notes = models.TextField(_("notes"), blank=True)
    agenda = models.ManyToManyField(
        Challenge, verbose_name=_("agenda"), related_name="meetings", blank=True
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")

    def __str__(self) -> str:
        return f"{self.team} {self.held_on.isoformat()}"

    def get_absolute_url(self) -> str:
        return reverse("portfolio:meeting_detail", args=[self.pk])


class DecisionKind(models.TextChoices):
    ASSIGN = "assign", _("Assign")
    PARK = "park", _("Park")
    REJECT = "reject", _("Reject")
    MERGE = "merge", _("Merge")


DECISION_STATE = {
    DecisionKind.ASSIGN: ChallengeState.ASSIGNED,
    DecisionKind.PARK: ChallengeState.PARKED,
    DecisionKind.REJECT: ChallengeState.REJECTED,
    DecisionKind.MERGE: ChallengeState.MERGED,
}


class Decision(models.Model):
    """What a leadership team decided on a challenge, when, by whom and why."""

    challenge = models.ForeignKey(
        Challenge, verbose_name=_("challenge"), on_delete=models.PROTECT, related_name="decisions"
    )
    team = models.ForeignKey(
        LeadershipTeam, verbose_name=_("team"), on_delete=models.PROTECT, related_name="decisions"
    )
    meeting = models.ForeignKey(
        Meeting,
        verbose_name=_("meeting"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
    )
    kind = models.CharField(_("decision"), max_length=10, choices=DecisionKind.choices)
    decided_on = models.DateField(_("date"))
    decided_by = models.ForeignKey(
        USER, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+"
    )
    rationale = models.TextField(_("rationale"))
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lead = models.ForeignKey(
        USER,
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    parked_until = models.DateField(_("parked until"), null=True, blank=True)
    merged_into = models.ForeignKey(
        Challenge,
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_on", "-pk"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.challenge}"


class AssignmentOrigin(models.TextChoices):
    DECISION = "decision", _("Decision on a challenge")
    TOP_DOWN = "top_down", _("Given by the executive board or a committee")


class Stage(models.TextChoices):
    EXPLORE = "explore", _("Explore")
    DEVELOP = "develop", _("Develop")
    TEST = "test", _("Test")
    IMPLEMENT = "implement", _("Implement")
    IN_OPERATION = "in_operation", _("In operation")
    STOPPED = "stopped", _("Stopped")


STAGE_ORDER = [Stage.EXPLORE, Stage.DEVELOP, Stage.TEST, Stage.IMPLEMENT, Stage.IN_OPERATION]


class Assignment(models.Model):
    """An assignment (uppdrag, opgave, oppdrag): from a decision on a challenge, or top-down.

    Once linked to an initiative in its owner unit's annual agreement, the initiative holds the
    shared fields: ``shown_title`` and ``shown_goals`` read them from there."""

    origin = models.CharField(_("origin"), max_length=10, choices=AssignmentOrigin.choices)
    decision = models.OneToOneField(
        Decision,
        verbose_name=_("decision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignment",
    )
    issued_by = models.CharField(
        _("given by"),
        max_length=200,
        blank=True,
        help_text=_("The executive board or committee that gave a top-down assignment."),
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="assignments"
    )
    lead = models.ForeignKey(
        USER,
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_assignments",
    )
    goals = models.ManyToManyField(
        Element, verbose_name=_("goals"), related_name="assignments", blank=True
    )
    year = models.PositiveSmallIntegerField(_("year"))
    due_date = models.DateField(_("report by"), null=True, blank=True)
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.EXPLORE
    )
    stopped_reason = models.TextField(_("reason for stopping"), blank=True)
    initiative = models.OneToOneField(
        Initiative,
        verbose_name=_("initiative in the annual agreement"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignment",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "unit__path", "pk"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.CheckConstraint(
                condition=~Q(stage="stopped") | ~Q(stopped_reason=""),
                name="stopped_assignment_has_reason",
            )
        ]

    def __str__(self) -> str:
        return self.shown_title

    def get_absolute_url(self) -> str:
        return reverse("portfolio:assignment_detail", args=[self.pk])

    @property
    def shown_title(self) -> str:
        return self.initiative.title if self.initiative_id else self.title  # type: ignore[union-attr]

    def shown_goals(self) -> list[Element]:
        """The goals, from the initiative when linked (prefetch ``initiative__goals``)."""
        source = self.initiative if self.initiative_id else self
        return list(source.goals.all())  # type: ignore[union-attr]


class StageRecord(models.Model):
    """One stage of an assignment: its dates and a note; a test also says what was tested where
    and what was learnt."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="stages")
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    started_on = models.DateField(_("started"))
    ended_on = models.DateField(_("ended"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    tested_what = models.TextField(_("what was tested"), blank=True)
    tested_where = models.CharField(_("where"), max_length=300, blank=True)
    learnt = models.TextField(_("what was learnt"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["assignment", "started_on", "pk"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "stage"], name="one_record_per_stage"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="stage_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}: {self.get_stage_display()}"

    def clean(self) -> None:
        if self.ended_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": _("A stage cannot end before it starts.")})


class BenefitClass(models.TextChoices):
    FINANCIAL = "financial", _("Financial (leaves the budget)")
    FREED_CAPACITY = "freed_capacity", _("Freed capacity (stays and is redeployed)")
    QUALITY = "quality", _("Quality")


class Measure(models.TextChoices):
    HOURS = "hours", _("hours")
    KRONOR = "kronor", _("kronor")
    OTHER = "other", _("other")


class Benefit(models.Model):
    """An expected benefit of an assignment (nyttorealisering, gevinstrealisering)."""

    assignment = models.ForeignKey(
        Assignment,
        verbose_name=_("assignment"),
        on_delete=models.CASCADE,
        related_name="benefits",
    )
    description = models.CharField(_("benefit"), max_length=300)
    stakeholder = models.CharField(_("for whom"), max_length=200)
    goal = models.ForeignKey(
        Element,
        verbose_name=_("goal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="benefits",
    )
    indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("indicator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="benefits",
    )
    benefit_class = models.CharField(_("class"), max_length=20, choices=BenefitClass.choices)
    measure = models.CharField(_("measured in"), max_length=10, choices=Measure.choices)
    measure_label = models.CharField(_("unit of measure"), max_length=50, blank=True)
    owner = models.ForeignKey(
        USER,
        verbose_name=_("benefit owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_benefits",
    )
    baseline = models.DecimalField(
        _("baseline"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["assignment", "pk"]
        verbose_name = _("benefit")
        verbose_name_plural = _("benefits")
        constraints = [
            models.CheckConstraint(
                condition=~Q(benefit_class="freed_capacity") | Q(measure__in=["hours", "kronor"]),
                name="freed_capacity_in_hours_or_kronor",
            )
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def measure_shown(self) -> str:
        return self.measure_label if self.measure == Measure.OTHER else self.get_measure_display()


class BenefitYear(models.Model):
    """A benefit's expected value for one year (optionally pessimistic / optimistic) and its
    realised value with the source. With an indicator, realised values come from there."""

    benefit = models.ForeignKey(Benefit, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField(_("year"))
    expected = models.DecimalField(
        _("expected (likely)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    pessimistic = models.DecimalField(
        _("pessimistic"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    optimistic = models.DecimalField(
        _("optimistic"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    realised = models.DecimalField(
        _("realised"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    realised_source = models.CharField(_("source"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["benefit", "year"]
        verbose_name = _("benefit year")
        verbose_name_plural = _("benefit years")
        constraints = [
            models.UniqueConstraint(fields=["benefit", "year"], name="one_benefit_year"),
            models.CheckConstraint(
                condition=Q(pessimistic__isnull=True)
                | Q(optimistic__isnull=True)
                | Q(optimistic__gte=models.F("pessimistic")),
                name="benefit_pessimistic_not_above_optimistic",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.benefit} {self.year}"


class Placement(models.TextChoices):
    REINVESTED = "reinvested", _("Reinvested")
    RETURNED = "returned", _("Returned to the budget")


class LedgerEntry(models.Model):
    """Where freed capacity of a benefit went: reinvested in a unit (for a purpose or an
    assignment), or returned to the budget. Freed = reinvested + returned + not yet placed."""

    benefit = models.ForeignKey(
        Benefit,
        verbose_name=_("freed by"),
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    placement = models.CharField(_("placement"), max_length=12, choices=Placement.choices)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("reinvested in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reinvestments",
    )
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    assignment = models.ForeignKey(
        Assignment,
        verbose_name=_("for assignment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reinvestments",
    )
    decided_on = models.DateField(_("when"))
    decided_by = models.CharField(_("decided by"), max_length=200)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "decided_on", "pk"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_amount_positive"),
            models.CheckConstraint(
                condition=~Q(placement="reinvested") | Q(unit__isnull=False),
                name="reinvestment_names_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_placement_display()} {self.amount} ({self.year})"


def stage_index(stage: str) -> int:
    return STAGE_ORDER.index(Stage(stage)) if stage in STAGE_ORDER else -1


def today() -> date:
    from django.utils import timezone

    return timezone.localdate()


ZERO = Decimal(0)
