"""Strategies: level names as data, elements at consistent depths, and what may be deleted."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pejling.strategy import services
from pejling.strategy.models import Element, Strategy, StrategyLevel
from tests.factories import ElementFactory, InitiativeFactory, StrategyFactory

pytestmark = pytest.mark.django_db

FOUR_LEVELS = [
    ("Ledstjärna", "Ledstjärnor", False),
    ("Fokusområde", "Fokusområden", False),
    ("Mål", "Mål", True),
    ("Delmål", "Delmål", True),
]


def names(strategy: Strategy) -> list[tuple[int, str, str, bool]]:
    return [
        (lv.depth, lv.name, lv.name_plural, lv.holds_goals)
        for lv in StrategyLevel.objects.filter(strategy=strategy).order_by("depth")
    ]


def test_the_strategy_office_names_four_levels_of_a_strategy(org):
    strategy = StrategyFactory()

    services.strategy_levels_set(strategy=strategy, by=org.office, levels=FOUR_LEVELS)

    assert names(strategy) == [(i, *level) for i, level in enumerate(FOUR_LEVELS, start=1)]
    assert {h.history_user for h in StrategyLevel.history.filter(strategy_id=strategy.pk)} == {
        org.office
    }


def test_elements_can_hang_four_levels_deep(org):
    strategy = StrategyFactory()
    services.strategy_levels_set(strategy=strategy, by=org.office, levels=FOUR_LEVELS)
    levels = list(strategy.levels.order_by("depth"))

    parent = None
    for depth, level in enumerate(levels, start=1):
        parent = services.element_save(
            element=Element(
                strategy=strategy,
                parent=parent,
                level=level,
                code=f"L{depth}",
                title=f"Depth {depth}",
            ),
            by=org.office,
        )

    assert parent.level.depth == 4
    assert parent.is_goal
    assert Element.objects.get(code="L4").parent.parent.parent.code == "L1"


def test_renaming_levels_keeps_their_elements(org, cascade):
    theme_level = cascade.theme_1.level

    services.strategy_levels_set(
        strategy=cascade.group,
        by=org.office,
        levels=[("  Focus area ", "", False), ("Target", "Targets", True)],
    )

    assert names(cascade.group) == [
        (1, "Focus area", "Focus area", False),
        (2, "Target", "Targets", True),
    ]
    cascade.theme_1.refresh_from_db()
    assert cascade.theme_1.level_id == theme_level.pk
    assert cascade.theme_1.level.name == "Focus area"


def test_a_level_can_be_added_below_the_existing_ones(org, cascade):
    services.strategy_levels_set(
        strategy=cascade.group,
        by=org.office,
        levels=[
            ("Theme", "Themes", False),
            ("Common goal", "Common goals", True),
            ("Step", "Steps", False),
        ],
    )
    assert [n[1] for n in names(cascade.group)] == ["Theme", "Common goal", "Step"]


def test_it_refuses_to_remove_a_level_that_still_has_elements(org, cascade):
    before = names(cascade.group)

    with pytest.raises(ValidationError) as excinfo:
        services.strategy_levels_set(
            strategy=cascade.group, by=org.office, levels=[("Renamed theme", "Renamed", False)]
        )

    assert "Common goal" in excinfo.value.messages[0]
    assert names(cascade.group) == before  # not even the rename of level 1 is kept


def test_an_empty_level_can_be_removed(org):
    strategy = StrategyFactory()
    services.strategy_levels_set(strategy=strategy, by=org.office, levels=FOUR_LEVELS)

    services.strategy_levels_set(strategy=strategy, by=org.office, levels=FOUR_LEVELS[:2])

    assert [n[0] for n in names(strategy)] == [1, 2]
    assert StrategyLevel.history.filter(strategy_id=strategy.pk, history_type="-").count() == 2


@pytest.mark.parametrize(
    "levels", [[], [("  ", "", False)], [("Theme", "", False), ("", "x", True)]]
)
def test_every_level_needs_a_name(org, levels):
    strategy = StrategyFactory()
    with pytest.raises(ValidationError):
        services.strategy_levels_set(strategy=strategy, by=org.office, levels=levels)
    assert not StrategyLevel.objects.filter(strategy=strategy).exists()


@pytest.mark.parametrize("who", ["head", "executive", "employee", "outsider"])
def test_only_the_strategy_office_changes_strategies(org, cascade, who):
    user = getattr(org, who)
    with pytest.raises(PermissionDenied):
        services.strategy_levels_set(strategy=cascade.group, by=user, levels=FOUR_LEVELS)
    with pytest.raises(PermissionDenied):
        services.strategy_save(strategy=cascade.group, by=user)
    with pytest.raises(PermissionDenied):
        services.element_save(element=cascade.goal_2, by=user)
    with pytest.raises(PermissionDenied):
        services.element_delete(element=cascade.goal_3, by=user)
    assert Element.objects.filter(pk=cascade.goal_3.pk).exists()


def test_a_superuser_counts_as_the_strategy_office(org, cascade):
    org.outsider.is_superuser = True
    org.outsider.save()
    services.strategy_levels_set(
        strategy=cascade.narrative, by=org.outsider, levels=[("Star", "Stars", False)]
    )
    assert names(cascade.narrative)[0][1] == "Star"


def test_a_strategy_cannot_end_before_it_starts(org):
    strategy = Strategy(code="backwards", title="Backwards", start_year=2027, end_year=2025)
    with pytest.raises(ValidationError) as excinfo:
        services.strategy_save(strategy=strategy, by=org.office)
    assert "end_year" in excinfo.value.message_dict
    assert not Strategy.objects.filter(code="backwards").exists()


def test_a_strategy_cannot_serve_itself_through_the_cascade(org, cascade):
    cascade.narrative.parent = cascade.group
    with pytest.raises(ValidationError) as excinfo:
        services.strategy_save(strategy=cascade.narrative, by=org.office)
    assert "parent" in excinfo.value.message_dict


# Elements ----------------------------------------------------------------------------------


def test_an_element_must_sit_one_level_below_its_parent(org, cascade):
    goal_level = cascade.goal_1.level
    element = Element(
        strategy=cascade.group,
        parent=cascade.goal_1,
        level=goal_level,
        code="T1.1.1",
        title="Too flat",
    )
    with pytest.raises(ValidationError) as excinfo:
        services.element_save(element=element, by=org.office)
    assert "level" in excinfo.value.message_dict
    assert not Element.objects.filter(code="T1.1.1").exists()


def test_an_element_below_the_first_level_needs_a_parent(org, cascade):
    element = Element(
        strategy=cascade.group, level=cascade.goal_1.level, code="T9.1", title="Orphan"
    )
    with pytest.raises(ValidationError) as excinfo:
        services.element_save(element=element, by=org.office)
    assert "parent" in excinfo.value.message_dict


def test_an_element_cannot_use_the_level_of_another_strategy(org, cascade):
    element = Element(
        strategy=cascade.group, level=cascade.bearing.level, code="X", title="Stranger"
    )
    with pytest.raises(ValidationError) as excinfo:
        services.element_save(element=element, by=org.office)
    assert "level" in excinfo.value.message_dict


def test_an_element_cannot_hang_below_an_element_of_another_strategy(org, cascade):
    element = Element(
        strategy=cascade.group,
        parent=cascade.bearing,
        level=cascade.goal_1.level,
        code="X",
        title="X",
    )
    with pytest.raises(ValidationError) as excinfo:
        services.element_save(element=element, by=org.office)
    assert "parent" in excinfo.value.message_dict


def test_a_target_date_cannot_come_before_the_baseline_date(org, cascade):
    from datetime import date

    cascade.goal_1.baseline_date = date(2026, 1, 1)
    cascade.goal_1.target_date = date(2025, 12, 31)
    with pytest.raises(ValidationError) as excinfo:
        services.element_save(element=cascade.goal_1, by=org.office)
    assert "target_date" in excinfo.value.message_dict


def test_a_valid_element_is_saved_with_its_references_and_history(org, cascade):
    element = Element(
        strategy=cascade.group,
        parent=cascade.theme_2,
        level=cascade.goal_2.level,
        code="T2.2",
        title="Dialogue",
    )

    services.element_save(element=element, by=org.office, references=[cascade.bearing])

    stored = Element.objects.get(strategy=cascade.group, code="T2.2")
    assert list(stored.references.all()) == [cascade.bearing]
    assert list(cascade.bearing.referenced_by.all()) == [stored]
    assert stored.history.get().history_user == org.office


def test_an_element_cannot_reference_its_own_strategy(org, cascade):
    element = Element(
        strategy=cascade.group,
        parent=cascade.theme_2,
        level=cascade.goal_2.level,
        code="T2.2",
        title="Self",
    )
    with pytest.raises(ValidationError):
        services.element_save(element=element, by=org.office, references=[cascade.goal_1])
    assert not Element.objects.filter(code="T2.2").exists()


def test_a_goal_that_initiatives_link_to_cannot_be_deleted(org, cascade, agreement):
    with pytest.raises(ValidationError) as excinfo:
        services.element_delete(element=cascade.goal_1, by=org.office)
    assert excinfo.value.messages
    assert Element.objects.filter(pk=cascade.goal_1.pk).exists()
    assert agreement.initiatives.get().goals.get() == cascade.goal_1


def test_an_element_with_elements_below_cannot_be_deleted(org, cascade):
    with pytest.raises(ValidationError):
        services.element_delete(element=cascade.theme_1, by=org.office)
    assert Element.objects.filter(pk=cascade.theme_1.pk).exists()


def test_an_unused_goal_is_deleted_with_history(org, cascade):
    pk = cascade.goal_3.pk
    services.element_delete(element=cascade.goal_3, by=org.office)
    assert not Element.objects.filter(pk=pk).exists()
    assert Element.history.get(id=pk, history_type="-").history_user == org.office


def test_a_goal_whose_initiative_was_removed_can_be_deleted(org, cascade):
    initiative = InitiativeFactory(goals=[cascade.goal_2])
    initiative.goal_links.all().delete()
    services.element_delete(element=cascade.goal_2, by=org.office)
    assert not Element.objects.filter(pk=cascade.goal_2.pk).exists()


def test_element_factory_builds_a_consistent_tree():
    goal = ElementFactory(parent=ElementFactory())
    goal.full_clean()
    assert goal.level.depth == 2
    assert goal.strategy == goal.parent.strategy
