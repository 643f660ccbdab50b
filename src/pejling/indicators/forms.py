from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pejling.core.forms import StyledFormMixin, VersionedFormMixin, style_widgets
from pejling.indicators.imports import ACCEPTED_SUFFIXES, MESSAGES, RowError, accepted_name
from pejling.indicators.models import (
    Aggregation,
    Indicator,
    Schedule,
    StatisticsSource,
)
from pejling.organisation.models import Unit


class ImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV or Excel (xlsx) with columns for unit, period, value and, unless chosen below, indicator."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ACCEPTED_SUFFIXES)}),
    )
    indicator = forms.ModelChoiceField(
        label=_("Indicator"),
        queryset=Indicator.objects.exclude(aggregation=Aggregation.RATIO).filter(
            archived_at__isnull=True
        ),
        required=False,
        help_text=_("For files without an indicator column."),
    )

    def __init__(self, *args: Any, refused: RowError | None = None, **kwargs: Any) -> None:
        """``refused``: the upload handler stopped reading the file at a limit (the file is
        then missing from the form, and this says why)."""
        super().__init__(*args, **kwargs)
        if refused is not None:
            self.fields["file"].error_messages["required"] = refused.message_with_found

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if not accepted_name(upload.name):
            raise forms.ValidationError(MESSAGES["unsupported_format"])
        return upload


LANGUAGE_LABELS = {
    "sv": _("Name in Swedish"),
    "da": _("Name in Danish"),
    "nb": _("Name in Norwegian Bokmål"),
    "en": _("Name in English"),
}


class IndicatorForm(StyledFormMixin, forms.ModelForm):
    """An indicator as the strategy office edits it; the names per language are kept in
    ``names``. The code is fixed once the indicator exists (it is in files and addresses)."""

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name",
            "description",
            "measure_unit",
            "direction",
            "periodicity",
            "aggregation",
            "numerator",
            "denominator",
            "weight",
            "scale",
            "allow_negative",
            "source",
            "reported_by",
            "update_frequency",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = self.instance.names or {}
        for language, label in LANGUAGE_LABELS.items():
            self.fields[f"name_{language}"] = forms.CharField(
                label=label, required=False, max_length=200, initial=names.get(language, "")
            )
            self.fields[f"name_{language}"].widget.attrs["class"] = "ds-input"
        others = Indicator.objects.filter(archived_at__isnull=True).exclude(
            aggregation=Aggregation.RATIO
        )
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
            self.fields["code"].disabled = True
        for name in ("numerator", "denominator", "weight"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = others
        self.fields["name"].help_text = _("Shown where a language has no name of its own.")
        names = [f"name_{language}" for language in LANGUAGE_LABELS]
        self.order_fields(["code", "name", *names, "description"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.instance.names = {
            language: data[f"name_{language}"].strip()
            for language in LANGUAGE_LABELS
            if data.get(f"name_{language}", "").strip()
        }
        return data


class GoalMeasureForm(StyledFormMixin, VersionedFormMixin, forms.Form):
    """Which indicator measures a goal, for which unit, from which baseline to which target."""

    indicator = forms.ModelChoiceField(
        label=_("Indicator"), queryset=Indicator.objects.filter(archived_at__isnull=True)
    )
    unit = forms.ModelChoiceField(
        label=_("Measured for"),
        queryset=Unit.objects.filter(closed_on__isnull=True).order_by("path"),
        required=False,
        help_text=_("Empty: the whole organisation."),
    )
    baseline_value = forms.DecimalField(label=_("Baseline"), max_digits=14, decimal_places=4)
    baseline_date = forms.DateField(
        label=_("Baseline date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    target_value = forms.DecimalField(label=_("Target"), max_digits=14, decimal_places=4)
    target_date = forms.DateField(
        label=_("Target date"), widget=forms.DateInput(attrs={"type": "date"})
    )


class SourceSearchForm(StyledFormMixin, forms.Form):
    source = forms.ChoiceField(label=_("Source"), choices=StatisticsSource.choices)
    q = forms.CharField(
        label=_("Search for a series"),
        max_length=100,
        required=False,
        help_text=_("Words of its name or its id, e.g. sjukfrånvaro, FOLK1A or befolkning."),
    )


SUM = "__sum__"


class SeriesForm(forms.Form):
    """The choices for one series: a value or the sum for each other dimension, the periods,
    the schedule; the area → unit mapping is read from the posted ``area-<code>`` fields."""

    schedule = forms.ChoiceField(label=_("Fetch"), choices=Schedule.choices)

    def __init__(self, *args: Any, info: Any, initial_picks: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.info = info
        for dim in info.others:
            choices = [(c.code, c.label) for c in dim.categories]
            choices.append((SUM, _("Sum over all (the source's total where it has one)")))
            default = initial_picks.get(dim.id) or (dim.total.code if dim.total else SUM)
            self.fields[f"dim-{dim.id}"] = forms.ChoiceField(
                label=dim.label or dim.id, choices=choices, initial=default
            )
        time = info.dimension("time")
        if time is not None:
            codes = [c.code for c in time.categories]
            self.fields["periods"] = forms.MultipleChoiceField(
                label=_("Periods"),
                choices=[(c.code, c.label) for c in time.categories],
                required=False,
                initial=sorted(codes, reverse=True)[:4],
                widget=forms.CheckboxSelectMultiple,
                help_text=_("None chosen: the periods the source gives by default."),
            )
        self.fields["schedule"] = self.fields.pop("schedule")  # asked last
        style_widgets(self)

    def picks_and_sums(self) -> tuple[dict[str, str], list[str]]:
        picks, sums = {}, []
        for dim in self.info.others:
            value = self.cleaned_data[f"dim-{dim.id}"]
            if value == SUM:
                sums.append(dim.id)
            else:
                picks[dim.id] = value
        return picks, sums

    def labels(self) -> dict[str, dict[str, str]]:
        """The source's names of the dimensions and of the values picked, kept on the fetch
        so its page shows "Kön: Totalt (T)" rather than codes."""
        picks, _sums = self.picks_and_sums()
        out: dict[str, dict[str, str]] = {}
        for dim in self.info.others:
            named = {"label": dim.label or dim.id}
            if dim.id in picks:
                category = next((c for c in dim.categories if c.code == picks[dim.id]), None)
                if category is not None and category.label:
                    named["value"] = category.label
            out[dim.id] = named
        return out
