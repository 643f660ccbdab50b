"""How a goal stands: the statuses, their labels and their tone, in one place.

Every kind of goal is judged into one of these (KPI goals in ``indicators/evaluation.py``;
count, coverage and assessed goals in ``followup/evaluation.py``), and every page, the API and
the ``evaluate`` command show them with the labels here. The tone is the colour a status is
shown in (the ``status-<status>`` classes of ``app.css`` follow it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class GoalStatus(models.TextChoices):
    ACHIEVED = "achieved", _("Achieved")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Off track")
    NO_DATA = "no_data", _("No data")


#: The statuses an owner can give an assessed goal (all but "no data").
ASSESSABLE: tuple[str, ...] = tuple(s for s in GoalStatus.values if s != GoalStatus.NO_DATA)

#: Designsystemet colour of each status.
TONES: dict[str, str] = {
    GoalStatus.ACHIEVED: "success",
    GoalStatus.ON_TRACK: "success",
    GoalStatus.AT_RISK: "warning",
    GoalStatus.OFF_TRACK: "danger",
    GoalStatus.NO_DATA: "neutral",
}

# After a number: "3 achieved", "2 without data".
_COUNTED = {
    GoalStatus.ACHIEVED: _("achieved"),
    GoalStatus.ON_TRACK: _("on track"),
    GoalStatus.AT_RISK: _("at risk"),
    GoalStatus.OFF_TRACK: _("off track"),
    GoalStatus.NO_DATA: _("without data"),
}


def status_label(status: str) -> str:
    """The status as a heading or a table cell shows it: "On track"."""
    return str(GoalStatus(status).label)


def counted_label(status: str) -> str:
    """The status after a number: "3 on track"."""
    return gettext(str(_COUNTED[GoalStatus(status)]))


def tone(status: str) -> str:
    return TONES[GoalStatus(status)]


@dataclass(frozen=True)
class StatusCount:
    status: str
    count: int

    @property
    def label(self) -> str:
        return counted_label(self.status)

    @property
    def tone(self) -> str:
        return tone(self.status)


def status_counts(statuses: Iterable[str]) -> list[StatusCount]:
    """How many of each status, in the statuses' order, leaving out those with none."""
    counts = Counter(statuses)
    return [StatusCount(s, counts[s]) for s in GoalStatus.values if counts[s]]
