"""Rules for annual agreements (rules are data): checking them, and submitting an agreement
that breaks one only with a justification the approver sees."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pejling.agreements import services
from pejling.agreements.coverage import counted_goals
from pejling.agreements.models import (
    Agreement,
    AgreementState,
    InitiativeStatus,
    RuleJustification,
)
from pejling.agreements.rules import check_rules
from pejling.agreements.selectors import readable_agreement
from pejling.organisation.models import UnitLevel
from pejling.strategy.models import RuleKind
from tests.factories import (
    YEAR,
    AgreementFactory,
    AgreementRuleFactory,
    ElementFactory,
    InitiativeFactory,
    StrategyFactory,
    StrategyLevelFactory,
)

pytestmark = pytest.mark.django_db


def level(depth: int) -> UnitLevel:
    return UnitLevel.objects.get(depth=depth)


def state_of(agreement: Agreement) -> str:
    return Agreement.objects.get(pk=agreement.pk).state


# Checking -----------------------------------------------------------------------------------------


def test_each_top_element_holds_when_every_theme_has_a_linked_initiative(org, cascade, agreement):
    rule = AgreementRuleFactory(
        strategy=cascade.group, unit_level=level(4), kind=RuleKind.EACH_TOP_ELEMENT
    )

    [result] = check_rules(agreement, [[cascade.goal_1], [cascade.goal_2, cascade.goal_3]])

    assert result.rule == rule
    assert result.holds
    assert result.missing == []


def test_each_top_element_does_not_hold_and_names_the_themes_without_an_initiative(
    org, cascade, agreement
):
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(4))

    [result] = check_rules(agreement, [[cascade.goal_2]])

    assert not result.holds
    assert result.missing == [cascade.theme_1, cascade.theme_3]


def test_each_top_element_is_not_met_by_goals_of_another_strategy(org, cascade, agreement):
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(4))

    [result] = check_rules(agreement, [[cascade.old_goal]])

    assert not result.holds
    assert result.missing == [cascade.theme_1, cascade.theme_2, cascade.theme_3]


def test_any_goal_holds_with_one_initiative_linked_to_a_goal_of_the_strategy(
    org, cascade, agreement
):
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(4), kind=RuleKind.ANY_GOAL)

    [result] = check_rules(agreement, [[cascade.goal_3]])

    assert result.holds


def test_any_goal_does_not_hold_without_a_goal_of_the_strategy(org, cascade, agreement):
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(4), kind=RuleKind.ANY_GOAL)

    assert [r.holds for r in check_rules(agreement, [[cascade.old_goal], []])] == [False]
    assert [r.holds for r in check_rules(agreement, [])] == [False]


def test_rules_apply_only_to_their_level(org, cascade, agreement):
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(2))  # centres
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(3))  # departments

    assert check_rules(agreement, [[cascade.goal_1]]) == []
    centre_agreement = AgreementFactory(unit=org.centre_a)
    [result] = check_rules(centre_agreement, [[cascade.goal_1]])
    assert result.rule.unit_level == level(2)


def test_rules_apply_only_in_the_years_of_their_strategy(org, cascade):
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(4))  # 2025–2026
    later = StrategyFactory(code="later", start_year=YEAR + 1, end_year=YEAR + 3)
    StrategyLevelFactory(strategy=later, depth=1)
    ElementFactory(strategy=later, code="L1")
    AgreementRuleFactory(strategy=later, unit_level=level(4), kind=RuleKind.ANY_GOAL)

    this_year = AgreementFactory(unit=org.unit, year=YEAR)
    next_year = AgreementFactory(unit=org.unit, year=YEAR + 1)
    long_ago = AgreementFactory(unit=org.unit, year=2021)

    assert [r.rule.strategy for r in check_rules(this_year, [])] == [cascade.group]
    assert [r.rule.strategy for r in check_rules(next_year, [])] == [later]
    assert check_rules(long_ago, []) == []


def test_an_inactive_rule_is_not_checked(org, cascade, agreement):
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(4), active=False)

    assert check_rules(agreement, []) == []


# Drafts and cancelled initiatives ---------------------------------------------------------------


def test_the_check_evaluates_the_draft_itself(org, cascade, agreement):
    """The check is there for the unit while it drafts: a draft's initiatives count."""
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(4), kind=RuleKind.ANY_GOAL)
    assert agreement.state == AgreementState.DRAFT

    [result] = check_rules(agreement, agreement.initiatives.prefetch_related("goals__level"))

    assert result.holds


