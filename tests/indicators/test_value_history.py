"""Every stored indicator value's creation and change is in the audit trail: who, when, which
import, before and after, however it was written (a bulk COPY, the temporary-table merge on
PostgreSQL, the generic upsert elsewhere)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from pejling.audit.trail import AuditFilters, audit_page
from pejling.indicators.models import ImportBatch, ImportStatus, Indicator, IndicatorValue
from tests.factories import IndicatorFactory, UserFactory
from tests.indicators.files import import_bytes

pytestmark = pytest.mark.django_db

History = IndicatorValue.history.model

FIRST = "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1b;2019-03;5\n"
# One value changed, one the same, one new (of a period already stored: not the COPY path).
EDITED = (
    "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4,5\nSICK;unit-a1b;2019-03;5\n"
    "SICK;unit-a2a;2019-03;7\n"
)


@pytest.fixture
def sick(org: Any) -> Indicator:
    return IndicatorFactory(code="SICK", measure_unit="days")


@pytest.fixture
def office() -> Any:
    return UserFactory(username="analytiker")


def run(text: str, by: Any) -> ImportBatch:
    batch = import_bytes(data=text.encode(), filename="sick.csv", by=by)
    assert batch.status == ImportStatus.DONE, batch.errors
    return batch


def rows() -> list[tuple[str, str, Decimal, str, str, int | None, str | None]]:
    """The history rows, by batch, then unit and period."""
    found = [
        (
            h.unit.code,
            h.period,
            h.value,
            h.history_type,
            h.history_change_reason or "",
            h.batch_id,
            h.history_user.username if h.history_user else None,
        )
        for h in History.objects.select_related("unit", "history_user")
    ]
    return sorted(found, key=lambda r: (r[5] or 0, r[0], r[1]))


def test_a_first_import_records_every_value_as_created_by_whom_and_which_import(
    sick: Indicator, office: Any
) -> None:
    batch = run(FIRST, office)
    assert rows() == [
        ("unit-a1a", "2019-03", Decimal(4), "+", "imported", batch.pk, "analytiker"),
        ("unit-a1b", "2019-03", Decimal(5), "+", "imported", batch.pk, "analytiker"),
    ]
    # The history rows are the values' own ids.
    assert set(History.objects.values_list("id", flat=True)) == set(
        IndicatorValue.objects.values_list("id", flat=True)
    )


def test_a_re_import_records_only_what_changed_and_the_trail_shows_before_and_after(
    sick: Indicator, office: Any
) -> None:
    first = run(FIRST, office)
    run(FIRST, office)  # the same file: nothing changes, nothing is recorded
    assert History.objects.count() == 2
    second = run(EDITED, office)
    assert (second.created, second.updated) == (1, 1)
    assert rows()[2:] == [
        ("unit-a1a", "2019-03", Decimal("4.5"), "~", "imported", second.pk, "analytiker"),
        ("unit-a2a", "2019-03", Decimal(7), "+", "imported", second.pk, "analytiker"),
    ]
    with translation.override("en"):
        entries, _more = audit_page(
            AuditFilters(model="indicators.indicatorvalue"), after=None, limit=50
        )
    changed = [e for e in entries if e.kind == "~"]
    assert len(changed) == 1
    assert changed[0].object_label == "SICK · unit-a1a · 2019-03"
    assert changed[0].model_name == "indicator value"
    assert changed[0].who == office
    changes = {name: (old, new) for name, old, new in changed[0].shown_changes}
    assert changes == {
        "value": ("4.000000", "4.500000"),
        "import": (str(first.pk), str(second.pk)),
    }
    assert len(entries) == 4


def test_a_refused_file_records_nothing(sick: Indicator, office: Any) -> None:
    run(FIRST, office)
    batch = import_bytes(
        data=(EDITED + "SICK;nowhere;2019-03;1\n").encode(), filename="sick.csv", by=office
    )
    assert batch.status == ImportStatus.FAILED
    assert History.objects.count() == 2
