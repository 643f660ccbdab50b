"""Writes on the organisation: unit levels, units and people's roles on units (memberships).

Only the strategy office changes them (or the system, :data:`~pejling.core.history.SYSTEM`,
when a strategy package is loaded). Every write is validated, runs in a transaction and records
who made it in the history.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from pejling.core.history import SYSTEM, delete_as, history_user, save_as
from pejling.organisation.models import Membership, Unit, UnitLevel
from pejling.organisation.permissions import is_strategy_office


def _require_office(by: Any) -> None:
    if by is not SYSTEM and not is_strategy_office(by):
        raise PermissionDenied(_("Only the strategy office can change people's roles."))


def _require_office_for_units(by: Any) -> None:
    if by is not SYSTEM and not is_strategy_office(by):
        raise PermissionDenied(_("Only the strategy office can change the organisation."))


def _in_use(exc: Exception) -> ValidationError:
    return ValidationError(_("It is still in use and cannot be removed."))


# Unit levels ------------------------------------------------------------------------------------


@transaction.atomic
def unit_level_save(*, level: UnitLevel, by: Any) -> UnitLevel:
    """Create or update a unit level (validated)."""
    _require_office_for_units(by)
    level.full_clean()
    save_as(level, by)
    return level


@transaction.atomic
def unit_level_delete(*, level: UnitLevel, by: Any) -> None:
    """Remove a unit level; refused while units, rules or deadlines use it."""
    _require_office_for_units(by)
    try:
        delete_as(level, by)
    except (ProtectedError, RestrictedError) as exc:
        raise _in_use(exc) from exc


# Units ------------------------------------------------------------------------------------------


@transaction.atomic
def unit_create(*, by: Any, parent: Unit | None, unit: Unit) -> Unit:
    """Add ``unit`` (unsaved, validated) to the tree: below ``parent``, or as a root."""
    _require_office_for_units(by)
    unit.full_clean(exclude=["path", "depth", "numchild"])
    unit._history_user = history_user(by)
    if parent is None:
        return Unit.objects.add_root(instance=unit)
    return Unit.objects.add_child(parent, instance=unit)


def unit_parent_path(unit: Unit) -> str | None:
    """The tree path of ``unit``'s parent (none for a root), without a query."""
    return unit.path[: -unit.steplen] if unit.depth > 1 else None


@transaction.atomic
def unit_move(*, by: Any, unit: Unit, parent: Unit | None) -> Unit:
    """Move ``unit`` with its subtree below ``parent`` (or to the roots); the unit read afresh."""
    _require_office_for_units(by)
    if parent is not None and (parent.pk == unit.pk or parent.path.startswith(unit.path)):
        raise ValidationError({"parent": _("A unit cannot be placed below itself.")})
    if parent is not None:
        Unit.objects.move(unit, parent, "sorted-child")
    else:
        root = Unit.objects.filter(depth=1).exclude(pk=unit.pk).first()
        if root is not None:
            Unit.objects.move(unit, root, "sorted-sibling")
    return Unit.objects.get(pk=unit.pk)


@transaction.atomic
def unit_save(*, by: Any, unit: Unit, reason: str = "") -> Unit:
    """Save a changed unit (validated; its place in the tree is changed by :func:`unit_move`)."""
    _require_office_for_units(by)
    unit.full_clean(exclude=["path", "depth", "numchild"])
    save_as(unit, by, reason=reason)
    return unit


@transaction.atomic
def unit_close(*, by: Any, unit: Unit, on: date | None = None, reason: str = "") -> Unit:
    """End-date a unit (units are never deleted: their history stays readable)."""
    unit.closed_on = on or timezone.localdate()
    return unit_save(by=by, unit=unit, reason=reason)


# Memberships ------------------------------------------------------------------------------------


def _duplicate_role(user: Any, unit: Unit) -> ValidationError:
    return ValidationError(
        {
            "role": _("%(person)s already has this role on %(unit)s.")
            % {"person": user.get_username(), "unit": unit.name}
        }
    )


@transaction.atomic
def membership_create(
    *,
    by: Any,
    user: Any,
    unit: Unit,
    role: str,
    title: str = "",
    ends_on: date | None = None,
) -> Membership:
    """Give ``user`` a role on ``unit``; a person has each role on a unit at most once."""
    _require_office(by)
    if Membership.objects.filter(user=user, unit=unit, role=role).exists():
        raise _duplicate_role(user, unit)
    membership = Membership(user=user, unit=unit, role=role, title=title, ends_on=ends_on)
    membership.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            save_as(membership, by)
    except IntegrityError as exc:  # a concurrent create won the race
        raise _duplicate_role(user, unit) from exc
    return membership


@transaction.atomic
def membership_update(
    *, by: Any, membership: Membership, title: str, ends_on: date | None
) -> Membership:
    """Change the title and end of a role (saved only when one of them differs)."""
    _require_office(by)
    if membership.title == title and membership.ends_on == ends_on:
        return membership
    membership.title, membership.ends_on = title, ends_on
    membership.full_clean(validate_unique=False)
    save_as(membership, by, update_fields=["title", "ends_on"])
    return membership


@transaction.atomic
def membership_end(*, by: Any, membership: Membership, ends_on: date | None = None) -> Membership:
    """End a role on ``ends_on`` (today by default); it stops granting rights the day after."""
    _require_office(by)
    membership.ends_on = ends_on or timezone.localdate()
    save_as(membership, by, reason="ended", update_fields=["ends_on"])
    return membership


@transaction.atomic
def membership_delete(*, by: Any, membership: Membership) -> None:
    """Remove a role altogether (ending it, :func:`membership_end`, keeps it in the records)."""
    _require_office(by)
    delete_as(membership, by)


# People -----------------------------------------------------------------------------------------


@transaction.atomic
def person_save(*, by: Any, person: Any) -> Any:
    """Create or update a person's account (names and e-mail address, validated). A new
    account gets no usable password: it cannot sign in until it is given one (or uses SSO)."""
    _require_office(by)
    if person._state.adding and not person.password:
        person.set_unusable_password()
    person.full_clean(exclude=["password"])
    person.save()
    return person
