"""Signing a person in from an identity provider, and their roles from its groups.

Both single sign-on protocols (``oidc.py``, ``saml.py``) end here: the protocol code verifies
the provider's answer and reads the person's user name, names, e-mail and groups from it; this
module finds or creates the person and brings their group roles up to date.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from pejling.core.history import delete_as, save_as
from pejling.organisation.models import Membership, MembershipSource
from pejling.organisation.permissions import forget_memberships
from pejling.sso.models import GroupRole

USERNAME_MAX_LENGTH = 150


class IdentityRefused(Exception):
    """The identity provider vouched for someone who may not sign in to Pejling."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def find_person(username: str) -> Any | None:
    """The person with this user name: the exact spelling first, else ignoring case."""
    User = get_user_model()
    exact = User.objects.filter(username=username).first()
    if exact is not None:
        return exact
    return User.objects.filter(username__iexact=username).order_by("pk").first()


def _max_length(user: Any, field: str) -> int | None:
    return getattr(user._meta.get_field(field), "max_length", None)


@transaction.atomic
def sign_in_identity(
    *,
    protocol: str,
    username: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    groups: Iterable[str] | None = None,
) -> Any:
    """The person the identity provider vouched for, created or brought up to date.

    ``groups`` None means the provider sent no groups (or Pejling is not set to read them):
    the person's roles are then left as they are. Raises ``IdentityRefused``.
    """
    username = (username or "").strip()
    if not username:
        raise IdentityRefused(
            _("The identity provider did not say who you are (no user name was sent).")
        )
    if len(username) > USERNAME_MAX_LENGTH:
        raise IdentityRefused(
            _("The user name from the identity provider is longer than %(max)d characters.")
            % {"max": USERNAME_MAX_LENGTH}
        )
    user = find_person(username)
    if user is None:
        if not getattr(settings, "PEJLING_SSO_CREATE_USERS", True):
            raise IdentityRefused(
                _(
                    "There is no person with the user name %(username)s in Pejling, and "
                    "signing in does not add people here. Ask the strategy office to add you."
                )
                % {"username": username}
            )
        user = get_user_model()(username=username)
        user.set_unusable_password()
    elif not user.is_active:
        raise IdentityRefused(_("Your account in Pejling is deactivated."))

    changed = user.pk is None
    for field, value in (("first_name", first_name), ("last_name", last_name), ("email", email)):
        value = (value or "").strip()[: _max_length(user, field)]
        if value and getattr(user, field) != value:
            setattr(user, field, value)
            changed = True
    if changed:
        user.save()
    if groups is not None:
        apply_group_roles(user, groups)
    return user


def roles_for_groups(groups: Iterable[str]) -> set[tuple[int, str]]:
    """(unit id, role) pairs the given groups give."""
    names = {g.strip() for g in groups if g and g.strip()}
    if not names:
        return set()
    return set(GroupRole.objects.filter(group__in=names).values_list("unit_id", "role"))


@transaction.atomic
def apply_group_roles(user: Any, groups: Iterable[str]) -> tuple[int, int]:
    """Replace the person's single-sign-on memberships by those ``groups`` give.

    Memberships granted in Pejling (source "local") are never changed. Returns the number of
    memberships added and removed; both are recorded in the history, by the person.
    """
    wanted = roles_for_groups(groups)
    held = {
        (m.unit_id, m.role): m for m in Membership.objects.select_for_update().filter(user=user)
    }
    added = removed = 0
    for key, membership in held.items():
        if membership.source == MembershipSource.SSO and key not in wanted:
            delete_as(membership, user, reason="sso")
            removed += 1
    for unit_id, role in sorted(wanted - held.keys()):
        save_as(
            Membership(user=user, unit_id=unit_id, role=role, source=MembershipSource.SSO),
            user,
            reason="sso",
        )
        added += 1
    forget_memberships(user)
    return added, removed