def test_a_cancelled_initiative_meets_no_rule(org, cascade):
    each_theme = AgreementRuleFactory(strategy=cascade.group, unit_level=level(4))
    any_goal = AgreementRuleFactory(
        strategy=cascade.group, unit_level=level(4), kind=RuleKind.ANY_GOAL
    )
    agreement = AgreementFactory(unit=org.sibling)
    InitiativeFactory(
        agreement=agreement,
        goals=[cascade.goal_1, cascade.goal_2, cascade.goal_3],
        status=InitiativeStatus.CANCELLED,
    )
    InitiativeFactory(agreement=agreement, goals=[cascade.goal_2], status=InitiativeStatus.STARTED)

    results = {r.rule: r for r in check_rules(agreement, agreement.initiatives.all())}

    assert not results[each_theme].holds
    assert results[each_theme].missing == [cascade.theme_1, cascade.theme_3]
    assert results[any_goal].holds  # the started one
    agreement.initiatives.filter(status=InitiativeStatus.STARTED).delete()
    results = {r.rule: r for r in check_rules(agreement, agreement.initiatives.all())}
    assert not results[any_goal].holds


def test_a_cancelled_initiative_is_left_out_of_what_a_reader_sees_checked(org, cascade, agreement):
    """The agreement page checks the ``InitiativeView`` rows of ``readable_agreement``."""
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(4))
    InitiativeFactory(agreement=agreement, goals=[cascade.goal_2], status=InitiativeStatus.DONE)
    InitiativeFactory(
        agreement=agreement, goals=[cascade.goal_3], status=InitiativeStatus.CANCELLED
    )
    view = readable_agreement(org.head, agreement)
    assert view is not None and view.live

    [result] = check_rules(agreement, view.initiatives)

    assert not result.holds
    assert result.missing == [cascade.theme_3]
    assert counted_goals(view.initiatives) == [cascade.goal_1, cascade.goal_2]


def test_the_agreement_page_leaves_cancelled_initiatives_out_of_the_rule_check(
    client, org, cascade, agreement
):
    rule = AgreementRuleFactory(strategy=cascade.group, unit_level=level(4))
    InitiativeFactory(
        agreement=agreement,
        goals=[cascade.goal_2, cascade.goal_3],
        status=InitiativeStatus.CANCELLED,
    )
    client.force_login(org.head)

    response = client.get(reverse("agreements:agreement_detail", args=[org.unit.code, YEAR]))

    [broken] = response.context["broken_rules"]
    assert broken.rule == rule
    assert broken.missing == [cascade.theme_2, cascade.theme_3]


def test_submitting_needs_a_justification_when_only_a_cancelled_initiative_covers_a_theme(
    org, cascade, agreement
):
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(4))
    InitiativeFactory(
        agreement=agreement,
        goals=[cascade.goal_2, cascade.goal_3],
        status=InitiativeStatus.CANCELLED,
    )

    with pytest.raises(ValidationError):
        services.agreement_submit(agreement=agreement, by=org.head)


# Submitting ---------------------------------------------------------------------------------------


