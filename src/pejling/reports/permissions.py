"""Who may do what with analyses and board reports. Every view, the command line, the demo
and the document builders ask here."""

from __future__ import annotations

from typing import Any

from pejling.organisation.models import Role, Unit
from pejling.organisation.permissions import (
    READ_ROLES,
    WRITE_ROLES,
    has_role,
    has_role_anywhere,
    is_strategy_office,
)


def can_manage_reports(user: Any) -> bool:
    """Create, assign, approve and finalise reports: the strategy office."""
    return is_strategy_office(user)


def can_write_analysis(user: Any, unit: Unit) -> bool:
    """Write the analyses of ``unit``: its head or editor (or one above), or the office."""
    return is_strategy_office(user) or has_role(user, unit, WRITE_ROLES)


def can_read_analysis(user: Any, unit: Unit) -> bool:
    """Read a unit's analyses while they are work in progress: anyone with a reading role on
    the unit or above (a centre reads its units' analyses), the office and the executive."""
    return is_strategy_office(user) or has_role(user, unit, [*READ_ROLES, Role.EXECUTIVE])


def can_see_reports(user: Any) -> bool:
    """See the list of reports: everyone signed in (finalised reports are public documents;
    reports in progress are listed only to those who take part, see ``can_read_report``)."""
    return bool(getattr(user, "is_authenticated", False))


def can_read_report(user: Any, report: Any) -> bool:
    """A finalised report is a published document: everyone signed in. One in progress:
    the office, the executive, and the people and units it is assigned to."""
    if not getattr(user, "is_authenticated", False):
        return False
    if report.is_finalised or can_manage_reports(user) or has_role_anywhere(user, [Role.EXECUTIVE]):
        return True
    return any(can_write_section(user, s) for s in report.sections.all())


def can_write_section(user: Any, section: Any) -> bool:
    """Write a section's text: the office, the person it is assigned to, or a head or editor
    of its unit (or above)."""
    if is_strategy_office(user):
        return True
    if section.assignee_id is not None and section.assignee_id == getattr(user, "pk", None):
        return True
    return section.unit is not None and has_role(user, section.unit, WRITE_ROLES)
