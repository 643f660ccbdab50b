"""The services a package load writes through refuse, on their own, what breaks a rule, so the
load, the pages, the API and the demo share one home for each rule."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from pejling.agreements import services as agreement_services
from pejling.agreements.models import Agreement
from pejling.core.history import SYSTEM
from pejling.strategy import services as strategy_services
from pejling.strategy.models import Element
from tests.factories import AgreementFactory, ElementFactory, InitiativeFactory, StrategyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def goal_of(strategy):
    theme = ElementFactory(strategy=strategy)
    goal = ElementFactory(parent=theme)
    goal.level.holds_goals = True
    goal.level.save()
    return goal


def test_an_element_whose_parent_is_in_another_strategy_is_refused(org):
    parent = ElementFactory()
    element = ElementFactory(parent=ElementFactory())  # a child in its own strategy
    element.parent = parent
    with pytest.raises(ValidationError, match="parent element belongs to another strategy"):
        strategy_services.element_save(element=element, by=SYSTEM)
    element.refresh_from_db()
    assert element.parent != parent


def test_an_element_cannot_reference_its_own_strategy(org):
    element = ElementFactory()
    same = ElementFactory(strategy=element.strategy)
    with pytest.raises(ValidationError, match="other strategies"):
        strategy_services.element_references_set(element=element, by=SYSTEM, references=[same])
    assert not element.references.exists()


def test_an_initiative_links_only_to_goals_of_strategies_covering_its_year(org):
    initiative = InitiativeFactory(agreement=AgreementFactory(unit=org.unit, year=2026))
    later = goal_of(StrategyFactory(start_year=2028, end_year=2030))
    with pytest.raises(ValidationError, match="which does not cover 2026"):
        agreement_services.initiative_goals_set(initiative=initiative, by=SYSTEM, goals=[later])
    assert not initiative.goal_links.exists()
    current = goal_of(StrategyFactory(start_year=2025, end_year=2027))
    assert agreement_services.initiative_goals_set(
        initiative=initiative, by=SYSTEM, goals=[current]
    )
    assert not agreement_services.initiative_goals_set(
        initiative=initiative, by=SYSTEM, goals=[current]
    )


def test_only_a_package_load_writes_agreements_outside_the_workflow(org):
    agreement = Agreement(unit=org.unit, year=2026, state="published")
    with pytest.raises(PermissionDenied):
        agreement_services.agreement_save_as_given(agreement=agreement, by=org.office)
    assert not Agreement.objects.exists()
    agreement_services.agreement_save_as_given(agreement=agreement, by=SYSTEM)
    assert agreement.history.get().history_user is None


def test_the_strategy_office_keeps_rules_and_others_may_not(org):
    element = ElementFactory()
    with pytest.raises(PermissionDenied):
        strategy_services.element_save(element=element, by=org.head)
    assert Element.objects.get(pk=element.pk).version == element.version
