"""``pejling generate``: a deterministic organisation of any size, written in bulk (on
PostgreSQL by COPY with the tables' checks and indexes made again after the load), with the
roll-up cache derived once at the end."""

from __future__ import annotations

import pytest
from django.db import connection

from pejling.demo.generate import RATIO_CODE, generate
from pejling.indicators import aggregate, rollups
from pejling.indicators.completeness import recent_completeness
from pejling.indicators.models import (
    Indicator,
    IndicatorPresence,
    IndicatorRollup,
    IndicatorValue,
)
from pejling.organisation.models import Unit

pytestmark = pytest.mark.django_db


def _constraints(table: str) -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name for name, c in found.items() if c["foreign_key"] or c["unique"] or c["index"]}


def test_generate_writes_every_value_and_the_roll_ups_a_rebuild_agrees_with() -> None:
    values_before = _constraints(IndicatorValue._meta.db_table)
    rollups_before = _constraints(IndicatorRollup._meta.db_table)

    done = generate(units=30, indicators=4, months=6, seed=3)

    assert done.units == Unit.objects.count() == 30
    assert done.values == IndicatorValue.objects.count() == 30 * 4 * 6
    assert done.rollup_rows == IndicatorRollup.objects.count() == 30 * 4 * 6
    # The roll-ups derived at the end are what a rebuild from the values gives (nothing to
    # change), and the whole organisation's series reads them.
    assert aggregate.rebuild()[1] == 0
    root = Unit.objects.get(depth=1)
    ratio = Indicator.objects.get(code=RATIO_CODE)
    points = rollups.series(ratio, root)
    assert len(points) == 6
    # Each unit's presence derived too: every unit reports every month, so every month is
    # complete by the rule (30 of 30 units from the second month on).
    assert (
        IndicatorPresence.objects.filter(indicator=ratio.numerator)
        .values("unit")
        .distinct()
        .count()
        == 30
    )
    judged = recent_completeness(
        {(ratio.pk, root.pk): (ratio, root, [p.period for p in points])}, recent=None
    )[(ratio.pk, root.pk)]
    assert [(c.reported, c.expected) for c in judged.values()] == [(30, 30)] * 6
    # The bulk load left every foreign key, unique constraint and index as it found them.
    assert _constraints(IndicatorValue._meta.db_table) == values_before
    assert _constraints(IndicatorRollup._meta.db_table) == rollups_before
    with pytest.raises(ValueError, match="already has units"):
        generate(units=30, indicators=4, months=6, seed=3)
