"""Every stored indicator value's origin and change is in the audit trail: who, when, which
import, before and after, however it was written (a bulk COPY, the temporary-table merge on
PostgreSQL, the generic upsert elsewhere). An import is recorded once (its batch); only the values
it changed get a history row (with before and after); a value it created is traced to it by its
``batch``."""

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


def test_a_first_import_records_the_import_once_and_no_row_per_value(
    sick: Indicator, office: Any
) -> None:
    batch = run(FIRST, office)
    assert History.objects.count() == 0
    assert batch.created == 2
    # The trail of one value still says who set it, when, and in which import (from which file).
    value = IndicatorValue.objects.get(unit__code="unit-a1a")
    with translation.override("en"):
        entries, _more = audit_page(
            AuditFilters(model="indicators.indicatorvalue", object_id=value.pk),
            after=None,
            limit=50,
        )
    assert [(e.kind, e.who, e.reason_code, e.when) for e in entries] == [
        ("+", office, "imported", batch.finished_at)
    ]
    assert entries[0].object_label == "SICK · unit-a1a · 2019-03"
    changes = {name: (old, new) for name, old, new in entries[0].shown_changes}
    assert changes == {"value": ("–", "4.000000"), "import": ("–", f"{batch.pk}: sick.csv")}


def test_a_re_import_records_only_what_changed_and_the_trail_shows_before_and_after(
    sick: Indicator, office: Any
) -> None:
    first = run(FIRST, office)
    run(FIRST, office)  # the same file: nothing changes, nothing is recorded
    assert History.objects.count() == 0
    second = run(EDITED, office)
    assert (second.created, second.updated) == (1, 1)
    # The new value (unit-a2a) has no history row: its batch says which import made it.
    assert rows() == [
        ("unit-a1a", "2019-03", Decimal("4.5"), "~", "imported", second.pk, "analytiker"),
    ]
    changed_row = History.objects.get()
    assert (changed_row.previous_value, changed_row.previous_batch_id) == (Decimal(4), first.pk)
    with translation.override("en"):
        entries, _more = audit_page(
            AuditFilters(model="indicators.indicatorvalue"), after=None, limit=50
        )
    assert len(entries) == 1
    changed = entries[0]
    assert changed.kind == "~"
    assert changed.object_label == "SICK · unit-a1a · 2019-03"
    assert changed.model_name == "indicator value"
    assert changed.who == office
    changes = {name: (old, new) for name, old, new in changed.shown_changes}
    assert changes == {
        "value": ("4.000000", "4.500000"),
        "import": (str(first.pk), str(second.pk)),
    }
    # The changed value's own trail: created by the first import, changed by the second.
    with translation.override("en"):
        own, _more = audit_page(
            AuditFilters(model="indicators.indicatorvalue", object_id=changed.object_id),
            after=None,
            limit=50,
            newest_first=False,
        )
    assert [(e.kind, e.reason_code) for e in own] == [("+", "imported"), ("~", "imported")]
    assert {n: (o, v) for n, o, v in own[0].shown_changes}["value"] == ("–", "4.000000")


def test_a_re_import_changing_three_values_records_exactly_three_rows_with_before_and_after(
    sick: Indicator, office: Any
) -> None:
    text = "indicator;unit;period;value\n" + "".join(
        f"SICK;{unit};2019-0{month};{month}\n"
        for unit in ("unit-a1a", "unit-a1b", "unit-a2a")
        for month in (1, 2, 3)
    )
    first = run(text, office)
    assert (first.created, History.objects.count()) == (9, 0)
    edited = (
        text.replace("unit-a1a;2019-01;1", "unit-a1a;2019-01;10")
        .replace("unit-a1b;2019-02;2", "unit-a1b;2019-02;20")
        .replace("unit-a2a;2019-03;3", "unit-a2a;2019-03;30")
    )
    second = run(edited, office)
    assert (second.created, second.updated) == (0, 3)
    assert sorted(
        (h.unit.code, h.period, h.previous_value, h.value, h.previous_batch_id, h.batch_id)
        for h in History.objects.select_related("unit")
    ) == [
        ("unit-a1a", "2019-01", Decimal(1), Decimal(10), first.pk, second.pk),
        ("unit-a1b", "2019-02", Decimal(2), Decimal(20), first.pk, second.pk),
        ("unit-a2a", "2019-03", Decimal(3), Decimal(30), first.pk, second.pk),
    ]


def test_a_refused_file_records_nothing(sick: Indicator, office: Any) -> None:
    run(FIRST, office)
    batch = import_bytes(
        data=(EDITED + "SICK;nowhere;2019-03;1\n").encode(), filename="sick.csv", by=office
    )
    assert batch.status == ImportStatus.FAILED
    assert History.objects.count() == 0
    assert IndicatorValue.objects.count() == 2


def test_a_change_row_written_by_either_writer_is_the_row_the_one_builder_makes(
    sick: Indicator, office: Any
) -> None:
    """``IndicatorValue.imported_history`` builds the history row of an imported value for the
    generic writer and for the audit trail (a creation); the set-based SQL on PostgreSQL
    writes the same columns: every column but the row's own id agrees."""
    first = run(FIRST, office)
    second = run(EDITED, office)
    written = History.objects.get()
    value = IndicatorValue.objects.get(pk=written.id)
    built = IndicatorValue.imported_history(
        value.pk,
        value,
        value=value.value,
        batch=second,
        history_type="~",
        history_date=written.history_date,
        previous_value=Decimal(4),
        previous_batch_id=first.pk,
    )
    columns = [f.attname for f in History._meta.concrete_fields if f.attname != "history_id"]
    assert {c: getattr(written, c) for c in columns} == {c: getattr(built, c) for c in columns}
    # The trail's row of how the value came about: the same builder, the first import's.
    [origin] = IndicatorValue.audit_origin(value.pk)
    assert (origin.history_type, origin.batch_id, origin.value) == ("+", first.pk, Decimal(4))
    assert (origin.history_change_reason, origin.history_user, origin.history_id) == (
        "imported",
        office,
        0,
    )
