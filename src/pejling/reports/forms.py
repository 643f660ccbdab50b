from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from pejling.core.forms import StyledFormMixin, VersionedFormMixin
from pejling.core.utils import person_name
from pejling.followup.models import Deadline
from pejling.organisation.models import Unit
from pejling.reports.documents.generate import LANGUAGES
from pejling.reports.models import Assessment, DocumentFormat, DocumentKind, Report, ReportKind
from pejling.reports.selectors import report_periods

MARKDOWN_HELP = _(
    "Formatted text: # heading, - list, 1. numbered list, **bold**, *italic*, [link](https://…). "
    "HTML is shown as text."
)


class PeriodChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.period} {obj.year} – {obj.title}"


class AnalysisForm(VersionedFormMixin, StyledFormMixin, forms.Form):
    assessment = forms.ChoiceField(label=_("Your assessment"), choices=Assessment.choices)
    deviation_reason = forms.CharField(
        label=_("Why your assessment differs from the computed status"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    body = forms.CharField(
        label=_("Analysis: what happened, why, and what now"),
        required=False,
        max_length=20000,
        help_text=MARKDOWN_HELP,
        widget=forms.Textarea(attrs={"rows": 14}),
    )


class SectionForm(VersionedFormMixin, StyledFormMixin, forms.Form):
    body = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=20000,
        help_text=MARKDOWN_HELP,
        widget=forms.Textarea(attrs={"rows": 14}),
    )


class AssignForm(VersionedFormMixin, StyledFormMixin, forms.Form):
    unit = forms.ModelChoiceField(
        label=_("Responsible unit"),
        queryset=Unit.objects.filter(closed_on__isnull=True).order_by("path"),
        required=False,
    )
    assignee = forms.ModelChoiceField(
        label=_("Responsible person"),
        queryset=get_user_model()
        .objects.filter(is_active=True)
        .order_by("first_name", "last_name"),
        required=False,
    )
    due_date = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["assignee"]
        field.label_from_instance = person_name


class ReportCreateForm(StyledFormMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    period = PeriodChoiceField(label=_("Follow-up period"), queryset=Deadline.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=ReportKind.choices)
    copy_from = forms.ModelChoiceField(
        label=_("Start from the report"),
        queryset=Report.objects.none(),
        required=False,
        help_text=_("Copies its chapters, texts and assignments; every chapter starts as a draft."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].queryset = report_periods()  # type: ignore[attr-defined]
        self.fields["copy_from"].queryset = Report.objects.select_related("period")  # type: ignore[attr-defined]


class DocumentForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=DocumentKind.choices)
    format = forms.ChoiceField(label=_("Format"), choices=DocumentFormat.choices)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("sv", "Svenska"), ("da", "Dansk"), ("nb", "Norsk bokmål"), ("en", "English")],
    )
    unit = forms.CharField(label=_("Unit code"), max_length=50, required=False)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    period = forms.CharField(label=_("Follow-up period"), max_length=20, required=False)
    report = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_language(self) -> str:
        value = str(self.cleaned_data["language"])
        if value not in LANGUAGES:
            raise forms.ValidationError(_("Choose a language."))
        return value
