from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import formats
from django.utils.translation import gettext_lazy

from pejling.core.security import guard_choice_ids


def add_validation_error(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form, on its field where the form has it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


EMPTY_CHOICE = gettext_lazy("– Choose –")


class DecimalInput(forms.TextInput):
    """A decimal as people write it in their language: "14,9" in Swedish, not "14.9000"."""

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, Decimal) and value.is_finite():
            value = format(value.normalize(), "f")
            return str(formats.localize_input(Decimal(value)))
        if isinstance(value, float):
            return str(formats.localize_input(value))
        return super().format_value(value)


def localize_numbers(field: forms.Field) -> None:
    """Number fields read and show the active language's decimal separator."""
    if isinstance(field, forms.DecimalField | forms.FloatField) and not isinstance(
        field.widget, forms.HiddenInput
    ):
        attrs = {k: v for k, v in field.widget.attrs.items() if k not in ("step", "min", "max")}
        field.widget = DecimalInput(attrs)
        field.localize = True
        field.widget.is_localized = True


def style_widgets(form: forms.BaseForm) -> None:
    """Give every widget Designsystemet's input class, and empty choices our own label."""
    for field in form.fields.values():
        localize_numbers(field)
        if isinstance(field, forms.ModelChoiceField) and field.empty_label is not None:
            field.empty_label = EMPTY_CHOICE
        elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            choices = list(cast(Iterable[Any], field.choices))
            if choices and choices[0][0] == "":
                field.choices = [("", EMPTY_CHOICE), *choices[1:]]
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            continue
        widget.attrs.setdefault("class", "ds-input")


class StyledFormMixin:
    """Designsystemet classes on every widget of the form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_widgets(self)  # type: ignore[arg-type]
        guard_choice_ids(self)  # type: ignore[arg-type]


class LoginForm(StyledFormMixin, AuthenticationForm):
    pass


class VersionedFormMixin:
    """A hidden ``version``: the version of the object the form was loaded with, sent back so
    the service can refuse a save over someone else's (optimistic locking)."""

    def __init__(self, *args: Any, version: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form = cast(forms.BaseForm, self)
        form.fields["version"] = forms.IntegerField(
            required=False, min_value=1, widget=forms.HiddenInput
        )
        instance = getattr(self, "instance", None)
        if version is None and instance is not None and instance.pk:
            version = instance.version
        form.fields["version"].initial = version

    def loaded_version(self) -> int | None:
        return cast(forms.BaseForm, self).cleaned_data.get("version")

    def show_current_version(self, current_version: int) -> None:
        """After a refused save: keep the person's input, and carry the version now stored, so
        saving again (having seen the other changes) is a deliberate choice."""
        form = cast(forms.BaseForm, self)
        data = cast(QueryDict, form.data).copy()
        data[form.add_prefix("version")] = str(current_version)
        form.data = data
