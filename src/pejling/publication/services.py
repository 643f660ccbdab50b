"""Writes of the publisher's choices: the strategy office only, with history, all or nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from pejling.core.history import SYSTEM, next_version, save_as, save_changes_as
from pejling.indicators.models import Indicator
from pejling.organisation.permissions import is_strategy_office
from pejling.publication.models import (
    IndicatorPublication,
    PublicationSettings,
    StrategyPublication,
)
from pejling.strategy.models import Strategy
from pejling.strategy.selectors import PUBLIC_STATUSES


def can_manage_publication(user: Any) -> bool:
    """Decide what is public and preview the public site: the strategy office."""
    return user is SYSTEM or is_strategy_office(user)


def _require(by: Any) -> None:
    if not can_manage_publication(by):
        raise PermissionDenied


@transaction.atomic
def settings_save(
    *, row: PublicationSettings, by: Any, expected_version: int | None = None
) -> PublicationSettings:
    """Save the settings row (``pk=1``); a stale form is refused with what changed."""
    _require(by)
    row.pk = 1
    row.full_clean(validate_unique=False)
    if PublicationSettings.objects.filter(pk=1).exists():
        row._state.adding = False
        next_version(row, expected_version)
        save_changes_as(row, by)
    else:
        row.version = 1
        save_as(row, by)
    return row


@transaction.atomic
def strategies_publish(*, public: Iterable[Strategy], by: Any) -> None:
    """Make exactly these strategies public (drafts are refused: never public)."""
    _require(by)
    chosen = {s.pk for s in public}
    allowed = set(
        Strategy.objects.filter(pk__in=chosen, status__in=PUBLIC_STATUSES).values_list(
            "pk", flat=True
        )
    )
    for strategy in Strategy.objects.select_for_update().order_by("pk"):
        _set(StrategyPublication, "strategy", strategy, strategy.pk in allowed, by)


@transaction.atomic
def indicators_publish(*, public: Iterable[Indicator], by: Any) -> None:
    """Make exactly these indicators' series public."""
    _require(by)
    chosen = {i.pk for i in public}
    for indicator in Indicator.objects.select_for_update().order_by("pk"):
        _set(IndicatorPublication, "indicator", indicator, indicator.pk in chosen, by)


def _set(model: Any, field: str, target: Any, public: bool, by: Any) -> None:
    row = model.objects.select_for_update().filter(**{field: target}).first()
    if row is None:
        if not public:
            return  # no row means not public: nothing to write
        row = model(**{field: target})
    elif row.public == public:
        return
    row.public = public
    save_as(row, by)
