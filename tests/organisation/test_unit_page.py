"""The unit page (``organisation/views.py: unit_detail``): the same for every reader, rendered
once per unit, year and language and kept under the data generation. A signed-in reader's
visit then costs the session, the user and the generation; any write it shows renders it anew."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from pejling.organisation import services
from pejling.organisation.models import Membership, Role, Unit
from tests.factories import MembershipFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def page(client: Any, unit: Unit, **params: Any) -> str:
    response = client.get(reverse("organisation:unit_detail", args=[unit.code]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_second_visit_asks_the_database_for_the_session_user_and_generation_only(
    client: Any, org: Any, django_assert_num_queries: Any
):
    client.force_login(org.employee)
    page(client, org.dept_a1)
    with django_assert_num_queries(3):
        again = page(client, org.dept_a1)
    for shown in ("Department A1", "Centre A", "Executive board", "Unit A1a", "Unit A1b", "Per"):
        assert shown in again


def test_every_write_it_shows_shows_at_once(client: Any, org: Any):
    client.force_login(org.employee)
    assert "Department A1" in page(client, org.unit)

    org.dept_a1.name = "Avdelning Ett"
    services.unit_save(by=org.office, unit=org.dept_a1)
    assert "Avdelning Ett" in page(client, org.unit)  # the breadcrumbs

    newcomer = UserFactory(username="ny", first_name="Nora", last_name="Ny")
    MembershipFactory(user=newcomer, unit=org.unit, role=Role.EDITOR)
    assert "Nora Ny" in page(client, org.unit)

    newcomer.first_name = "Nadja"
    services.person_save(by=org.office, person=newcomer)
    assert "Nadja Ny" in page(client, org.unit)

    services.membership_delete(by=org.office, membership=Membership.objects.get(user=newcomer))
    assert "Nadja Ny" not in page(client, org.unit)

    UnitFactory(parent=org.unit, code="team-1", name="Team Ett")
    assert "Team Ett" in page(client, org.unit)

    services.unit_move(by=org.office, unit=org.unit, parent=org.dept_a2)
    org.refresh()
    moved = page(client, org.unit)
    assert "Department A2" in moved and "Avdelning Ett" not in moved


def test_it_is_kept_per_language_and_year(client: Any, org: Any):
    client.force_login(org.employee)
    client.cookies["django_language"] = "sv"
    assert "Underordnade enheter" in page(client, org.dept_a1)
    client.cookies["django_language"] = "da"
    assert "Underordnede enheder" in page(client, org.dept_a1)
    client.cookies["django_language"] = "en"
    english = page(client, org.dept_a1)
    assert "Units below" in english
    assert 'value="2019"' in page(client, org.dept_a1, year=2019)
    assert 'value="2019"' not in english


def test_an_unknown_unit_is_not_found(client: Any, org: Any):
    client.force_login(org.employee)
    url = reverse("organisation:unit_detail", args=["no-such-unit"])
    assert client.get(url).status_code == 404
    assert client.get(url).status_code == 404  # and again, from the cache
    UnitFactory(parent=org.unit, code="no-such-unit", name="Ny enhet")
    assert "Ny enhet" in client.get(url).content.decode()


def test_losing_a_role_takes_its_menu_and_rights_away_at_once(client: Any, org: Any):
    """The reader's memberships are kept in the shared cache and the menu in each process's:
    both follow a membership's removal on the next request."""
    client.force_login(org.office)
    audit = reverse("audit:trail")
    assert client.get(audit).status_code == 200
    assert f'href="{audit}"' in page(client, org.unit)
    services.membership_delete(
        by=org.office, membership=Membership.objects.get(user=org.office, role=Role.STRATEGY_OFFICE)
    )
    assert client.get(audit).status_code == 403
    assert f'href="{audit}"' not in page(client, org.unit)


def test_what_it_shows_is_the_same_for_every_reader(client: Any, org: Any):
    """Kept once for all readers: nothing of the reader (name, menu, rights) is inside it."""
    client.force_login(org.office)
    office_page = page(client, org.unit)
    client.force_login(org.employee)
    employee_page = page(client, org.unit)
    with translation.override("en"):
        assert "Olga Office" in office_page and "Olga Office" not in employee_page
        assert "Erik Employee" in employee_page
