"""What the organisation publishes to citizens: one row of settings (the public site switched
on or off, what may be shown, the contact point and licence of the open data, the
accessibility statement) and the strategy office's choice per strategy and per indicator.

Which rows are public is decided in one place, ``publication/selectors.py``; these models
only hold the choices. Every change is kept in the history, like the other models.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from pejling.core.history import KeepsLoadedValues


class AgreementExposure(models.TextChoices):
    NONE = "none", _("No annual agreements")
    PUBLISHED = "published", _("Published annual agreements")
    AGREED = "agreed", _("Agreed and published annual agreements")


class Licence(models.TextChoices):
    CC0 = "http://creativecommons.org/publicdomain/zero/1.0/", _("CC0 1.0 (public domain)")
    CC_BY = "http://creativecommons.org/licenses/by/4.0/", _("CC BY 4.0 (attribution)")


class Compliance(models.TextChoices):
    FULL = "full", _("Fully compliant")
    PARTIAL = "partial", _("Partially compliant")
    NONE = "none", _("Not compliant")


class AssessmentMethod(models.TextChoices):
    SELF = "self", _("A self-assessment")
    THIRD_PARTY = "third_party", _("An assessment by a third party")


class PublicationSettings(KeepsLoadedValues):
    """The organisation's choices for its public site (one row, ``pk=1``)."""

    enabled = models.BooleanField(
        _("public site switched on"),
        default=False,
        help_text=_(
            "Citizens can read the public site and the open data without logging in. The "
            "installation must allow it too (PEJLING_PUBLIC_SITE)."
        ),
    )
    publisher_name = models.CharField(
        _("publisher"),
        max_length=200,
        blank=True,
        help_text=_("The organisation's name in the open-data catalogue. Empty: the top unit."),
    )
    contact_email = models.EmailField(
        _("contact e-mail"),
        blank=True,
        help_text=_(
            "A shared mailbox of the organisation (never a person's) for questions about the "
            "published information and the open data."
        ),
    )
    licence = models.CharField(
        _("licence of the open data"), max_length=100, choices=Licence.choices, default=Licence.CC0
    )
    agreements = models.CharField(
        _("annual agreements shown"),
        max_length=20,
        choices=AgreementExposure.choices,
        default=AgreementExposure.PUBLISHED,
        help_text=_("Drafts and submitted agreements are never public."),
    )
    show_owner_names = models.BooleanField(
        _("show the names of those responsible for initiatives"), default=False
    )
    # The accessibility statement (EU directive 2016/2102, model statement 2018/1523).
    a11y_compliance = models.CharField(
        _("compliance with WCAG 2.1 AA (EN 301 549)"),
        max_length=20,
        choices=Compliance.choices,
        default=Compliance.PARTIAL,
    )
    a11y_non_compliance = models.TextField(
        _("content that is not accessible, and why"),
        blank=True,
        help_text=_("Empty: the statement's default text."),
    )
    a11y_disproportionate = models.TextField(
        _("disproportionate burden"), blank=True, help_text=_("Empty: none is claimed.")
    )
    a11y_out_of_scope = models.TextField(
        _("content outside the scope of the law"),
        blank=True,
        help_text=_("Empty: the statement's default text."),
    )
    a11y_feedback = models.TextField(
        _("how to report a problem"),
        blank=True,
        help_text=_("Empty: the contact e-mail above."),
    )
    a11y_enforcement = models.TextField(
        _("enforcement body"),
        blank=True,
        help_text=_("Empty: the enforcement body of the installation's language."),
    )
    a11y_method = models.CharField(
        _("how it was assessed"),
        max_length=20,
        choices=AssessmentMethod.choices,
        default=AssessmentMethod.SELF,
    )
    a11y_assessed_on = models.DateField(_("date of the last assessment"), null=True, blank=True)
    a11y_prepared_on = models.DateField(_("date the statement was prepared"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("publication settings")
        verbose_name_plural = _("publication settings")

    def __str__(self) -> str:
        return str(_("publication settings"))

    def get_absolute_url(self) -> str:
        return reverse("publication:settings")

    def clean(self) -> None:
        if self.enabled and not self.contact_email:
            raise ValidationError(
                {
                    "contact_email": _(
                        "The public site needs a contact e-mail: the open-data catalogue "
                        "names it as its contact point."
                    )
                }
            )


class StrategyPublication(models.Model):
    """Whether a strategy is on the public site (only ever a published or archived one)."""

    strategy = models.OneToOneField(
        "strategy.Strategy",
        verbose_name=_("strategy"),
        on_delete=models.CASCADE,
        related_name="publication",
    )
    public = models.BooleanField(_("public"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("public strategy")
        verbose_name_plural = _("public strategies")

    def __str__(self) -> str:
        return str(self.strategy)


class IndicatorPublication(models.Model):
    """Whether an indicator's series is published (on goal pages and as open data)."""

    indicator = models.OneToOneField(
        "indicators.Indicator",
        verbose_name=_("indicator"),
        on_delete=models.CASCADE,
        related_name="publication",
    )
    public = models.BooleanField(_("public"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("public indicator")
        verbose_name_plural = _("public indicators")

    def __str__(self) -> str:
        return str(self.indicator)