def test_submitting_an_agreement_that_breaks_a_rule_needs_a_justification(org, cascade, agreement):
    rule = AgreementRuleFactory(
        strategy=cascade.group, unit_level=level(4), name="Every theme has an initiative"
    )

    with pytest.raises(ValidationError) as raised:
        services.agreement_submit(agreement=agreement, by=org.head)

    assert "justification" in raised.value.message_dict
    assert "Every theme has an initiative" in " ".join(raised.value.messages)
    assert state_of(agreement) == AgreementState.DRAFT
    assert Agreement.objects.get(pk=agreement.pk).submitted_at is None
    assert not RuleJustification.objects.exists()

    with pytest.raises(ValidationError):  # blank is no justification
        services.agreement_submit(agreement=agreement, by=org.head, justifications={rule.pk: "  "})
    assert state_of(agreement) == AgreementState.DRAFT
    assert not RuleJustification.objects.exists()


def test_a_justification_for_another_rule_does_not_do(org, cascade, agreement):
    broken = AgreementRuleFactory(strategy=cascade.group, unit_level=level(4))
    met = AgreementRuleFactory(strategy=cascade.group, unit_level=level(4), kind="any_goal")

    with pytest.raises(ValidationError):
        services.agreement_submit(
            agreement=agreement, by=org.head, justifications={met.pk: "We have one"}
        )

    assert state_of(agreement) == AgreementState.DRAFT
    assert not broken.justifications.exists()


def test_a_justified_agreement_is_submitted_and_the_justification_kept(org, cascade, agreement):
    rule = AgreementRuleFactory(strategy=cascade.group, unit_level=level(4))
    met = AgreementRuleFactory(strategy=cascade.group, unit_level=level(4), kind="any_goal")

    services.agreement_submit(
        agreement=agreement,
        by=org.head,
        justifications={rule.pk: "  We merge with Unit A1b in June.  ", met.pk: "Not needed"},
    )

    assert state_of(agreement) == AgreementState.SUBMITTED
    [justification] = RuleJustification.objects.all()
    assert justification.agreement == agreement
    assert justification.rule == rule
    assert justification.text == "We merge with Unit A1b in June."
    assert justification.created_by == org.head


def test_an_agreement_that_meets_every_rule_is_submitted_without_a_justification(
    org, cascade, agreement
):
    AgreementRuleFactory(strategy=cascade.group, unit_level=level(4))
    InitiativeFactory(agreement=agreement, goals=[cascade.goal_2, cascade.goal_3])

    services.agreement_submit(agreement=agreement, by=org.head)

    assert state_of(agreement) == AgreementState.SUBMITTED
    assert not RuleJustification.objects.exists()


def test_a_resubmission_replaces_the_justification(org, cascade, agreement):
    rule = AgreementRuleFactory(strategy=cascade.group, unit_level=level(4))
    services.agreement_submit(agreement=agreement, by=org.head, justifications={rule.pk: "First"})
    services.agreement_return(agreement=agreement, by=org.parent_head, comment="Say more")

    services.agreement_submit(
        agreement=agreement, by=org.head, justifications={rule.pk: "Second, longer"}
    )

    assert [j.text for j in RuleJustification.objects.all()] == ["Second, longer"]


def test_the_approver_reads_the_justification_on_the_agreement_page(
    client, org, cascade, agreement
):
    rule = AgreementRuleFactory(
        strategy=cascade.group, unit_level=level(4), name="Every theme has an initiative"
    )
    url = reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])
    submit_url = reverse("agreements:agreement_transition", args=[org.unit.code, YEAR, "submit"])
    client.force_login(org.head)

    page = client.get(url)
    assert f'name="justification-{rule.pk}"' in page.content.decode()
    client.post(submit_url)  # without the justification: refused
    assert state_of(agreement) == AgreementState.DRAFT
    client.post(submit_url, {f"justification-{rule.pk}": "Theme 2 and 3 wait for the merger."})
    assert state_of(agreement) == AgreementState.SUBMITTED

    client.force_login(org.parent_head)
    response = client.get(url)

    assert response.status_code == 200
    content = response.content.decode()
    assert "Theme 2 and 3 wait for the merger." in content
    assert "Every theme has an initiative" in content
    assert "Hanna Head" in content  # who justified it
    assert reverse("agreements:agreement_transition", args=[org.unit.code, YEAR, "agree"]) in (
        content
    )
