"""What is public is read in a fixed number of queries, whatever the number of agreements."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from pejling.agreements.models import AgreementState
from pejling.publication.selectors import agreement_tree, published_agreements
from tests.factories import YEAR, AgreementFactory, InitiativeFactory


def _count(fn) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries)


def test_published_agreements_cost_the_same_for_two_units_or_ten(org, cascade):
    units = [org.unit, org.sibling, org.unit_a2a, org.unit_b1a, org.dept_a1, org.dept_a2]
    for unit in units[:2]:
        agreement = AgreementFactory(unit=unit, year=YEAR, state=AgreementState.PUBLISHED)
        InitiativeFactory(agreement=agreement, goals=[cascade.goal_1])
    few = _count(lambda: published_agreements(year=YEAR))
    tree_few = _count(lambda: agreement_tree(YEAR))
    for unit in units[2:]:
        agreement = AgreementFactory(unit=unit, year=YEAR, state=AgreementState.PUBLISHED)
        InitiativeFactory(agreement=agreement, goals=[cascade.goal_1])
        InitiativeFactory(agreement=agreement, goals=[cascade.goal_2])
    assert len(published_agreements(year=YEAR)) == 6
    assert _count(lambda: published_agreements(year=YEAR)) == few
    assert _count(lambda: agreement_tree(YEAR)) == tree_few
