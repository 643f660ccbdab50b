"""The one table of a report section's workflow: draft → ready → approved (and back).

The view shows the buttons ``available_steps`` returns, the service runs only those steps,
and the report can be finalised only when ``can_finalise`` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from pejling.reports.models import Report, ReportState, Section, SectionState
from pejling.reports.permissions import can_manage_reports, can_write_section


@dataclass(frozen=True)
class Step:
    name: str
    label: Promise
    from_states: tuple[str, ...]
    to_state: str
    allowed: Callable[[Any, Section], bool]
    done_message: Promise


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step(
            "ready",
            _("Mark as ready"),
            (SectionState.DRAFT,),
            SectionState.READY,
            can_write_section,
            _("The section is ready for approval."),
        ),
        Step(
            "approve",
            _("Approve"),
            (SectionState.READY,),
            SectionState.APPROVED,
            lambda user, section: can_manage_reports(user),
            _("The section was approved."),
        ),
        Step(
            "reopen",
            _("Reopen"),
            (SectionState.READY, SectionState.APPROVED),
            SectionState.DRAFT,
            lambda user, section: (
                can_manage_reports(user)
                or (section.state == SectionState.READY and can_write_section(user, section))
            ),
            _("The section is a draft again."),
        ),
    )
}


def available_steps(user: Any, section: Section) -> list[Step]:
    """The steps ``user`` may take on ``section`` now (none once the report is finalised)."""
    if section.report.state != ReportState.OPEN:
        return []
    return [
        s for s in STEPS.values() if section.state in s.from_states and s.allowed(user, section)
    ]


def section_is_editable(section: Section) -> bool:
    """Text can change only while the section is a draft and its report is open."""
    return section.state == SectionState.DRAFT and section.report.state == ReportState.OPEN


def can_finalise(user: Any, report: Report, sections: list[Section]) -> bool:
    return (
        can_manage_reports(user)
        and report.state == ReportState.OPEN
        and bool(sections)
        and all(s.state == SectionState.APPROVED for s in sections)
    )
