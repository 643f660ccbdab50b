"""A unit's initiatives by status and its traffic light: the subtree rolled up, the worst
reported status wins, one grouped query whatever the number of units."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from pejling.agreements.models import InitiativeStatus, traffic_light
from pejling.agreements.selectors import unit_statuses
from tests.factories import YEAR, AgreementFactory, InitiativeFactory, UnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_the_light_is_the_worst_reported_status() -> None:
    assert traffic_light({"on_track": 3, "off_track": 1, "at_risk": 2}).tone == "danger"
    light = traffic_light({"on_track": 3, "at_risk": 1})
    assert (light.tone, light.label, light.icon) == ("warning", "At risk", "!")
    assert traffic_light({"done": 2, "planned": 4}).tone == "success"
    assert traffic_light({"planned": 2, "started": 1}).label == "No report yet"
    assert traffic_light({"cancelled": 2}).label == "No initiatives"
    assert traffic_light({}).tone == "neutral"


def _unit_with(parent, statuses, year=YEAR):
    unit = UnitFactory(parent=parent)
    agreement = AgreementFactory(unit=unit, year=year)
    for status in statuses:
        InitiativeFactory(agreement=agreement, status=status)
    return unit


def test_each_unit_counts_its_whole_subtree_in_one_query() -> None:
    root = UnitFactory()
    north = UnitFactory(parent=root)
    south = UnitFactory(parent=root)
    for _ in range(3):
        _unit_with(north, [InitiativeStatus.ON_TRACK, InitiativeStatus.PLANNED])
    _unit_with(south, [InitiativeStatus.DONE, InitiativeStatus.AT_RISK])
    _unit_with(south, [InitiativeStatus.OFF_TRACK], year=YEAR - 1)  # another year
    north.refresh_from_db()
    south.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        statuses = unit_statuses(year=YEAR, units=[north, south])
    assert len(queries) == 1
    by_unit = {s.unit.pk: s for s in statuses}
    assert (by_unit[north.pk].on_track, by_unit[north.pk].not_reported) == (3, 3)
    assert by_unit[north.pk].light.tone == "success"
    assert (by_unit[south.pk].done, by_unit[south.pk].at_risk, by_unit[south.pk].off_track) == (
        1,
        1,
        0,
    )
    assert by_unit[south.pk].light.label == "At risk"
    assert [p.status for p in by_unit[south.pk].parts] == ["at_risk", "done"]
    assert unit_statuses(year=YEAR, units=[]) == []
