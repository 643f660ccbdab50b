"""Writes on strategies, their level names, elements and agreement rules. Only the strategy
office writes (or the system, ``SYSTEM``, loading a strategy package)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from pejling.core.history import SYSTEM, delete_as, next_version, save_as, save_changes_as
from pejling.organisation.permissions import is_strategy_office
from pejling.strategy.models import AgreementRule, Element, Strategy, StrategyLevel
from pejling.strategy.validation import references_problem


def _require_office(by: Any) -> None:
    if by is not SYSTEM and not is_strategy_office(by):
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
        element_references_set(element=element, by=by, references=references)
    return element


@transaction.atomic
def element_references_set(*, element: Element, by: Any, references: list[Element]) -> bool:
    """Make ``element`` reference exactly ``references`` (elements of other strategies);
    whether anything changed."""
    _require_office(by)
    problem = references_problem(element.strategy_id, (ref.strategy_id for ref in references))
    if problem:
        raise ValidationError({"references": problem})
    wanted = {ref.pk for ref in references}
    current = set(element.references.values_list("pk", flat=True))
    if wanted == current:
        return False
    element.references.remove(*(current - wanted))
    element.references.add(*(wanted - current))
    return True


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


@transaction.atomic
def strategy_level_save(*, level: StrategyLevel, by: Any) -> StrategyLevel:
    """Create or update one level of a strategy (validated)."""
    _require_office(by)
    level.full_clean()
    save_as(level, by)
    return level


def _delete_in_use(obj: Any, by: Any, message: str) -> None:
    try:
        with transaction.atomic():
            delete_as(obj, by)
    except (ProtectedError, RestrictedError) as exc:
        raise ValidationError(message) from exc


@transaction.atomic
def strategy_level_delete(*, level: StrategyLevel, by: Any) -> None:
    _require_office(by)
    if level.elements.exists():
        raise ValidationError(
            _("The level “%(name)s” still has elements and cannot be removed.")
            % {"name": level.name}
        )
    _delete_in_use(level, by, _("The level is still in use and cannot be removed."))


@transaction.atomic
def strategy_delete(*, strategy: Strategy, by: Any) -> None:
    """Remove a strategy with its elements (deepest first) and levels; refused, with nothing
    removed, while anything outside it depends on it (initiative links, assessments...)."""
    _require_office(by)
    elements = sorted(strategy.elements.select_related("level"), key=lambda e: -e.level.depth)
    try:
        with transaction.atomic():
            for element in elements:
                delete_as(element, by)
            delete_as(strategy, by)
    except (ProtectedError, RestrictedError) as exc:
        raise ValidationError(
            _("%(strategy)s is still in use and cannot be removed.") % {"strategy": strategy}
        ) from exc


@transaction.atomic
def rule_save(*, by: Any, rule: AgreementRule) -> AgreementRule:
    """Create or update an agreement rule (rules are data; the strategy office keeps them)."""
    _require_office(by)
    rule.full_clean()
    save_as(rule, by)
    return rule


@transaction.atomic
def rule_delete(*, by: Any, rule: AgreementRule) -> None:
    """Remove an agreement rule; refused while agreements justify themselves against it."""
    _require_office(by)
    if rule.justifications.exists():
        raise ValidationError(
            _("Agreements refer to the rule “%(name)s”; it cannot be removed.")
            % {"name": rule.name}
        )
    delete_as(rule, by)
