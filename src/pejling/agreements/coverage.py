"""What an agreement has committed to: the one home for "which links count".

A goal link counts when its initiative is not cancelled (``COUNTED_STATUSES``). Across units
(the compliance matrix, goal evaluation, overdue lists) only agreements that have left the
draft state are commitments (``COMMITTED_STATES``); a draft, or an agreement reopened for
revision, commits to nothing yet. On one agreement's own page (the coverage card, the rule
box) the agreement is judged as it stands, drafts included, but with the same initiative rule,
so the card and the rule box never disagree.

Every reader calls this module: ``agreements.selectors.theme_coverage``,
``agreements.rules.check_rules``, ``followup.selectors.compliance_matrix`` and
``followup.evaluation``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.db.models import QuerySet

from pejling.agreements.models import AgreementState, InitiativeGoal, InitiativeStatus
from pejling.strategy.models import Element

#: Agreement states that are a commitment: submitted, agreed, published.
COMMITTED_STATES: tuple[str, ...] = (
    AgreementState.SUBMITTED,
    AgreementState.AGREED,
    AgreementState.PUBLISHED,
)

#: Initiative statuses whose goal links count: every status but cancelled.
COUNTED_STATUSES: tuple[str, ...] = tuple(
    s for s in InitiativeStatus.values if s != InitiativeStatus.CANCELLED
)


def is_committed(state: str) -> bool:
    """Whether an agreement in ``state`` is a commitment (not a draft)."""
    return state in COMMITTED_STATES


def initiative_counts(status: str) -> bool:
    """Whether the goal links of an initiative with ``status`` count (it is not cancelled)."""
    return status in COUNTED_STATUSES


class InitiativeLike(Protocol):
    """An ``Initiative`` (its ``goals`` a related manager) or an ``InitiativeView`` (a list)."""

    @property
    def status(self) -> str: ...

    @property
    def goals(self) -> Any: ...


def counted_initiatives(initiatives: Iterable[InitiativeLike]) -> list[Any]:
    """The initiatives of one agreement whose links count, in their order."""
    return [i for i in initiatives if initiative_counts(i.status)]


def counted_goals(initiatives: Iterable[InitiativeLike | Sequence[Element]]) -> list[Element]:
    """The goals the initiatives of one agreement link, leaving out cancelled initiatives.

    An item is an initiative (anything with ``status`` and ``goals``), or a bare list of one
    initiative's goals, which the caller vouches is not cancelled.
    """
    goals: list[Element] = []
    for item in initiatives:
        if isinstance(item, Sequence):
            goals.extend(item)
        elif initiative_counts(item.status):
            linked = item.goals
            goals.extend(linked.all() if hasattr(linked, "all") else linked)
    return goals


def committed_links(
    *,
    year: int | None = None,
    agreements: Any = None,
    statuses: Iterable[str] | None = None,
) -> QuerySet[InitiativeGoal]:
    """Goal links that are commitments: of agreements in ``COMMITTED_STATES`` (of ``year``, or
    among ``agreements``), of initiatives that are not cancelled (narrowed further to
    ``statuses`` when given; cancelled never counts even if listed)."""
    links = InitiativeGoal.objects.filter(
        initiative__agreement__state__in=COMMITTED_STATES,
        initiative__status__in=COUNTED_STATUSES,
    )
    if year is not None:
        links = links.filter(initiative__agreement__year=year)
    if agreements is not None:
        links = links.filter(initiative__agreement__in=agreements)
    if statuses is not None:
        links = links.filter(initiative__status__in=[s for s in statuses if initiative_counts(s)])
    return links
