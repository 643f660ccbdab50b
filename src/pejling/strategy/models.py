"""Strategies as cascades of named levels of elements (bearings, themes, goals...)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from pejling.core.history import KeepsLoadedValues
from pejling.strategy.validation import parent_problem, target_date_problem, year_span_problem


class StrategyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Strategy(KeepsLoadedValues):
    """A governing document: a future narrative, a group strategy, a digitalisation strategy...

    ``parent`` is the strategy this one serves (a group strategy serves the future narrative),
    which gives the cascade. Its levels (``StrategyLevel``) name the depths of its elements.
    """

    code = models.SlugField(_("code"), max_length=50, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    body = models.TextField(_("text"), blank=True)
    start_year = models.PositiveSmallIntegerField(_("first year"))
    end_year = models.PositiveSmallIntegerField(_("last year"))
    parent = models.ForeignKey(
        "self",
        verbose_name=_("serves"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("The strategy above this one in the cascade."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=StrategyStatus.choices, default=StrategyStatus.DRAFT
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "start_year", "title"]
        verbose_name = _("strategy")
        verbose_name_plural = _("strategies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_year__gte=models.F("start_year")),
                name="strategy_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("strategy:strategy_detail", args=[self.code])

    def clean(self) -> None:
        span = year_span_problem(self.start_year, self.end_year)
        if span:
            raise ValidationError({"end_year": span})
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk and self.pk is not None:
                raise ValidationError({"parent": _("A strategy cannot serve itself.")})
            ancestor = ancestor.parent

    def covers_year(self, year: int) -> bool:
        return self.start_year <= year <= self.end_year

    @property
    def period_label(self) -> str:
        if self.start_year == self.end_year:
            return str(self.start_year)
        return f"{self.start_year}–{self.end_year}"


class StrategyLevel(models.Model):
    """The name of one depth of a strategy's elements: "theme", "focus area", "common goal"."""

    strategy = models.ForeignKey(
        Strategy, verbose_name=_("strategy"), on_delete=models.CASCADE, related_name="levels"
    )
    depth = models.PositiveSmallIntegerField(_("depth"))
    name = models.CharField(_("name"), max_length=100)
    name_plural = models.CharField(_("plural name"), max_length=100)
    holds_goals = models.BooleanField(
        _("holds goals"),
        default=False,
        help_text=_("Initiatives in annual agreements can be linked to elements of this level."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "depth"]
        verbose_name = _("strategy level")
        verbose_name_plural = _("strategy levels")
        constraints = [
            models.UniqueConstraint(fields=["strategy", "depth"], name="unique_level_depth"),
            models.CheckConstraint(condition=models.Q(depth__gte=1), name="level_depth_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class MeasureKind(models.TextChoices):
    NONE = "", _("Not measured")
    KPI = "kpi", _("Indicator (KPI) with baseline and target")
    COUNT = "count", _("Count across the organisation")
    COVERAGE = "coverage", _("Coverage of a level")
    ASSESSED = "assessed", _("Assessed by its owner")


class Element(KeepsLoadedValues):
    """One element of a strategy at one level: a bearing, a theme, a goal, a focus area..."""

    strategy = models.ForeignKey(
        Strategy, verbose_name=_("strategy"), on_delete=models.CASCADE, related_name="elements"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent element"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.ForeignKey(
        StrategyLevel, verbose_name=_("level"), on_delete=models.PROTECT, related_name="elements"
    )
    code = models.CharField(_("code"), max_length=50)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    references = models.ManyToManyField(
        "self",
        verbose_name=_("references"),
        symmetrical=False,
        blank=True,
        related_name="referenced_by",
        help_text=_("Elements of other strategies that this element builds on."),
    )

    # How a goal is measured; later capabilities evaluate these.
    measure_kind = models.CharField(
        _("measured as"), max_length=20, choices=MeasureKind.choices, blank=True, default=""
    )
    target_text = models.CharField(_("target in words"), max_length=300, blank=True)
    measure_unit = models.CharField(_("unit of measure"), max_length=50, blank=True)
    baseline_value = models.DecimalField(
        _("baseline"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    baseline_date = models.DateField(_("baseline date"), null=True, blank=True)
    target_value = models.DecimalField(
        _("target"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    target_date = models.DateField(_("target date"), null=True, blank=True)
    source = models.CharField(_("data source"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "level__depth", "position", "code"]
        verbose_name = _("strategy element")
        verbose_name_plural = _("strategy elements")
        constraints = [
            models.UniqueConstraint(fields=["strategy", "code"], name="unique_element_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("strategy:element_detail", args=[self.strategy.code, self.pk])

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.level_id and self.strategy_id and self.level.strategy_id != self.strategy_id:
            errors["level"] = _("The level belongs to another strategy.")
        if self.parent_id and self.parent is not None:
            parent = parent_problem(self.strategy_id, self.parent.strategy_id)
            if parent:
                errors["parent"] = parent
            elif self.level_id and self.level.depth != self.parent.level.depth + 1:
                errors["level"] = _("The level must be the one just below the parent's level.")
        elif self.level_id and self.level.depth != 1:
            errors["parent"] = _("An element below the first level needs a parent element.")
        target = target_date_problem(self.baseline_date, self.target_date)
        if target:
            errors["target_date"] = target
        if errors:
            raise ValidationError(errors)

    @property
    def is_goal(self) -> bool:
        return self.level.holds_goals


class RuleKind(models.TextChoices):
    EACH_TOP_ELEMENT = (
        "each_top_element",
        _(
            "At least one initiative linked to a goal under each top-level element (e.g. each theme)"
        ),
    )
    ANY_GOAL = "any_goal", _("At least one initiative linked to a goal of the strategy")


class AgreementRule(models.Model):
    """A rule the annual agreements of units of one level must meet, e.g. "every centre has
    at least one initiative linked to a common goal under each theme". Rules are data."""

    strategy = models.ForeignKey(
        Strategy, verbose_name=_("strategy"), on_delete=models.CASCADE, related_name="rules"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("rule"), max_length=30, choices=RuleKind.choices)
    unit_level = models.ForeignKey(
        "organisation.UnitLevel",
        verbose_name=_("applies to units of level"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "name"]
        verbose_name = _("agreement rule")
        verbose_name_plural = _("agreement rules")

    def __str__(self) -> str:
        return self.name
