"""Writes on strategies, their level names and elements. Only the strategy office writes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from pejling.core.history import delete_as, next_version, save_as, save_changes_as
from pejling.organisation.permissions import is_strategy_office
from pejling.strategy.models import Element, Strategy, StrategyLevel


def _require_office(by: Any) -> None:
    if not is_strategy_office(by):
        raise PermissionDenied(_("Only the strategy office can change strategies."))


@transaction.atomic
def strategy_save(*, strategy: Strategy, by: Any, expected_version: int | None = None) -> Strategy:
    """Create or update a strategy (validated). ``expected_version``: the version the caller
    loaded; when someone saved in between, ``ConcurrentEditError`` says what they changed."""
    _require_office(by)
    next_version(strategy, expected_version)
    strategy.full_clean()
    save_changes_as(strategy, by)
    return strategy


@transaction.atomic
def strategy_levels_set(
    *, strategy: Strategy, by: Any, levels: list[tuple[str, str, bool]]
) -> list[StrategyLevel]:
    """Set the names of a strategy's levels, top first: ``(name, plural, holds_goals)``.

    Levels that elements still use cannot be removed.
    """
    _require_office(by)
    if not levels:
        raise ValidationError(_("A strategy needs at least one level."))
    existing = {level.depth: level for level in strategy.levels.all()}
    result = []
    for depth, (name, plural, holds_goals) in enumerate(levels, start=1):
        if not name.strip():
            raise ValidationError(_("Level %(depth)s needs a name.") % {"depth": depth})
        level = existing.pop(depth, None) or StrategyLevel(strategy=strategy, depth=depth)
        level.name = name.strip()
        level.name_plural = (plural or name).strip()
        level.holds_goals = holds_goals
        save_as(level, by)
        result.append(level)
    for level in existing.values():
        if level.elements.exists():
            raise ValidationError(
                _("The level “%(name)s” still has elements and cannot be removed.")
                % {"name": level.name}
            )
        delete_as(level, by)
    return result


@transaction.atomic
def element_save(
    *,
    element: Element,
    by: Any,
    references: list[Element] | None = None,
    expected_version: int | None = None,
) -> Element:
    _require_office(by)
    next_version(element, expected_version)
    element.full_clean()
    save_changes_as(element, by)
    if references is not None:
        if any(ref.strategy_id == element.strategy_id for ref in references):
            raise ValidationError(
                {"references": _("An element can only reference elements of other strategies.")}
            )
        element.references.set(references)
    return element


@transaction.atomic
def element_delete(*, element: Element, by: Any) -> None:
    _require_office(by)
    if element.children.exists():
        raise ValidationError(_("Remove or move the elements below it first."))
    try:
        delete_as(element, by)
    except ProtectedError as exc:
        raise ValidationError(
            _("Initiatives in annual agreements are linked to this goal; it cannot be deleted.")
        ) from exc
