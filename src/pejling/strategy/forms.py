from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from pejling.core.forms import StyledFormMixin, VersionedFormMixin
from pejling.strategy.models import Element, Strategy


class StrategyForm(VersionedFormMixin, StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Strategy
        fields = [
            "code",
            "title",
            "summary",
            "body",
            "start_year",
            "end_year",
            "parent",
            "status",
            "position",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "body": forms.Textarea(attrs={"rows": 8}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            cast(forms.ModelChoiceField, self.fields["parent"]).queryset = Strategy.objects.exclude(
                pk=self.instance.pk
            )


class LevelForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    name_plural = forms.CharField(label=_("Plural name"), max_length=100, required=False)
    holds_goals = forms.BooleanField(label=_("Holds goals"), required=False)


LevelFormSet = forms.formset_factory(LevelForm, extra=2, max_num=12)


class ReferenceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.strategy.title}: {obj.code} {obj.title}"


class ElementForm(VersionedFormMixin, StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Element
        fields = [
            "code",
            "title",
            "description",
            "position",
            "measure_kind",
            "target_text",
            "measure_unit",
            "baseline_value",
            "baseline_date",
            "target_value",
            "target_date",
            "source",
            "references",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "baseline_date": forms.DateInput(attrs={"type": "date"}),
            "target_date": forms.DateInput(attrs={"type": "date"}),
            "references": forms.CheckboxSelectMultiple,
        }
        field_classes = {"references": ReferenceChoiceField}

    def __init__(self, *args: Any, strategy: Strategy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["references"]).queryset = (
            Element.objects.exclude(strategy=strategy)
            .select_related("strategy")
            .order_by("strategy__title", "code")
        )
