"""Writes on indicators and the goals they measure. Only the strategy office changes them (or
the system, ``SYSTEM``, loading a strategy package); values come in through imports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from pejling.core.history import SYSTEM, delete_as, save_as
from pejling.indicators import aggregate
from pejling.indicators.models import Indicator, IndicatorValue, KpiGoal
from pejling.organisation.permissions import is_strategy_office


def _require_office(by: Any) -> None:
    if by is not SYSTEM and not is_strategy_office(by):
        raise PermissionDenied(_("Only the strategy office can change indicators."))


@transaction.atomic
def indicator_save(*, indicator: Indicator, by: Any) -> Indicator:
    """Create or update an indicator (validated: a ratio has its parts, a weighted mean its
    weight, nothing is computed from itself)."""
    _require_office(by)
    indicator.full_clean()
    stored_weight = (
        Indicator.objects.filter(pk=indicator.pk).values_list("weight_id", flat=True).first()
        if indicator.pk
        else None
    )
    save_as(indicator, by)
    aggregate.on_indicator_saved(
        indicator=indicator, weight_changed=stored_weight != indicator.weight_id
    )
    return indicator


@transaction.atomic
def indicator_delete(*, indicator: Indicator, by: Any) -> None:
    """Remove an indicator; refused while goals, other indicators or values use it."""
    _require_office(by)
    try:
        with transaction.atomic():
            delete_as(indicator, by)
    except (ProtectedError, RestrictedError) as exc:
        raise ValidationError(
            _("%(indicator)s is still in use and cannot be removed.") % {"indicator": indicator}
        ) from exc


@transaction.atomic
def kpi_goal_save(*, kpi: KpiGoal, by: Any) -> KpiGoal:
    """Create or update which indicator (and unit) measures a goal (validated)."""
    _require_office(by)
    kpi.full_clean()
    save_as(kpi, by)
    return kpi


@transaction.atomic
def kpi_goal_delete(*, kpi: KpiGoal, by: Any) -> None:
    _require_office(by)
    delete_as(kpi, by)


@transaction.atomic
def values_delete(
    *,
    by: Any,
    indicator: Indicator,
    unit_ids: Iterable[int] | None = None,
    periods: Iterable[str] | None = None,
) -> int:
    """Remove stored values of ``indicator`` (of some units, some periods, or all); each gets
    its history row, and the roll-up cache follows. Returns how many were removed."""
    _require_office(by)
    qs = IndicatorValue.objects.filter(indicator=indicator)
    if unit_ids is not None:
        qs = qs.filter(unit_id__in=list(unit_ids))
    if periods is not None:
        qs = qs.filter(period__in=list(periods))
    scope = list(qs.values_list("unit_id", "period"))
    if not scope:
        return 0
    qs.delete()  # history rows by signal
    aggregate.apply_value_changes(
        indicator_ids=[indicator.pk],
        periods={period for _unit, period in scope},
        unit_ids={unit for unit, _period in scope},
    )
    return len(scope)
