"""Reads: the organisation tree, theme coverage, readable agreements and the line of sight."""

from __future__ import annotations

from typing import Any

import pytest

from pejling.agreements import services
from pejling.agreements.selectors import (
    agreements_readable_by,
    line_of_sight,
    readable_agreement,
    theme_coverage,
)
from pejling.organisation.permissions import home_unit
from pejling.organisation.selectors import (
    unit_ancestors,
    unit_children,
    unit_siblings,
    unit_subtree,
)
from pejling.strategy.models import StrategyStatus
from pejling.strategy.selectors import cascade_of, element_tree, goal_groups_for_year
from tests.factories import YEAR, AgreementFactory, InitiativeFactory, UnitFactory

pytestmark = pytest.mark.django_db


def publish(agreement: Any, org: Any) -> None:
    services.agreement_submit(agreement=agreement, by=org.head)
    services.agreement_agree(agreement=agreement, by=org.parent_head)
    services.agreement_publish(agreement=agreement, by=org.head)


# The organisation tree ----------------------------------------------------------------------


def test_a_subtree_is_read_in_one_query_with_its_levels(org, django_assert_num_queries):
    with django_assert_num_queries(1):
        units = list(unit_subtree(org.centre_a))
        level_names = [u.level.name for u in units]

    assert [u.code for u in units] == [
        "centre-a",
        "dept-a1",
        "unit-a1a",
        "unit-a1b",
        "dept-a2",
        "unit-a2a",
    ]
    assert level_names[:3] == ["Centre", "Department", "Unit"]


def test_a_subtree_stays_one_query_as_the_tree_grows(org, django_assert_num_queries):
    for i in range(15):
        UnitFactory(parent=org.unit_a2a, code=f"grown-{i}")
    org.refresh()

    with django_assert_num_queries(1):
        units = list(unit_subtree(org.centre_a))

    assert len(units) == 6 + 15
    assert not any(u.path.startswith(org.centre_b.path) for u in units)


def test_a_leaf_is_its_own_subtree(org):
    assert list(unit_subtree(org.unit)) == [org.unit]


def test_ancestors_children_and_siblings_follow_the_tree(org):
    assert unit_ancestors(org.unit) == [org.root, org.centre_a, org.dept_a1]
    assert unit_ancestors(org.root) == []
    assert list(unit_children(org.centre_a)) == [org.dept_a1, org.dept_a2]
    assert list(unit_siblings(org.unit)) == [org.sibling]
    assert list(unit_siblings(org.root)) == []


def test_the_home_unit_is_where_a_person_works(org):
    assert home_unit(org.employee) == org.unit
    assert home_unit(org.head) == org.unit
    assert home_unit(org.parent_head) == org.dept_a1
    assert home_unit(org.outsider) is None


# Strategies -------------------------------------------------------------------------------


def test_the_cascade_runs_up_to_the_future_narrative(cascade):
    assert cascade_of(cascade.group) == [cascade.narrative]
    assert cascade_of(cascade.narrative) == []


