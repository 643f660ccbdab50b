"""The reinvestment ledger balances: freed = reinvested + returned + not yet placed, per year,
per unit and per measure, and every level of the organisation tree sums to the level above."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pejling.portfolio import services
from pejling.portfolio.models import BenefitClass, Measure, Placement
from pejling.portfolio.selectors import ledger_balance, ledger_totals
from pejling.portfolio.services import BenefitInput, PlacementInput, YearInput
from tests.conftest import Org

pytestmark = pytest.mark.django_db

UNITS = ("unit", "sibling", "unit_a2a", "unit_b1a")
amounts = st.integers(min_value=1, max_value=2000).map(Decimal)
benefit_specs = st.lists(
    st.tuples(
        st.sampled_from(UNITS),
        st.sampled_from([Measure.HOURS, Measure.KRONOR]),
        st.sampled_from([2025, 2026]),
        amounts,
        # placements: (reinvest?, amount, target unit)
        st.lists(st.tuples(st.booleans(), amounts, st.sampled_from(UNITS)), max_size=4),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=benefit_specs)
def test_the_ledger_balances_at_every_level(org: Org, specs: list) -> None:
    with transaction.atomic():  # each example starts from the same organisation
        _check(org, specs)
        transaction.set_rollback(True)


def _check(org: Org, specs: list) -> None:
    expected: dict[tuple[int, str, str], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0), Decimal(0)]
    )
    for unit_name, measure, year, freed, placements in specs:
        unit = getattr(org, unit_name)
        assignment = services.assignment_give(
            by=org.office,
            issued_by="Board",
            title="Saves time",
            unit=unit,
            lead=None,
            goals=[],
            due_date=None,
            given_on=date(year, 1, 2),
        )
        benefit = services.benefit_create(
            assignment=assignment,
            by=org.office,
            data=BenefitInput(
                description="Freed",
                stakeholder="Staff",
                benefit_class=BenefitClass.FREED_CAPACITY,
                measure=measure,
            ),
            years=[YearInput(year=year, expected=freed, realised=freed, realised_source="Study")],
        )
        key = (year, unit.path[:8], measure)  # the centre it rolls up to
        expected[key][0] += freed
        left = freed
        for reinvest, amount, target in placements:
            data = PlacementInput(
                year=year,
                placement=Placement.REINVESTED if reinvest else Placement.RETURNED,
                amount=amount,
                unit=getattr(org, target),
                purpose="Elsewhere",
                decided_on=date(year, 6, 1),
                decided_by="Board",
            )
            if amount > left:
                with pytest.raises(ValidationError):
                    services.capacity_place(benefit=benefit, by=org.office, data=data)
                continue
            services.capacity_place(benefit=benefit, by=org.office, data=data)
            left -= amount
            expected[key][1 if reinvest else 2] += amount

    # Rolled up to the centres (under the root), the figures are what was recorded.
    rows = ledger_balance(within=org.root)
    got = {
        (r.year, r.unit.path, r.measure): [r.freed, r.reinvested, r.returned]
        for r in rows
        if r.unit
    }
    assert got == dict(expected)
    for row in rows:
        assert row.freed == row.reinvested + row.returned + row.unplaced
        assert row.unplaced >= 0
    # Each level sums to the one above: the centre's children add up to the centre.
    top = {(r.year, r.measure): r for r in ledger_totals(ledger_balance())}
    for centre in (org.centre_a, org.centre_b):
        children = ledger_totals(ledger_balance(within=centre))
        above = {
            (r.year, r.measure): r for r in ledger_balance(within=org.root) if r.unit == centre
        }
        assert {k: (r.freed, r.reinvested, r.returned) for k, r in above.items()} == {
            (r.year, r.measure): (r.freed, r.reinvested, r.returned) for r in children
        }
    assert sum(r.freed for r in top.values()) == sum(v[0] for v in expected.values())


def test_the_balance_is_a_fixed_number_of_queries(org: Org, django_assert_max_num_queries) -> None:
    _check(
        org,
        [
            (name, Measure.HOURS, 2026, Decimal(10), [(True, Decimal(3), "sibling")])
            for name in UNITS
        ],
    )
    with django_assert_max_num_queries(4):
        ledger_balance(within=org.root)
