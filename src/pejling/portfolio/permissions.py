"""Who may do what in the development portfolio: the one home every face calls (pages, API,
package loader, demo).

* Every employee (anyone with a role on a unit) submits, supports and comments on challenges.
* Facilitators record workshops: the strategy office, unit heads and leadership-team members.
* Members of a leadership team (its chair included) decide for their team.
* An assignment's lead and the heads and editors of its owner unit (or a unit above) update
  the assignment, its stages and its benefits, and place its freed capacity.
* Top-down assignments are given by the executive board (recorded by it or the strategy office).
* The strategy office and executives see everything, including the organisation-wide ledger.
"""

from __future__ import annotations

from typing import Any

from pejling.organisation.models import Role
from pejling.organisation.permissions import (
    WRITE_ROLES,
    has_role,
    has_role_anywhere,
    is_strategy_office,
    memberships_of,
)


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_employee(user: Any) -> bool:
    return _signed_in(user) and (is_strategy_office(user) or bool(memberships_of(user)))


def can_read_portfolio(user: Any) -> bool:
    """Challenges, decisions, assignments and benefits are open to every employee."""
    return is_employee(user)


def sees_everything(user: Any) -> bool:
    return is_strategy_office(user) or has_role_anywhere(user, [Role.EXECUTIVE])


def can_submit_challenge(user: Any) -> bool:
    return is_employee(user)


def can_support(user: Any) -> bool:
    return is_employee(user)


def can_comment(user: Any) -> bool:
    return is_employee(user)


def can_edit_challenge(user: Any, challenge: Any) -> bool:
    """Its submitter, the heads and editors of its unit (or above), and the strategy office."""
    if not is_employee(user):
        return False
    if challenge.submitted_by_id is not None and challenge.submitted_by_id == user.pk:
        return True
    return is_strategy_office(user) or has_role(user, challenge.unit, WRITE_ROLES)


def is_facilitator(user: Any) -> bool:
    if not is_employee(user):
        return False
    if is_strategy_office(user) or has_role_anywhere(user, [Role.UNIT_HEAD]):
        return True
    return bool(user.leadership_teams.exists() or user.chaired_teams.exists())


def can_record_workshop(user: Any) -> bool:
    return is_facilitator(user)


def can_manage_teams(user: Any) -> bool:
    return is_strategy_office(user)


def is_team_member(user: Any, team: Any) -> bool:
    if not _signed_in(user):
        return False
    if team.chair_id == user.pk:
        return True
    return team.members.filter(pk=user.pk).exists()


def can_plan_meeting(user: Any, team: Any) -> bool:
    """Hold a meeting and set its agenda: the team's members, or the strategy office for it."""
    return is_strategy_office(user) or is_team_member(user, team)


def can_decide(user: Any, team: Any) -> bool:
    """Decide on challenges: only the team's own members."""
    return is_team_member(user, team)


def can_give_top_down(user: Any) -> bool:
    return is_strategy_office(user) or has_role_anywhere(user, [Role.EXECUTIVE])


def can_update_assignment(user: Any, assignment: Any) -> bool:
    if not _signed_in(user):
        return False
    if assignment.lead_id is not None and assignment.lead_id == user.pk:
        return True
    return is_strategy_office(user) or has_role(user, assignment.unit, WRITE_ROLES)


def can_update_benefit(user: Any, benefit: Any) -> bool:
    if not _signed_in(user):
        return False
    if benefit.owner_id is not None and benefit.owner_id == user.pk:
        return True
    return can_update_assignment(user, benefit.assignment)


def can_place_capacity(user: Any, benefit: Any) -> bool:
    """Record where a benefit's freed capacity went: its owners, or the executive board."""
    return can_update_benefit(user, benefit) or has_role_anywhere(user, [Role.EXECUTIVE])
