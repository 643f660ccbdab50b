"""The busiest pages read a fixed number of queries, however large the organisation grows.

Each test counts the queries of a page for a small organisation, grows it, and asserts that
the larger one needs no more (``django_assert_max_num_queries``) and in fact exactly as many.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pejling.agreements import services
from pejling.organisation.models import Role
from tests.factories import (
    YEAR,
    AgreementFactory,
    InitiativeFactory,
    MembershipFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


def queries_of(client: Any, url: str) -> int:
    """The queries of the page as right after a write: nothing it could take from the shared
    cache (a reader's memberships, a unit page, the dashboard's figures) is there."""
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def assert_constant(
    client: Any, url: str, grow: Callable[[], None], django_assert_max_num_queries: Any
) -> int:
    client.get(url)  # warm up (session, content types) before counting
    small = queries_of(client, url)
    grow()
    cache.clear()
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert response.status_code == 200
    assert queries_of(client, url) == small
    return small


def add_units(org: Any, cascade: Any, count: int, *, with_agreements: bool) -> None:
    """Grow the organisation: ``count`` units under each department, with agreements."""
    for dept in (org.dept_a1, org.dept_a2, org.dept_b1):
        for i in range(count):
            unit = UnitFactory(parent=dept, code=f"{dept.code}-grown-{i}", name=f"Grown {i}")
            MembershipFactory(unit=unit, role=Role.UNIT_HEAD)
            MembershipFactory(unit=unit, role=Role.MEMBER)
            if with_agreements:
                agreement = AgreementFactory(unit=unit, state=["draft", "published"][i % 2])
                InitiativeFactory(agreement=agreement, goals=[cascade.goal_1, cascade.goal_2])
    org.refresh()


@pytest.mark.parametrize("who", ["head", "employee", "office"])
def test_the_agreement_page_does_not_grow_with_its_initiatives(
    client, org, cascade, agreement, django_assert_max_num_queries, who
):
    if who == "employee":  # an employee reads the agreement once it is published
        services.agreement_submit(agreement=agreement, by=org.head)
        services.agreement_agree(agreement=agreement, by=org.parent_head)
        services.agreement_publish(agreement=agreement, by=org.head)
    client.force_login(getattr(org, who))
    url = reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])

    def grow() -> None:
        goals = [cascade.goal_1, cascade.goal_2, cascade.goal_3]
        for i in range(12):
            InitiativeFactory(agreement=agreement, goals=goals[: 1 + i % 3], owner=org.employee)
        add_units(org, cascade, 4, with_agreements=True)

    assert_constant(client, url, grow, django_assert_max_num_queries)
    assert len(client.get(url).context["view"].initiatives) == 13


def test_a_published_version_during_a_revision_does_not_grow_either(
    client, org, cascade, agreement, django_assert_max_num_queries
):
    def publish_version() -> None:
        services.agreement_submit(agreement=agreement, by=org.head)
        services.agreement_agree(agreement=agreement, by=org.parent_head)
        services.agreement_publish(agreement=agreement, by=org.head)
        services.agreement_revise(agreement=agreement, by=org.head)

    publish_version()
    client.force_login(org.employee)
    url = reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])

    def grow() -> None:
        for i in range(10):
            InitiativeFactory(agreement=agreement, title=f"More {i}", goals=[cascade.goal_3])
        publish_version()

    assert_constant(client, url, grow, django_assert_max_num_queries)
    assert len(client.get(url).context["view"].initiatives) == 11


@pytest.mark.parametrize("who", ["office", "parent_head", "employee"])
def test_the_agreement_list_does_not_grow_with_the_organisation(
    client, org, cascade, agreement, django_assert_max_num_queries, who
):
    client.force_login(getattr(org, who))
    url = reverse("agreements:agreement_list") + f"?year={YEAR}"
    # A first row for everyone: an empty page costs no SELECT (LIMIT 0), a page with rows one.
    agreement.state = "published"
    agreement.save()

    assert_constant(
        client,
        url,
        lambda: add_units(org, cascade, 6, with_agreements=True),
        django_assert_max_num_queries,
    )
    assert len(client.get(url).context["agreements"]) >= 9


def test_the_organisation_list_does_not_grow_with_the_organisation(
    client, org, cascade, django_assert_max_num_queries
):
    client.force_login(org.employee)
    url = reverse("organisation:unit_list")

    assert_constant(
        client,
        url,
        lambda: add_units(org, cascade, 10, with_agreements=False),
        django_assert_max_num_queries,
    )
    assert len(client.get(url).context["units"]) == 40


def test_the_organisation_search_does_not_grow_with_the_organisation(
    client, org, cascade, django_assert_max_num_queries
):
    client.force_login(org.employee)
    url = reverse("organisation:unit_list") + "?q=Grown"
    client.defaults["HTTP_HX_REQUEST"] = "true"

    assert_constant(
        client,
        url,
        lambda: add_units(org, cascade, 10, with_agreements=False),
        django_assert_max_num_queries,
    )
    assert len(client.get(url).context["units"]) == 30


def test_the_home_page_does_not_grow_with_the_units_beside_mine(
    client, org, cascade, agreement, django_assert_max_num_queries
):
    client.force_login(org.head)
    url = reverse("home") + f"?year={YEAR}"

    assert_constant(
        client,
        url,
        lambda: add_units(org, cascade, 5, with_agreements=True),
        django_assert_max_num_queries,
    )
    assert len(client.get(url).context["sight"].beside) == 6
