"""Writes on memberships (people's roles on units) for the API.

The pages have no membership editing yet (memberships are kept in the admin); when they get
it, these move to ``organisation/services.py``. Only the strategy office changes roles.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pejling.core.history import save_as
from pejling.organisation.models import Membership, Unit
from pejling.organisation.permissions import is_strategy_office
from pejling.strategy.models import AgreementRule


def _require_office(by: Any) -> None:
    if not is_strategy_office(by):
        raise PermissionDenied(_("Only the strategy office can change people's roles."))


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
    _require_office(by)
    if Membership.objects.filter(user=user, unit=unit, role=role).exists():
        raise ValidationError(
            {
                "role": _("%(person)s already has this role on %(unit)s.")
                % {"person": user.get_username(), "unit": unit.name}
            }
        )
    membership = Membership(user=user, unit=unit, role=role, title=title, ends_on=ends_on)
    membership.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            save_as(membership, by)
    except IntegrityError as exc:  # a concurrent create won the race
        raise ValidationError(
            {
                "role": _("%(person)s already has this role on %(unit)s.")
                % {"person": user.get_username(), "unit": unit.name}
            }
        ) from exc
    return membership


@transaction.atomic
def membership_end(*, by: Any, membership: Membership, ends_on: date | None = None) -> Membership:
    """End a role on ``ends_on`` (today by default); it stops granting rights the day after."""
    _require_office(by)
    membership.ends_on = ends_on or timezone.localdate()
    save_as(membership, by, reason="ended")
    return membership


@transaction.atomic
def rule_save(*, by: Any, rule: AgreementRule) -> AgreementRule:
    """Create or update an agreement rule (rules are data; the strategy office keeps them)."""
    if not is_strategy_office(by):
        raise PermissionDenied(_("Only the strategy office can change strategies."))
    rule.full_clean()
    save_as(rule, by)
    return rule
