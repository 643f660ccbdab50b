"""Board reports: analyses per goal and follow-up period, and the report workflow
(a report made of sections, each draft → ready → approved, finalised and frozen)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from pejling.agreements.models import Initiative
from pejling.followup.models import Deadline
from pejling.organisation.models import Unit
from pejling.strategy.models import Element


class Assessment(models.TextChoices):
    """The writer's own judgement of a goal in a period (may differ from the computed status)."""

    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Off track")
    ACHIEVED = "achieved", _("Achieved")


class Analysis(models.Model):
    """A unit's analysis of a goal (optionally of one initiative towards it) for one period:
    what happened, why, what now, as Markdown, with an assessment."""

    goal = models.ForeignKey(
        Element, verbose_name=_("goal"), on_delete=models.PROTECT, related_name="analyses"
    )
    initiative = models.ForeignKey(
        Initiative,
        verbose_name=_("initiative"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="analyses",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="analyses"
    )
    period = models.ForeignKey(
        Deadline, verbose_name=_("period"), on_delete=models.PROTECT, related_name="analyses"
    )
    body = models.TextField(_("analysis"), max_length=20000, blank=True)
    assessment = models.CharField(_("assessment"), max_length=20, choices=Assessment.choices)
    deviation_reason = models.TextField(
        _("why the assessment differs from the computed status"), max_length=2000, blank=True
    )
    computed_status = models.CharField(
        _("computed status"), max_length=20, blank=True, editable=False
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["period__due_date", "goal__position", "unit__path"]
        verbose_name = _("analysis")
        verbose_name_plural = _("analyses")
        constraints = [
            models.UniqueConstraint(
                fields=["goal", "unit", "period"],
                condition=models.Q(initiative__isnull=True),
                name="one_goal_analysis_per_unit_period",
            ),
            models.UniqueConstraint(
                fields=["goal", "initiative", "period"],
                condition=models.Q(initiative__isnull=False),
                name="one_initiative_analysis_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.goal} · {self.unit} · {self.period.period}"


class ReportKind(models.TextChoices):
    INTERIM = "interim", _("Interim report")
    ANNUAL = "annual", _("Annual report")


class ReportState(models.TextChoices):
    OPEN = "open", _("In progress")
    FINALISED = "finalised", _("Finalised")


class Report(models.Model):
    """A report to the board or the council for one follow-up period."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=20, choices=ReportKind.choices, default=ReportKind.INTERIM
    )
    period = models.ForeignKey(
        Deadline, verbose_name=_("period"), on_delete=models.PROTECT, related_name="board_reports"
    )
    state = models.CharField(
        _("state"), max_length=20, choices=ReportState.choices, default=ReportState.OPEN
    )
    copied_from = models.ForeignKey(
        "self",
        verbose_name=_("copied from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="copies",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("finalised by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    finalised_at = models.DateTimeField(_("finalised"), null=True, blank=True)
    # The document as it stood at finalisation (figures, statuses, analyses, charts), in the
    # language it was finalised in; a finalised report is always shown from this copy.
    snapshot = models.JSONField(_("frozen content"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-period__due_date", "title"]
        verbose_name = _("board report")
        verbose_name_plural = _("board reports")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("board_reports:report_detail", args=[self.pk])

    @property
    def is_finalised(self) -> bool:
        return self.state == ReportState.FINALISED


class SectionKind(models.TextChoices):
    INTRODUCTION = "introduction", _("Introduction")
    THEME = "theme", _("Theme: goals, figures and analyses")
    COMPLIANCE = "compliance", _("Compliance with the agreements")
    AT_RISK = "at_risk", _("Initiatives at risk")
    PORTFOLIO = "portfolio", _("Development portfolio")
    CLOSING = "closing", _("Closing")


class SectionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    READY = "ready", _("Ready for approval")
    APPROVED = "approved", _("Approved")


class Section(models.Model):
    """A chapter of a report, assigned to a unit and a person, with its own small workflow."""

    report = models.ForeignKey(
        Report, verbose_name=_("report"), on_delete=models.CASCADE, related_name="sections"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=20, choices=SectionKind.choices)
    title = models.CharField(_("title"), max_length=200)
    theme = models.ForeignKey(
        Element,
        verbose_name=_("theme"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("text"), max_length=20000, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=SectionState.choices, default=SectionState.DRAFT
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("responsible unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="report_sections",
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["reminded_at"])

    class Meta:
        ordering = ["report", "position", "pk"]
        verbose_name = _("report section")
        verbose_name_plural = _("report sections")

    def __str__(self) -> str:
        return self.title

    def is_late(self, today: object) -> bool:
        return (
            self.due_date is not None and self.state == SectionState.DRAFT and self.due_date < today  # type: ignore[operator]
        )


class DocumentFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    DOCX = "docx", "Word"
    XLSX = "xlsx", "Excel"


class DocumentKind(models.TextChoices):
    AGREEMENT = "agreement", _("Annual agreement")
    FOLLOWUP = "followup", _("Follow-up report")
    STRATEGY = "strategy", _("Strategy")
    REPORT = "report", _("Board report")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being built")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class DocumentJob(models.Model):
    """A document asked for in the web: built by the background worker, then downloaded."""

    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    format = models.CharField(_("format"), max_length=10, choices=DocumentFormat.choices)
    language = models.CharField(_("language"), max_length=10)
    params = models.JSONField(default=dict)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    filename = models.CharField(max_length=200, blank=True)
    content = models.BinaryField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.filename or f"{self.kind}.{self.format}"
