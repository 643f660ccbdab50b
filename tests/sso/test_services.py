"""Signing in from an identity provider: the person, and their roles from its groups.

The protocols (OpenID Connect, SAML) are tested end to end against real identity providers in
``test_oidc.py`` and ``test_saml.py``; this file tests what both share.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from pejling.organisation.models import Membership, MembershipSource, Role
from pejling.sso.models import GroupRole
from pejling.sso.services import IdentityRefused, apply_group_roles, sign_in_identity
from tests.factories import MembershipFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The refusals are checked in English (the default language is Swedish)."""
    with translation.override("en"):
        yield


@pytest.fixture
def tree() -> dict[str, object]:
    root = UnitFactory(code="KOM", name="Kommunen")
    school = UnitFactory(parent=root, code="SKOL", name="Skolförvaltningen")
    care = UnitFactory(parent=root, code="VOF", name="Vård och omsorg")
    return {"root": root, "school": school, "care": care}


def roles(user: object) -> set[tuple[str, str, str]]:
    return set(Membership.objects.filter(user=user).values_list("unit__code", "role", "source"))


def test_a_new_person_is_created_with_names_and_email() -> None:
    user = sign_in_identity(
        protocol="oidc", username="anna.berg", first_name="Anna", last_name="Berg", email="a@x.se"
    )
    user.refresh_from_db()
    assert (user.username, user.first_name, user.last_name, user.email) == (
        "anna.berg",
        "Anna",
        "Berg",
        "a@x.se",
    )
    assert not user.has_usable_password()


def test_an_existing_person_is_found_ignoring_case_and_updated() -> None:
    existing = UserFactory(username="Anna.Berg", first_name="A", email="")
    user = sign_in_identity(protocol="saml", username="anna.berg", first_name="Anna")
    assert user.pk == existing.pk
    user.refresh_from_db()
    assert user.first_name == "Anna"
    assert user.has_usable_password()  # a local account keeps its password
    assert get_user_model().objects.count() == 1


def test_the_exact_spelling_wins_over_a_case_insensitive_match() -> None:
    UserFactory(username="ANNA")
    exact = UserFactory(username="anna")
    assert sign_in_identity(protocol="oidc", username="anna").pk == exact.pk


def test_empty_values_never_overwrite_what_is_stored() -> None:
    UserFactory(username="bo", first_name="Bo", email="bo@x.se")
    user = sign_in_identity(protocol="oidc", username="bo", first_name="", email="  ")
    user.refresh_from_db()
    assert (user.first_name, user.email) == ("Bo", "bo@x.se")


@pytest.mark.parametrize("username", ["", "   "])
def test_no_user_name_is_refused(username: str) -> None:
    with pytest.raises(IdentityRefused, match="no user name"):
        sign_in_identity(protocol="oidc", username=username)


def test_a_too_long_user_name_is_refused() -> None:
    with pytest.raises(IdentityRefused, match="longer than 150"):
        sign_in_identity(protocol="oidc", username="x" * 151)


def test_an_unknown_person_is_refused_when_creation_is_off(settings) -> None:
    settings.PEJLING_SSO_CREATE_USERS = False
    with pytest.raises(IdentityRefused, match="strategy office"):
        sign_in_identity(protocol="oidc", username="new.person")
    assert not get_user_model().objects.exists()


def test_a_deactivated_person_is_refused() -> None:
    UserFactory(username="gone", is_active=False)
    with pytest.raises(IdentityRefused, match="deactivated"):
        sign_in_identity(protocol="saml", username="gone")


def test_groups_give_roles_and_a_later_sign_in_takes_them_back(tree) -> None:
    GroupRole.objects.create(group="skol-chefer", unit=tree["school"], role=Role.UNIT_HEAD)
    GroupRole.objects.create(group="skol-chefer", unit=tree["school"], role=Role.MEMBER)
    GroupRole.objects.create(group="strategi", unit=tree["root"], role=Role.STRATEGY_OFFICE)
    user = sign_in_identity(protocol="oidc", username="cia", groups=["skol-chefer", "other"])
    assert roles(user) == {("SKOL", Role.UNIT_HEAD, "sso"), ("SKOL", Role.MEMBER, "sso")}

    sign_in_identity(protocol="oidc", username="cia", groups=["strategi"])
    assert roles(user) == {("KOM", Role.STRATEGY_OFFICE, "sso")}

    sign_in_identity(protocol="oidc", username="cia", groups=[])
    assert roles(user) == set()


