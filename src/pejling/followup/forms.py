from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pejling.core.forms import StyledFormMixin
from pejling.followup.models import AssessmentStatus


class AssessmentForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=AssessmentStatus.choices)
    justification = forms.CharField(
        label=_("Justification"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A few sentences: what has happened, what comes next."),
    )
