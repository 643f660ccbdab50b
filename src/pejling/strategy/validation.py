"""The strategy's rules on plain values, each in one function: the models' ``clean``, the
services and the package loader's checks call these, so a rule is written once.

Each returns the problem as a translated message, or ``None`` when the values are fine.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import date

from django.utils.translation import gettext as _


def year_span_problem(start_year: int | None, end_year: int | None) -> str | None:
    """A strategy's last year cannot come before its first."""
    if start_year and end_year and end_year < start_year:
        return _("The last year cannot be before the first year.")
    return None


def target_date_problem(baseline_date: date | None, target_date: date | None) -> str | None:
    """A goal's target date cannot come before its baseline date."""
    if baseline_date and target_date and target_date < baseline_date:
        return _("The target date cannot be before the baseline date.")
    return None


def references_problem(strategy: Hashable, referenced: Iterable[Hashable]) -> str | None:
    """An element references elements of *other* strategies only (``strategy``: its
    strategy's key, ``referenced``: the keys of the strategies of what it references)."""
    if any(other == strategy for other in referenced):
        return _("An element can only reference elements of other strategies.")
    return None


def parent_problem(strategy: Hashable, parent_strategy: Hashable) -> str | None:
    """An element's parent belongs to the same strategy."""
    if parent_strategy != strategy:
        return _("The parent element belongs to another strategy.")
    return None