def test_groups_none_leaves_roles_as_they_are(tree) -> None:
    GroupRole.objects.create(group="g", unit=tree["care"], role=Role.READER)
    user = sign_in_identity(protocol="oidc", username="dan", groups=["g"])
    sign_in_identity(protocol="oidc", username="dan", groups=None)
    assert roles(user) == {("VOF", Role.READER, "sso")}


def test_roles_granted_in_pejling_are_never_touched(tree) -> None:
    user = UserFactory(username="eva")
    MembershipFactory(user=user, unit=tree["care"], role=Role.UNIT_HEAD)
    GroupRole.objects.create(group="g", unit=tree["care"], role=Role.UNIT_HEAD)
    GroupRole.objects.create(group="g", unit=tree["school"], role=Role.READER)
    sign_in_identity(protocol="saml", username="eva", groups=["g"])
    # The local grant stays local; only the missing one is added from the group.
    assert roles(user) == {("VOF", Role.UNIT_HEAD, "local"), ("SKOL", Role.READER, "sso")}
    sign_in_identity(protocol="saml", username="eva", groups=[])
    assert roles(user) == {("VOF", Role.UNIT_HEAD, "local")}


def test_group_role_changes_are_in_the_history_by_the_person(tree) -> None:
    GroupRole.objects.create(group="g", unit=tree["care"], role=Role.READER)
    user = UserFactory(username="fia")
    assert apply_group_roles(user, ["g"]) == (1, 0)
    assert apply_group_roles(user, ["g"]) == (0, 0)
    assert apply_group_roles(user, []) == (0, 1)
    history = Membership.history.filter(user_id=user.pk).order_by("history_date")
    assert [(h.history_type, h.history_user_id, h.history_change_reason) for h in history] == [
        ("+", user.pk, "sso"),
        ("-", user.pk, "sso"),
    ]


# The group roles page ------------------------------------------------------------------------


@pytest.fixture
def office(tree, settings) -> Client:
    settings.LANGUAGE_CODE = "en"
    user = UserFactory(username="office")
    MembershipFactory(user=user, unit=tree["root"], role=Role.STRATEGY_OFFICE)
    client = Client()
    client.force_login(user)
    return client


def test_the_office_adds_and_removes_a_group_role(office: Client, tree) -> None:
    url = reverse("sso:group_roles")
    response = office.post(
        url, {"group": " skol-chefer ", "role": Role.UNIT_HEAD, "unit": tree["school"].pk}
    )
    assert response.status_code == 302
    row = GroupRole.objects.get()
    assert (row.group, row.role, row.unit.code) == ("skol-chefer", Role.UNIT_HEAD, "SKOL")
    page = office.get(url)
    assert b"skol-chefer" in page.content

    duplicate = office.post(
        url, {"group": "skol-chefer", "role": Role.UNIT_HEAD, "unit": tree["school"].pk}
    )
    assert duplicate.status_code == 400
    assert "already gives this role" in duplicate.content.decode()
    assert GroupRole.objects.count() == 1

    response = office.post(reverse("sso:group_role_delete", args=[row.pk]))
    assert response.status_code == 302
    assert not GroupRole.objects.exists()
    assert GroupRole.history.filter(history_type="-").count() == 1


def test_a_bad_form_names_the_fields(office: Client) -> None:
    response = office.post(reverse("sso:group_roles"), {"group": "", "role": "king"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Group" in text and "Role" in text and "Unit" in text
    assert not GroupRole.objects.exists()


def test_others_may_not_see_the_page(tree) -> None:
    user = UserFactory(username="head")
    MembershipFactory(user=user, unit=tree["root"], role=Role.EXECUTIVE)
    client = Client()
    client.force_login(user)
    assert client.get(reverse("sso:group_roles")).status_code == 403


def test_the_login_page_lists_configured_providers(settings, client: Client) -> None:
    settings.PEJLING_OIDC = {"enabled": False}
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "Log in with" not in page.content.decode()
    assert MembershipSource.SSO == "sso"
