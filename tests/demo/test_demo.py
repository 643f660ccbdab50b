"""The demo organisation: loaded by ``pejling demo``, again and again, to the same result."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.urls import reverse

from pejling.agreements.models import Agreement, AgreementState, AgreementVersion
from pejling.agreements.selectors import readable_agreement, theme_coverage, waits_for
from pejling.demo import data
from pejling.demo.loader import demo_password
from pejling.organisation.models import Role, Unit
from pejling.strategy.models import Element, Strategy
from tests.demo_snapshot import demo_restored

pytestmark = pytest.mark.django_db

FOUNDATION_APPS = {"organisation", "strategy", "agreements"}


def row_counts() -> dict[str, int]:
    """Rows of every model of Pejling (and users); history only for the foundation's apps."""
    counts = {"users": get_user_model().objects.count()}
    for model in apps.get_models():
        app = model._meta.app_label
        historical = model.__name__.startswith("Historical")
        ours = model._meta.app_config.name.startswith("pejling.")
        if ours and (not historical or app in FOUNDATION_APPS):
            counts[model._meta.label] = model._default_manager.count()
    return counts


@pytest.fixture(scope="module")
def demo(demo_snapshot: str, django_db_blocker: Any) -> Iterator[str]:
    """The demo for this module, inside a transaction rolled back at its end; each test runs
    in a savepoint within it, as usual. ``pejling demo`` ran once for this test process into
    an empty database (tests/conftest.py, ``demo_snapshot``: its rows are restored here and
    what it printed is returned)."""
    with django_db_blocker.unblock(), demo_restored():
        yield demo_snapshot


def test_loading_the_demo_twice_changes_nothing(demo):
    first = row_counts()
    call_command("demo", stdout=StringIO())
    assert row_counts() == first


def test_the_demo_is_a_municipality_of_ten_centres_and_dozens_of_units(demo):
    assert Unit.objects.filter(depth=1).count() == 1
    assert Unit.objects.filter(depth=2).count() == 10
    assert Unit.objects.count() >= 60
    assert Unit.objects.filter(depth=4).count() >= 30
    assert set(Unit.objects.values_list("level__depth", flat=True)) == {1, 2, 3, 4}
    assert Unit.objects.find_problems() == ([], [], [], [], [])


def test_the_demo_has_agreements_in_every_state(demo):
    states = set(Agreement.objects.filter(year=data.YEAR).values_list("state", flat=True))
    assert states == set(AgreementState.values)
    assert Agreement.objects.filter(year=data.YEAR).count() >= 50
    # A revision under way: a draft with a published version.
    assert Agreement.objects.filter(
        state=AgreementState.DRAFT, versions__state=AgreementState.PUBLISHED
    ).exists()
    assert AgreementVersion.objects.filter(state=AgreementState.PUBLISHED).exists()


def test_the_demo_units_without_an_agreement_have_none(demo):
    assert not Agreement.objects.filter(unit__code__in=data.WITHOUT_AGREEMENT).exists()
    units_with_agreements = Agreement.objects.values("unit").distinct().count()
    assert units_with_agreements == Unit.objects.filter(depth__gt=1).count() - len(
        data.WITHOUT_AGREEMENT
    )


def test_the_demo_people_walk_through_the_story(demo):
    assert Agreement.objects.get(unit__code="VOF-HEM-NOR").state == AgreementState.DRAFT
    assert Agreement.objects.get(unit__code="VOF-HEM").state == AgreementState.SUBMITTED
    # The department head has her unit's revision to agree; its published version stays read.
    south = Agreement.objects.get(unit__code="VOF-HEM-SYD")
    department_head = get_user_model().objects.get(username="avdelningschef")
    assert south.state == AgreementState.SUBMITTED and waits_for(department_head, south)
    assert south.versions.filter(state=AgreementState.PUBLISHED).exists()
    for username, *_rest in data.PEOPLE:
        assert username in demo
        user = authenticate(username=username, password=demo_password(username))
        assert user is not None, username
    employee = get_user_model().objects.get(username="medarbetare")
    assert employee.memberships.get().role == Role.MEMBER


def test_every_demo_goal_link_is_valid_for_the_year(demo):
    goals = Element.objects.filter(initiatives__agreement__year=data.YEAR).distinct()
    assert goals.exists()
    for goal in goals.select_related("level", "strategy"):
        assert goal.level.holds_goals
        assert goal.strategy.covers_year(data.YEAR)


def test_the_demo_strategy_cascade_reaches_the_future_narrative(demo):
    group = Strategy.objects.get(code=data.GROUP_STRATEGY["code"])
    assert group.parent.code == data.FUTURE_NARRATIVE["code"]
    assert group.elements.filter(level__holds_goals=True).count() >= 8
    assert Element.objects.filter(strategy=group, references__isnull=False).exists()


def test_the_demo_centres_with_gaps_miss_a_theme(demo):
    office = get_user_model().objects.get(username="strategi")
    for centre_code, theme_code in data.CENTRE_GAPS.items():
        agreement = Agreement.objects.get(unit__code=centre_code, year=data.YEAR)
        view = readable_agreement(office, agreement)
        (group,) = [
            c
            for c in theme_coverage(data.YEAR, view.initiatives)
            if c.strategy.code == data.GROUP_STRATEGY["code"]
        ]
        assert theme_code in {row.element.code for row in group.missing}


def test_the_demo_pages_render_for_the_demo_people(client, demo):
    employee = get_user_model().objects.get(username="medarbetare")
    client.force_login(employee)
    for url in (
        reverse("home") + f"?year={data.YEAR}",
        reverse("organisation:unit_list"),
        reverse("strategy:strategy_detail", args=[data.GROUP_STRATEGY["code"]]),
        reverse("agreements:agreement_list") + f"?year={data.YEAR}",
    ):
        assert client.get(url).status_code == 200, url
