from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from pejling.agreements.models import Initiative
from pejling.core.forms import StyledFormMixin, VersionedFormMixin
from pejling.core.utils import person_name
from pejling.organisation.models import Unit
from pejling.strategy.models import Element
from pejling.strategy.selectors import readable_goals


class AgreementForm(VersionedFormMixin, StyledFormMixin, forms.Form):
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the unit wants to achieve this year, in a few sentences."),
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return person_name(obj)


class InitiativeForm(VersionedFormMixin, StyledFormMixin, forms.ModelForm):
    goals = forms.ModelMultipleChoiceField(
        label=_("Goals"),
        queryset=Element.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Link the initiative to at least one goal.")},
    )

    class Meta:
        model = Initiative
        fields = ["title", "description", "owner", "start_date", "end_date", "status", "goals"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        field_classes = {"owner": PersonChoiceField}

    def __init__(self, *args: Any, unit: Unit, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only goals the person may read: any other id is "not one of the available choices",
        # whether it exists or not. The service says why a readable goal is not in force.
        cast(forms.ModelChoiceField, self.fields["goals"]).queryset = readable_goals(
            user
        ).select_related("strategy", "level")
        user_model = get_user_model()
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = (
            user_model.objects.filter(memberships__unit__path__startswith=unit.path)
            .distinct()
            .order_by("first_name", "last_name")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end cannot be before the start."))
        return data

    def _post_clean(self) -> None:
        # The service validates the model and the goal links together; skip the ModelForm's
        # instance validation so that one rule is checked in one place.
        pass


class ReturnForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(
        label=_("What needs to change?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
