"""A strategy or element save writes only the fields it changes, on the locked row."""

from __future__ import annotations

import pytest

from pejling.strategy import services
from pejling.strategy.models import Element, Strategy

pytestmark = pytest.mark.django_db


def test_a_save_from_an_older_copy_keeps_what_someone_else_changed(org, cascade):
    mine = Strategy.objects.get(pk=cascade.group.pk)
    theirs = Strategy.objects.get(pk=cascade.group.pk)
    theirs.title = "Their title"
    services.strategy_save(strategy=theirs, by=org.office, expected_version=theirs.version)
    mine.summary = "My summary"
    services.strategy_save(strategy=mine, by=org.office)  # no version: no check, no loss
    stored = Strategy.objects.get(pk=cascade.group.pk)
    assert (stored.title, stored.summary) == ("Their title", "My summary")
    assert stored.version == 3


def test_an_element_save_from_an_older_copy_keeps_the_other_field(org, cascade):
    mine = Element.objects.get(pk=cascade.goal_2.pk)
    theirs = Element.objects.get(pk=cascade.goal_2.pk)
    theirs.title = "Their goal"
    services.element_save(element=theirs, by=org.office, expected_version=theirs.version)
    mine.description = "Mine"
    services.element_save(element=mine, by=org.office)
    stored = Element.objects.get(pk=cascade.goal_2.pk)
    assert (stored.title, stored.description) == ("Their goal", "Mine")
