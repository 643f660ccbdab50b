from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pejling.core.forms import StyledFormMixin
from pejling.indicators.imports import MAX_UPLOAD_BYTES
from pejling.indicators.models import Aggregation, Indicator


class ImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV or Excel (xlsx) with columns for unit, period, value and, unless chosen below, indicator."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    indicator = forms.ModelChoiceField(
        label=_("Indicator"),
        queryset=Indicator.objects.exclude(aggregation=Aggregation.RATIO),
        required=False,
        help_text=_("For files without an indicator column."),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is too large (at most 200 MB)."))
        name = upload.name.lower()
        if not name.endswith((".csv", ".txt", ".tsv", ".xlsx", ".xlsm")):
            raise forms.ValidationError(_("Only CSV and Excel (xlsx) files can be imported."))
        return upload
