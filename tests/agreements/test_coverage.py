"""One rule for "what an agreement has committed to" (``agreements/coverage.py``): the coverage
card, the rule box, the compliance matrix and goal evaluation agree on it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from pejling.agreements.coverage import (
    COMMITTED_STATES,
    COUNTED_STATUSES,
    committed_links,
    counted_goals,
)
from pejling.agreements.models import AgreementState, InitiativeStatus
from pejling.agreements.rules import check_rules
from pejling.agreements.selectors import readable_agreement, theme_coverage
from pejling.followup.evaluation import all_goal_evaluations
from pejling.followup.models import CountsWhat
from pejling.followup.selectors import Cell, compliance_matrix
from pejling.organisation.models import UnitLevel
from pejling.strategy.models import MeasureKind
from tests.factories import (
    YEAR,
    AgreementFactory,
    AgreementRuleFactory,
    DerivedGoalFactory,
    InitiativeFactory,
)

pytestmark = pytest.mark.django_db


def test_the_states_and_statuses_that_count():
    assert set(COMMITTED_STATES) == {
        AgreementState.SUBMITTED,
        AgreementState.AGREED,
        AgreementState.PUBLISHED,
    }
    assert InitiativeStatus.CANCELLED not in COUNTED_STATUSES
    assert set(COUNTED_STATUSES) == set(InitiativeStatus.values) - {InitiativeStatus.CANCELLED}


@pytest.fixture
def submitted(org, cascade):
    """A submitted agreement: a started initiative on theme 1, a cancelled one on theme 2."""
    agreement = AgreementFactory(unit=org.unit, year=YEAR, state=AgreementState.SUBMITTED)
    InitiativeFactory(
        agreement=agreement, title="Talks", goals=[cascade.goal_1], status=InitiativeStatus.STARTED
    )
    InitiativeFactory(
        agreement=agreement,
        title="Dropped plan",
        goals=[cascade.goal_2],
        status=InitiativeStatus.CANCELLED,
    )
    return agreement


def test_a_cancelled_initiative_covers_nothing_anywhere(client, org, cascade, submitted):
    level = UnitLevel.objects.get(depth=4)
    AgreementRuleFactory(strategy=cascade.group, unit_level=level)
    goal_2 = cascade.goal_2
    goal_2.measure_kind = MeasureKind.COUNT
    goal_2.target_value = Decimal("1")
    goal_2.save()
    DerivedGoalFactory(goal=goal_2, counts=CountsWhat.INITIATIVES)

    # The coverage card.
    view = readable_agreement(org.head, submitted)
    assert view is not None
    [group] = [c for c in theme_coverage(YEAR, view.initiatives) if c.strategy == cascade.group]
    covered = {row.element: row.initiatives for row in group.rows}
    assert covered[cascade.theme_1] == ["Talks"]
    assert covered[cascade.theme_2] == []

    # The rule box.
    [result] = check_rules(submitted, view.initiatives)
    assert result.missing == [cascade.theme_2, cascade.theme_3]

    # The agreement page shows both, and they agree.
    client.force_login(org.head)
    response = client.get(reverse("agreements:agreement_detail", args=[org.unit.code, YEAR]))
    assert response.status_code == 200
    [card] = [c for c in response.context["coverage"] if c.strategy == cascade.group]
    assert [r.element for r in card.missing] == [cascade.theme_2, cascade.theme_3]
    [box] = response.context["broken_rules"]
    assert box.missing == [r.element for r in card.missing]

    # The compliance matrix.
    matrix = compliance_matrix(year=YEAR, strategy=cascade.group, level=level)
    [row] = [r for r in matrix.rows if r.unit == org.unit]
    assert dict(zip(matrix.columns, row.cells, strict=True)) == {
        cascade.theme_1: Cell.COVERED,
        cascade.theme_2: Cell.MISSING,
        cascade.theme_3: Cell.MISSING,
    }

    # Goal evaluation.
    [evaluation] = [e for e in all_goal_evaluations(year=YEAR) if e.goal.pk == goal_2.pk]
    assert evaluation.value == 0

    # The one query says the same.
    assert set(committed_links(year=YEAR).values_list("goal_id", flat=True)) == {cascade.goal_1.pk}
    assert counted_goals(view.initiatives) == [cascade.goal_1]


def test_a_draft_commits_nothing_across_units_but_is_judged_as_it_stands_on_its_page(
    org, cascade, agreement
):
    assert agreement.state == AgreementState.DRAFT
    assert not committed_links(year=YEAR).exists()
    view = readable_agreement(org.head, agreement)
    assert view is not None
    [group] = [c for c in theme_coverage(YEAR, view.initiatives) if c.strategy == cascade.group]
    assert group.covered_count == 1
