"""The organisation's services: units, unit levels and memberships, written by the strategy
office (or the system, when a package is loaded), validated and with history."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from pejling.core.history import SYSTEM
from pejling.organisation import services
from pejling.organisation.models import Membership, Role, Unit, UnitLevel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def test_the_strategy_office_gives_a_role_and_the_history_names_it(org):
    membership = services.membership_create(
        by=org.office, user=org.employee, unit=org.sibling, role=Role.EDITOR, title="Editor"
    )
    assert membership.history.get().history_user == org.office


@pytest.mark.parametrize("who", ["head", "executive", "employee"])
def test_only_the_strategy_office_changes_roles(org, who):
    with pytest.raises(PermissionDenied):
        services.membership_create(
            by=getattr(org, who), user=org.employee, unit=org.sibling, role=Role.EDITOR
        )
    assert not Membership.objects.filter(unit=org.sibling, role=Role.EDITOR).exists()


def test_a_person_has_each_role_on_a_unit_once(org):
    with pytest.raises(ValidationError, match="already has this role"):
        services.membership_create(by=org.office, user=org.head, unit=org.unit, role=Role.UNIT_HEAD)


def test_an_unchanged_membership_is_not_saved_again(org):
    membership = Membership.objects.get(user=org.head, unit=org.unit, role=Role.UNIT_HEAD)
    rows = membership.history.count()
    services.membership_update(
        by=org.office, membership=membership, title=membership.title, ends_on=None
    )
    assert membership.history.count() == rows
    services.membership_update(by=org.office, membership=membership, title="Acting", ends_on=None)
    assert membership.history.count() == rows + 1


def test_the_system_acts_with_no_user_in_the_history(org):
    level = services.unit_level_save(
        level=UnitLevel(depth=9, name="Team", name_plural="Teams"), by=SYSTEM
    )
    unit = services.unit_create(
        by=SYSTEM, parent=org.unit, unit=Unit(code="team-x", name="Team X", level=level)
    )
    assert unit.history.get().history_user is None
    assert level.pk is not None


def test_a_unit_cannot_be_moved_below_itself(org):
    org.refresh()
    with pytest.raises(ValidationError, match="below itself"):
        services.unit_move(by=org.office, unit=org.centre_a, parent=org.dept_a1)
    org.refresh()
    assert org.dept_a1.get_parent() == org.centre_a


def test_a_unit_is_validated_before_it_is_created(org):
    with pytest.raises(ValidationError):
        services.unit_create(
            by=org.office, parent=None, unit=Unit(code=org.unit.code, name="", level=org.unit.level)
        )
    assert Unit.objects.filter(code=org.unit.code).count() == 1
