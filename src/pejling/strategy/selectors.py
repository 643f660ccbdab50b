"""Reads on strategies: cascades, trees of elements and the goals initiatives can link to."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet

from pejling.organisation.permissions import is_strategy_office
from pejling.strategy.models import Element, Strategy, StrategyLevel, StrategyStatus


@dataclass
class ElementNode:
    element: Element
    children: list[ElementNode] = field(default_factory=list)


# Who may read what -------------------------------------------------------------------------
#
# One rule for the web pages, the API and every list: published and archived strategies are
# public records, readable by everyone signed in; drafts only by the strategy office. A
# strategy one may not read answers the same 404 as one that does not exist.

PUBLIC_STATUSES: tuple[str, ...] = (StrategyStatus.PUBLISHED, StrategyStatus.ARCHIVED)


def readable_strategies(user: Any) -> QuerySet[Strategy]:
    """The strategies ``user`` may read: all for the strategy office, else the public ones."""
    qs = Strategy.objects.select_related("parent").prefetch_related("levels")
    if not is_strategy_office(user):
        qs = qs.filter(status__in=PUBLIC_STATUSES)
    return qs


def can_read_strategy(user: Any, strategy: Strategy) -> bool:
    """The same rule for one strategy in hand (no query)."""
    return strategy.status in PUBLIC_STATUSES or is_strategy_office(user)


def readable_elements(user: Any) -> QuerySet[Element]:
    """The elements (themes, goals, ...) of the strategies ``user`` may read."""
    return Element.objects.filter(strategy__in=readable_strategies(user).values("pk"))


def readable_goals(user: Any) -> QuerySet[Element]:
    """The goals (elements of a level that holds goals) of strategies ``user`` may read."""
    return readable_elements(user).filter(level__holds_goals=True)


def strategies_for_year(year: int) -> QuerySet[Strategy]:
    """The strategies in force in ``year``: published, and covering the year."""
    return (
        Strategy.objects.select_related("parent")
        .prefetch_related("levels")
        .filter(status=StrategyStatus.PUBLISHED, start_year__lte=year, end_year__gte=year)
    )


def element_tree(strategy: Strategy) -> list[ElementNode]:
    """The strategy's elements as a tree, top level first, in two queries."""
    elements = list(
        strategy.elements.select_related("level").prefetch_related(
            Prefetch("references", queryset=Element.objects.select_related("strategy", "level"))
        )
    )
    nodes = {e.pk: ElementNode(e) for e in elements}
    roots: list[ElementNode] = []
    for element in elements:
        node = nodes[element.pk]
        if element.parent_id and element.parent_id in nodes:
            nodes[element.parent_id].children.append(node)
        else:
            roots.append(node)
    return roots


def cascade_of(strategy: Strategy) -> list[Strategy]:
    """The chain of strategies this one serves, the highest first (e.g. future narrative)."""
    chain: list[Strategy] = []
    seen = {strategy.pk}
    current = strategy.parent
    while current is not None and current.pk not in seen:
        chain.insert(0, current)
        seen.add(current.pk)
        current = current.parent
    return chain


@dataclass(frozen=True)
class GoalGroup:
    strategy: Strategy
    label: str  # e.g. the theme a goal sits under
    goals: list[Element]


def goal_groups_for_year(year: int) -> list[GoalGroup]:
    """The goals an initiative for ``year`` can be linked to, grouped by strategy and top element."""
    strategies = list(strategies_for_year(year))
    goals = list(
        Element.objects.filter(strategy__in=strategies, level__holds_goals=True)
        .select_related("strategy", "level")
        .order_by("strategy__position", "strategy__title", "position", "code")
    )
    tops = top_ancestors(goals)
    groups: dict[tuple[int, int], list[Element]] = defaultdict(list)
    labels: dict[tuple[int, int], str] = {}
    order: list[tuple[int, int]] = []
    for goal in goals:
        top = tops.get(goal.pk, goal)
        key = (goal.strategy_id, top.pk)
        if key not in groups:
            order.append(key)
            labels[key] = (
                f"{goal.strategy.title} · {top.title}" if top.pk != goal.pk else goal.strategy.title
            )
        groups[key].append(goal)
    by_id = {s.pk: s for s in strategies}
    return [GoalGroup(by_id[k[0]], labels[k], groups[k]) for k in order]


def top_ancestors(elements: list[Element]) -> dict[int, Element]:
    """Map each element id to its top-level ancestor (itself at depth 1). One query."""
    strategy_ids = {e.strategy_id for e in elements}
    all_elements = {
        e.pk: e
        for e in Element.objects.filter(strategy_id__in=strategy_ids).select_related("level")
    }
    result: dict[int, Element] = {}
    for element in elements:
        current = all_elements.get(element.pk, element)
        while current.parent_id is not None and current.parent_id in all_elements:
            current = all_elements[current.parent_id]
        result[element.pk] = current
    return result


def ancestors_map(strategy_ids: set[int]) -> dict[int, Element]:
    return {
        e.pk: e
        for e in Element.objects.filter(strategy_id__in=strategy_ids).select_related(
            "level", "strategy"
        )
    }


def top_level(strategy: Strategy) -> StrategyLevel | None:
    levels = list(strategy.levels.all())
    return levels[0] if levels else None
