"""Checking an agreement against the rules of the strategies in force (rules are data).

The check is about the agreement as it stands, drafts included: it is what the unit sees while
it drafts, and what ``agreement_submit`` asks a justification for. Which initiatives count is
``agreements.coverage`` (cancelled ones never meet a rule), as on the coverage card and in
follow-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pejling.agreements.coverage import InitiativeLike, counted_goals
from pejling.agreements.models import Agreement
from pejling.strategy.models import AgreementRule, Element, RuleKind
from pejling.strategy.selectors import top_ancestors


@dataclass
class RuleResult:
    rule: AgreementRule
    holds: bool
    missing: list[Element] = field(default_factory=list)  # top elements without an initiative


def rules_for(agreement: Agreement) -> list[AgreementRule]:
    return list(
        AgreementRule.objects.filter(
            active=True,
            unit_level_id=agreement.unit.level_id,
            strategy__start_year__lte=agreement.year,
            strategy__end_year__gte=agreement.year,
        ).select_related("strategy")
    )


def check_rules(
    agreement: Agreement, initiatives: Iterable[InitiativeLike | Sequence[Element]]
) -> list[RuleResult]:
    """Each active rule for the agreement's level and year, and whether the agreement meets it.

    Pass the agreement's initiatives (``Initiative`` rows with their goals prefetched, or the
    ``InitiativeView`` of ``readable_agreement``), so cancelled ones are left out; see
    ``counted_goals``.
    """
    rules = rules_for(agreement)
    if not rules:
        return []
    all_goals = counted_goals(initiatives)
    tops = top_ancestors(all_goals) if all_goals else {}
    strategy_ids = {r.strategy_id for r in rules}
    top_elements: dict[int, list[Element]] = {sid: [] for sid in strategy_ids}
    for element in Element.objects.filter(
        strategy_id__in=strategy_ids, parent__isnull=True
    ).order_by("position", "code"):
        top_elements[element.strategy_id].append(element)
    results = []
    for rule in rules:
        linked = [g for g in all_goals if g.strategy_id == rule.strategy_id and g.level.holds_goals]
        if rule.kind == RuleKind.ANY_GOAL:
            results.append(RuleResult(rule, bool(linked)))
            continue
        covered = {tops[g.pk].pk for g in linked if g.pk in tops}
        missing = [e for e in top_elements[rule.strategy_id] if e.pk not in covered]
        results.append(RuleResult(rule, not missing, missing))
    return results