def test_the_element_tree_nests_goals_under_their_themes(cascade, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        tree = element_tree(cascade.group)
    assert [n.element.code for n in tree] == ["T1", "T2", "T3"]
    assert [c.element.code for c in tree[0].children] == ["T1.1"]


def test_only_goals_of_published_strategies_in_force_can_be_chosen(cascade):
    groups = goal_groups_for_year(YEAR)
    goals = [g for group in groups for g in group.goals]
    assert goals == [cascade.goal_1, cascade.goal_2, cascade.goal_3]
    assert groups[0].label == f"{cascade.group.title} · {cascade.theme_1.title}"

    cascade.group.status = StrategyStatus.DRAFT
    cascade.group.save()
    assert goal_groups_for_year(YEAR) == []
    assert [g for group in goal_groups_for_year(2021) for g in group.goals] == [cascade.old_goal]


# Coverage --------------------------------------------------------------------------------


def test_theme_coverage_marks_the_themes_no_initiative_reaches(org, cascade, agreement):
    InitiativeFactory(agreement=agreement, title="Toolbox", goals=[cascade.goal_3])
    view = readable_agreement(org.head, agreement)

    coverage = theme_coverage(YEAR, view.initiatives)

    assert [c.strategy for c in coverage] == [cascade.group]
    (group,) = coverage
    assert group.level_name == "Themes"
    rows = {row.element.code: row for row in group.rows}
    assert rows["T1"].covered
    assert rows["T1"].initiatives == ["Early health talks"]
    assert not rows["T2"].covered
    assert rows["T3"].initiatives == ["Toolbox"]
    assert [row.element for row in group.missing] == [cascade.theme_2]


def test_without_initiatives_every_theme_is_missing(cascade):
    (group,) = theme_coverage(YEAR, [])
    assert [row.element for row in group.missing] == [
        cascade.theme_1,
        cascade.theme_2,
        cascade.theme_3,
    ]


def test_no_strategy_with_goals_in_force_means_no_coverage(cascade):
    assert theme_coverage(2035, []) == []


# Who reads what --------------------------------------------------------------------------


def test_a_draft_is_hidden_from_employees_and_outsiders(org, agreement):
    assert readable_agreement(org.employee, agreement) is None
    assert readable_agreement(org.outsider, agreement) is None
    assert readable_agreement(org.colleague, agreement) is None


@pytest.mark.parametrize("who", ["head", "parent_head", "executive", "office"])
def test_a_draft_is_read_live_by_those_above_and_the_strategy_office(org, agreement, who):
    view = readable_agreement(getattr(org, who), agreement)
    assert view is not None
    assert view.live
    assert [i.title for i in view.initiatives] == ["Early health talks"]


def test_a_published_agreement_is_read_by_everyone(org, agreement):
    publish(agreement, org)
    for user in (org.employee, org.outsider, org.colleague):
        view = readable_agreement(user, agreement)
        assert view.live
        assert view.summary == "Our year"


def test_during_a_revision_employees_read_the_published_version(org, cascade, agreement):
    publish(agreement, org)
    services.agreement_revise(agreement=agreement, by=org.head)
    services.agreement_update(agreement=agreement, by=org.head, summary="Draft of a new plan")

    view = readable_agreement(org.employee, agreement)

    assert not view.live
    assert view.version.number == 1
    assert view.summary == "Our year"
    assert [i.title for i in view.initiatives] == ["Early health talks"]
    assert view.initiatives[0].goals == [cascade.goal_1]
    assert readable_agreement(org.head, agreement).summary == "Draft of a new plan"


def test_an_agreed_but_unpublished_version_stays_hidden_from_employees(org, agreement):
    services.agreement_submit(agreement=agreement, by=org.head)
    services.agreement_agree(agreement=agreement, by=org.parent_head)
    services.agreement_revise(agreement=agreement, by=org.head)
    assert readable_agreement(org.employee, agreement) is None


def test_the_list_of_agreements_follows_the_same_rules(org, cascade, agreement):
    other = AgreementFactory(unit=org.unit_b1a)
    InitiativeFactory(agreement=other, goals=[cascade.goal_2])

    assert set(agreements_readable_by(org.employee)) == set()
    assert set(agreements_readable_by(org.parent_head)) == {agreement}
    assert set(agreements_readable_by(org.executive)) == {agreement, other}
    assert set(agreements_readable_by(org.office)) == {agreement, other}

    publish(agreement, org)
    services.agreement_revise(agreement=agreement, by=org.head)
    assert list(agreements_readable_by(org.outsider)) == [agreement]


# Line of sight ---------------------------------------------------------------------------


def test_the_line_of_sight_runs_from_initiative_to_future_narrative(org, cascade, agreement):
    publish(agreement, org)

    sight = line_of_sight(user=org.employee, year=YEAR)

    assert sight.unit == org.unit
    assert sight.agreement.live
    (line,) = sight.strategies
    assert line.strategy == cascade.group
    assert line.cascade == [cascade.narrative]
    (goal_line,) = line.goals
    assert goal_line.goal == cascade.goal_1
    assert goal_line.chain == [cascade.theme_1, cascade.goal_1]
    assert [i.title for i in goal_line.initiatives] == ["Early health talks"]
    ((narrative, tree),) = sight.narratives
    assert narrative == cascade.narrative
    assert [node.element.code for node in tree] == ["B1", "B2"]
    assert sight.unlinked == []


def test_the_line_of_sight_shows_the_units_above_and_beside(org, cascade, agreement):
    publish(agreement, org)
    beside = AgreementFactory(unit=org.sibling)
    InitiativeFactory(agreement=beside, goals=[cascade.goal_2])
    InitiativeFactory(agreement=beside, goals=[cascade.goal_3])
    services.agreement_submit(agreement=beside, by=org.colleague)
    services.agreement_agree(agreement=beside, by=org.parent_head)
    services.agreement_publish(agreement=beside, by=org.colleague)

    sight = line_of_sight(user=org.employee, year=YEAR)

    assert [line.unit for line in sight.above] == [org.root, org.centre_a, org.dept_a1]
    assert all(line.agreement is None for line in sight.above)
    (sibling_line,) = sight.beside
    assert sibling_line.unit == org.sibling
    assert sibling_line.agreement == beside
    assert sibling_line.initiative_count == 2


def test_the_line_of_sight_hides_a_sibling_draft_from_an_employee(org, cascade, agreement):
    AgreementFactory(unit=org.sibling)
    sight = line_of_sight(user=org.employee, year=YEAR)
    assert sight.beside[0].agreement is None
    assert sight.agreement is None  # the own draft is not readable either
    assert sight.strategies == []
    # Without goals of its own, the sight still shows the future narrative.
    assert [n for n, _ in sight.narratives] == [cascade.narrative]


def test_the_line_of_sight_during_a_revision_uses_the_published_version(org, cascade, agreement):
    publish(agreement, org)
    services.agreement_revise(agreement=agreement, by=org.head)
    initiative = agreement.initiatives.get()
    services.initiative_update(
        initiative=initiative, by=org.head, title="Rewritten", goals=[cascade.goal_2]
    )

    sight = line_of_sight(user=org.employee, year=YEAR)

    assert not sight.agreement.live
    assert [g.goal for g in sight.strategies[0].goals] == [cascade.goal_1]
    assert line_of_sight(user=org.head, year=YEAR).strategies[0].goals[0].goal == cascade.goal_2


def test_someone_without_a_unit_has_an_empty_line_of_sight(org):
    sight = line_of_sight(user=org.outsider, year=YEAR)
    assert sight.unit is None
    assert sight.strategies == []
