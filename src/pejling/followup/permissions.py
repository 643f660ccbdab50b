"""Who may read (and so comment on) a follow-up subject: a goal, an initiative, an agreement.

Its own module so that the services and the background tasks (``notify_mentions``, which mails
only people who may read the subject) both call it without importing each other.
"""

from __future__ import annotations

from typing import Any

from pejling.agreements.models import Agreement, Initiative
from pejling.agreements.selectors import readable_agreement
from pejling.strategy.models import Element
from pejling.strategy.selectors import can_read_strategy


def can_read_subject(
    user: Any,
    *,
    goal: Element | None = None,
    initiative: Initiative | None = None,
    agreement: Agreement | None = None,
) -> bool:
    """Whether ``user`` may read (and so comment on) the goal, initiative or agreement."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if goal is not None:
        return can_read_strategy(user, goal.strategy)
    if initiative is not None:
        agreement = initiative.agreement
    if agreement is not None:
        return readable_agreement(user, agreement) is not None
    return False
