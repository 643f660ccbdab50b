"""Goal status, its labels and tone in one place (``strategy/goal_status.py``), used by KPI
evaluation, follow-up evaluation and the dashboard."""

from __future__ import annotations

import pytest
from django.utils import translation

from pejling.followup import evaluation as followup_evaluation
from pejling.indicators import evaluation as kpi_evaluation
from pejling.strategy.goal_status import (
    ASSESSABLE,
    GoalStatus,
    counted_label,
    status_counts,
    status_label,
    tone,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_both_evaluations_judge_into_the_same_statuses():
    assert kpi_evaluation.Status is GoalStatus
    assert followup_evaluation.GoalStatus is GoalStatus
    from pejling.followup.models import AssessmentStatus

    assert set(AssessmentStatus.values) == set(ASSESSABLE)


def test_labels_and_tones():
    assert status_label("on_track") == "On track"
    assert counted_label("no_data") == "without data"
    assert [tone(s) for s in GoalStatus.values] == [
        "success",
        "success",
        "warning",
        "danger",
        "neutral",
    ]


def test_counts_come_in_the_statuses_order_without_empty_ones():
    counts = status_counts(["no_data", "at_risk", "achieved", "at_risk"])
    assert [(c.status, c.count, c.label) for c in counts] == [
        ("achieved", 1, "achieved"),
        ("at_risk", 2, "at risk"),
        ("no_data", 1, "without data"),
    ]
    with translation.override("sv"):
        assert status_counts(["on_track"])[0].label == "på rätt väg"
