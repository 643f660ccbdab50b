from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pejling.core.forms import StyledFormMixin, VersionedFormMixin
from pejling.indicators.models import Indicator
from pejling.publication.models import PublicationSettings
from pejling.strategy.models import Strategy
from pejling.strategy.selectors import PUBLIC_STATUSES


class SettingsForm(VersionedFormMixin, StyledFormMixin, forms.ModelForm):
    """What is public and the open data's publisher, contact and licence."""

    strategies = forms.ModelMultipleChoiceField(
        label=_("Public strategies"),
        queryset=Strategy.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only published and archived strategies can be public; drafts never are."),
    )
    indicators = forms.ModelMultipleChoiceField(
        label=_("Public indicators"),
        queryset=Indicator.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "A public indicator's series is shown on its goals' pages and in the open data. "
            "A goal measured by an indicator that is not public shows its status only."
        ),
    )

    class Meta:
        model = PublicationSettings
        fields = [
            "enabled",
            "publisher_name",
            "contact_email",
            "licence",
            "agreements",
            "show_owner_names",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        public_strategies = kwargs.pop("public_strategies", [])
        public_indicators = kwargs.pop("public_indicators", [])
        super().__init__(*args, **kwargs)
        strategies = self.fields["strategies"]
        assert isinstance(strategies, forms.ModelMultipleChoiceField)
        strategies.queryset = Strategy.objects.filter(status__in=PUBLIC_STATUSES).order_by(
            "position", "title"
        )
        strategies.initial = [s.pk for s in public_strategies]
        indicators = self.fields["indicators"]
        assert isinstance(indicators, forms.ModelMultipleChoiceField)
        indicators.queryset = Indicator.objects.order_by("code")
        indicators.initial = [i.pk for i in public_indicators]


class StatementForm(VersionedFormMixin, StyledFormMixin, forms.ModelForm):
    """The accessibility statement's texts and dates."""

    class Meta:
        model = PublicationSettings
        fields = [
            "a11y_compliance",
            "a11y_non_compliance",
            "a11y_disproportionate",
            "a11y_out_of_scope",
            "a11y_feedback",
            "a11y_enforcement",
            "a11y_method",
            "a11y_assessed_on",
            "a11y_prepared_on",
        ]
        widgets = {
            "a11y_assessed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "a11y_prepared_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "a11y_non_compliance": forms.Textarea(attrs={"rows": 4}),
            "a11y_disproportionate": forms.Textarea(attrs={"rows": 3}),
            "a11y_out_of_scope": forms.Textarea(attrs={"rows": 3}),
            "a11y_feedback": forms.Textarea(attrs={"rows": 3}),
            "a11y_enforcement": forms.Textarea(attrs={"rows": 3}),
        }
