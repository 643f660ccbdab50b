"""The annual agreements' rules on plain values, each in one function: the models' ``clean``,
the services and the package loader's checks call these, so a rule is written once.

Each returns the problem as a translated message, or ``None`` when the values are fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _


def initiative_dates_problem(start: date | None, end: date | None) -> str | None:
    """An initiative cannot end before it starts."""
    if start and end and end < start:
        return _("The end cannot be before the start.")
    return None


@dataclass(frozen=True)
class GoalFacts:
    """What the goal-link rule needs to know of a goal (from the database or from a package)."""

    title: str
    level_name: str
    holds_goals: bool
    strategy_title: str
    start_year: int
    end_year: int

    @property
    def period_label(self) -> str:
        if self.start_year == self.end_year:
            return str(self.start_year)
        return f"{self.start_year}–{self.end_year}"


def goal_link_problem(goal: GoalFacts, year: int) -> str | None:
    """An initiative of the agreement for ``year`` links only to goals (elements at a level
    that holds goals) of strategies that cover ``year``."""
    if not goal.holds_goals:
        return _("“%(element)s” is a %(level)s, not a goal.") % {
            "element": goal.title,
            "level": goal.level_name.lower(),
        }
    if not goal.start_year <= year <= goal.end_year:
        return _(
            "“%(goal)s” belongs to %(strategy)s (%(period)s), which does not cover %(year)s."
        ) % {
            "goal": goal.title,
            "strategy": goal.strategy_title,
            "period": goal.period_label,
            "year": year,
        }
    return None
