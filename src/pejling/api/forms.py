from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pejling.api.models import TokenScope
from pejling.api.tokens import MAX_EXPIRY_DAYS


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “HR sync”."),
    )
    scope = forms.ChoiceField(
        label=_("Access"), choices=TokenScope.choices, initial=TokenScope.READ
    )
    expires_in_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=MAX_EXPIRY_DAYS, initial=90
    )
