"""Who may do what, along the organisation tree.

A role is granted on a unit and applies to that unit's whole subtree. The memberships of a
user are read once per request and cached on the user object, so checks cost no queries; they
are also kept in the shared cache under the data generation (``memberships_of``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from pejling.core import generation
from pejling.organisation.models import Membership, Role, Unit

_CACHE_ATTR = "_pejling_memberships"

WRITE_ROLES = (Role.UNIT_HEAD, Role.EDITOR)
READ_ROLES = (Role.STRATEGY_OFFICE, Role.EXECUTIVE, Role.UNIT_HEAD, Role.EDITOR, Role.READER)


def memberships_of(user: Any) -> list[Membership]:
    """The user's current memberships, with their units: kept on the user object for the
    request, and in the shared cache under the data generation (every write of a membership
    or a unit raises it, ``organisation/apps.py``), so most pages ask the database nothing
    for them."""
    if not getattr(user, "is_authenticated", False):
        return []
    found = getattr(user, _CACHE_ATTR, None)
    if found is None:
        from django.utils import timezone

        today = timezone.localdate()
        found = generation.cached(
            ("organisation:memberships", user.pk, today.isoformat()),
            lambda: list(
                Membership.objects.filter(user=user)
                .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
                .select_related("unit", "unit__level")
            ),
        )
        setattr(user, _CACHE_ATTR, found)
    return found


def forget_memberships(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def has_role(user: Any, unit: Unit, roles: Iterable[str], *, strictly_above: bool = False) -> bool:
    """Whether the user holds one of ``roles`` on ``unit`` or on one of its ancestors."""
    wanted = set(roles)
    for membership in memberships_of(user):
        if membership.role not in wanted:
            continue
        path = membership.unit.path
        if unit.path.startswith(path) and not (strictly_above and path == unit.path):
            return True
    return False


def has_role_anywhere(user: Any, roles: Iterable[str]) -> bool:
    wanted = set(roles)
    return any(m.role in wanted for m in memberships_of(user))


def is_strategy_office(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or has_role_anywhere(
        user, [Role.STRATEGY_OFFICE]
    )


def can_see_sync_runs(user: Any) -> bool:
    """The record of organisation sync runs: the strategy office, which owns the unit tree the
    syncs change (and administrators)."""
    return is_strategy_office(user)


def can_see_overview(user: Any) -> bool:
    """The executive dashboard, the compliance matrix and assessing goals: the strategy office
    and the executive board (an executive role on any unit)."""
    return is_strategy_office(user) or has_role_anywhere(user, [Role.EXECUTIVE])


def home_unit(user: Any) -> Unit | None:
    """Where the person works: the unit of their employee membership, else of any role."""
    memberships = memberships_of(user)
    for role in (Role.MEMBER, Role.UNIT_HEAD, Role.EDITOR, Role.EXECUTIVE, Role.STRATEGY_OFFICE):
        candidates = [m.unit for m in memberships if m.role == role]
        if candidates:
            return max(candidates, key=lambda u: u.depth)
    return None


# Agreements -------------------------------------------------------------------------------


def can_read_unpublished(user: Any, unit: Unit) -> bool:
    return is_strategy_office(user) or has_role(user, unit, READ_ROLES)


def can_write_agreement(user: Any, unit: Unit) -> bool:
    """Write the agreement of ``unit``: its head or editor (or one above), or the strategy office."""
    return is_strategy_office(user) or has_role(user, unit, WRITE_ROLES)


def can_submit_agreement(user: Any, unit: Unit) -> bool:
    return is_strategy_office(user) or has_role(user, unit, [Role.UNIT_HEAD])


def can_agree_agreement(user: Any, unit: Unit) -> bool:
    """Agree: the head of a unit above, or the executive board. Never one's own unit alone."""
    if has_role(user, unit, [Role.EXECUTIVE]):
        return True
    return has_role(user, unit, [Role.UNIT_HEAD], strictly_above=True)


def can_publish_agreement(user: Any, unit: Unit) -> bool:
    return can_submit_agreement(user, unit) or can_agree_agreement(user, unit)


def compliance_subtrees(user: Any) -> list[Unit] | None:
    """Whose compliance ``user`` may see: ``None`` for every unit (``can_see_overview``), else
    the units they head, each with its subtree (a department head sees her own units); an empty
    list for no one."""
    if can_see_overview(user):
        return None
    heads = [m.unit for m in memberships_of(user) if m.role == Role.UNIT_HEAD]
    return sorted({u.pk: u for u in heads}.values(), key=lambda u: u.path)
