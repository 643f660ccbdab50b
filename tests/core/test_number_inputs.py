"""Forms show and read decimals as people write them in their language."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import translation

from pejling.core.forms import StyledFormMixin


class _Form(StyledFormMixin, forms.Form):
    target = forms.DecimalField(max_digits=12, decimal_places=4)


def test_a_decimal_is_shown_without_trailing_zeros_in_the_readers_language() -> None:
    with translation.override("sv"):
        html = str(_Form(initial={"target": Decimal("14.9000")})["target"])
        assert 'value="14,9"' in html and 'inputmode="decimal"' in html
        form = _Form({"target": "1234,5"})
        assert form.is_valid() and form.cleaned_data["target"] == Decimal("1234.5")
    with translation.override("en"):
        assert 'value="14.9"' in str(_Form(initial={"target": Decimal("14.9000")})["target"])
        assert 'value="1800"' in str(_Form(initial={"target": Decimal("1.8E+3")})["target"])
