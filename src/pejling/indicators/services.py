"""Writes on indicators and the goals they measure. Only the strategy office changes them (or
the system, ``SYSTEM``, loading a strategy package); values come in through imports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from pejling.core.history import SYSTEM, StateConflictError, delete_as, save_as
from pejling.indicators import aggregate
from pejling.indicators.fetching import next_run
from pejling.indicators.models import (
    AreaMapping,
    FetchStatus,
    Indicator,
    IndicatorValue,
    KpiGoal,
    Schedule,
    SourceFetch,
)
from pejling.indicators.validation import sum_problem
from pejling.organisation.models import Unit
from pejling.organisation.permissions import is_strategy_office
from pejling.strategy import services as strategy_services
from pejling.strategy.models import Element, MeasureKind


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
def indicator_archive(*, indicator: Indicator, by: Any, archived: bool = True) -> Indicator:
    """Archive an indicator (kept with its values, goals and history; left out of the lists
    and of imports), or bring it back. The row is locked and only the field saved."""
    _require_office(by)
    locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
    if (locked.archived_at is not None) == archived:
        return locked
    locked.archived_at = timezone.now() if archived else None
    save_as(locked, by, update_fields=["archived_at"])
    return locked


@transaction.atomic
def indicator_delete(*, indicator: Indicator, by: Any) -> None:
    """Remove an indicator; refused while goals, other indicators or values use it (archive it
    instead once values exist)."""
    _require_office(by)
    if IndicatorValue.objects.filter(indicator=indicator).exists():
        raise ValidationError(
            _("%(indicator)s has values: archive it instead of removing it.")
            % {"indicator": indicator}
        )
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
def goal_measure_save(
    *,
    goal: Element,
    indicator: Indicator,
    unit: Unit | None,
    baseline_value: Decimal | None,
    baseline_date: date | None,
    target_value: Decimal | None,
    target_date: date | None,
    by: Any,
    expected_version: int | None = None,
) -> KpiGoal:
    """Link a goal to the indicator that measures it, with its baseline and target: the goal
    becomes a KPI goal; the goal's version guards against a lost update."""
    _require_office(by)
    if indicator.is_archived:
        raise ValidationError({"indicator": _("An archived indicator cannot measure a goal.")})
    goal.measure_kind = MeasureKind.KPI
    goal.baseline_value, goal.baseline_date = baseline_value, baseline_date
    goal.target_value, goal.target_date = target_value, target_date
    strategy_services.element_save(element=goal, by=by, expected_version=expected_version)
    kpi = KpiGoal.objects.select_for_update().filter(goal=goal).first() or KpiGoal(goal=goal)
    kpi.indicator, kpi.unit = indicator, unit
    return kpi_goal_save(kpi=kpi, by=by)


@transaction.atomic
def area_mappings_set(*, source: str, areas: dict[str, tuple[str, Unit | None]], by: Any) -> int:
    """Keep which of our units each of the source's areas is (area → (its name, unit); None
    removes the mapping); how many rows changed."""
    _require_office(by)
    current = {m.area: m for m in AreaMapping.objects.select_for_update().filter(source=source)}
    changed = 0
    for area, (label, unit) in areas.items():
        existing = current.get(area)
        if unit is None:
            if existing is not None:
                delete_as(existing, by)
                changed += 1
            continue
        if existing is not None and existing.unit_id == unit.pk:
            continue
        mapping = existing or AreaMapping(source=source, area=area)
        mapping.label, mapping.unit = label[:200], unit
        mapping.full_clean()
        save_as(mapping, by)
        changed += 1
    return changed


@transaction.atomic
def fetch_save(*, fetch: SourceFetch, by: Any) -> SourceFetch:
    """Create or change what is fetched into an indicator (validated: summing only where the
    values add up; never into a ratio or an archived indicator)."""
    _require_office(by)
    indicator = fetch.indicator
    if indicator.is_derived:
        raise ValidationError(
            _("A ratio is computed from its numerator and denominator: it takes no values.")
        )
    if indicator.is_archived:
        raise ValidationError(_("An archived indicator takes no new values."))
    if fetch.sums:
        problem = sum_problem(indicator.aggregation)
        if problem:
            raise ValidationError(problem)
    fetch.next_run_at = next_run(fetch.schedule, timezone.now())
    fetch.full_clean()
    save_as(fetch, by)
    if fetch.schedule != Schedule.MANUAL:
        from pejling.indicators.tasks import ensure_schedule_check

        transaction.on_commit(ensure_schedule_check)
    return fetch


@transaction.atomic
def fetch_enqueue(*, fetch: SourceFetch, by: Any) -> SourceFetch:
    """Queue a fetch for the background worker now; refused (409) while it is queued or
    running."""
    _require_office(by)
    from pejling.indicators.tasks import run_fetch

    locked = SourceFetch.objects.select_for_update().get(pk=fetch.pk)
    if locked.status in (FetchStatus.QUEUED, FetchStatus.RUNNING):
        raise StateConflictError(_("This fetch is already queued or running."))
    locked.status = FetchStatus.QUEUED
    locked.save(update_fields=["status"])
    user_id = getattr(by, "pk", None)
    transaction.on_commit(lambda: run_fetch.enqueue(locked.pk, user_id))
    return locked


@transaction.atomic
def fetch_delete(*, fetch: SourceFetch, by: Any) -> None:
    """Stop fetching a series (the values already imported stay)."""
    _require_office(by)
    delete_as(fetch, by)


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
