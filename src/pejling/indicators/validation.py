"""The indicators' rules on plain values, each in one function: the models' ``clean``, the
services and the package loader's checks call these, so a rule is written once.

Each returns the problem as a translated message, or ``None`` when the values are fine.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _


def aggregation_problem(
    *, ratio: bool, weighted_mean: bool, numerator: bool, denominator: bool, weight: bool
) -> str | None:
    """A ratio needs a numerator and a denominator; a weighted mean needs a weight."""
    if ratio and not (numerator and denominator):
        return _("A ratio needs a numerator and a denominator.")
    if weighted_mean and not weight:
        return _("A weighted mean needs a weight measure.")
    return None


def stored_values_problem(*, ratio: bool) -> str | None:
    """A ratio is computed from its numerator and denominator: it stores no values."""
    if ratio:
        return _("A ratio is computed from its numerator and denominator: it takes no values.")
    return None


def period_kind_problem(period_kind: str, periodicity: str) -> str | None:
    """A value's period is of the indicator's periodicity (a month for a monthly indicator)."""
    if period_kind != periodicity:
        return _("The period does not match the indicator's periodicity.")
    return None


def negative_problem(value: Decimal, *, allow_negative: bool) -> str | None:
    """Values are zero or more unless the indicator allows negatives."""
    if value < 0 and not allow_negative:
        return _("The value is negative; this indicator only takes values of zero or more.")
    return None


# The aggregations whose values add up (a count, kronor, a stock): only these may be summed
# over a source's sex or age. A percentage or a mean summed over sex means nothing.
ADDITIVE_AGGREGATIONS = ("sum", "latest")


def sum_problem(aggregation: str) -> str | None:
    """Summing a source's breakdown (sex, age) is only meaningful for values that add up."""
    if aggregation not in ADDITIVE_AGGREGATIONS:
        return _(
            "Only values that add up (a sum or a stock) can be summed over a breakdown; "
            "pick one value instead."
        )
    return None


def indicator_code_problem(code: str) -> str | None:
    """A code appears in addresses and files: letters, digits, '-', '_' and '.' only."""
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
    if not code or not set(code.casefold()) <= allowed:
        return _("A code has letters a–z, digits, '-', '_' and '.' only, without spaces.")
    if code.casefold() in RESERVED_CODES:
        return _("“%(code)s” is a word the addresses use; choose another code.") % {"code": code}
    return None


# Words of the indicators' addresses (/indicators/new/, /indicators/imports/ …).
RESERVED_CODES = frozenset({"new", "imports", "goals", "units", "fetches", "areas", "template"})
