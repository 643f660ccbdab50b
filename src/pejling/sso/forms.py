from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pejling.core.forms import StyledFormMixin
from pejling.organisation.models import Unit
from pejling.sso.models import GroupRole


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{'  ' * (obj.depth - 1)}{obj.name} ({obj.code})"


class GroupRoleForm(StyledFormMixin, forms.ModelForm):
    unit = UnitChoiceField(queryset=Unit.objects.order_by("path"), label=_("Unit"))

    class Meta:
        model = GroupRole
        fields = ["group", "role", "unit"]

    def clean_group(self) -> str:
        return self.cleaned_data["group"].strip()
