"""Writing checked values, all in the caller's transaction.

On PostgreSQL the values go through ``COPY`` into a temporary table, then one ``UPDATE`` of the
values that changed and one ``INSERT`` of the new ones, under a lock that keeps other writers
out meanwhile; on SQLite through batched upserts. Either way a value that is already stored
with the same number is left as it is: ``updated`` counts values that changed. Each write
records its rows in the values' history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from pejling.indicators import aggregate
from pejling.indicators.models import ImportBatch, IndicatorValue

from .checking import MappedValue

if TYPE_CHECKING:
    import polars as pl

type Values = list[MappedValue] | pl.DataFrame


def write_values(values: Values, batch: ImportBatch) -> tuple[int, int]:
    """Store the values (inside the caller's transaction); returns (created, updated).

    A value already stored with the same number is left alone and not counted as updated.
    The roll-up cache follows in the same transaction.
    """
    if connection.vendor == "postgresql":
        counts = _write_postgresql(values, batch)
    else:
        if not isinstance(values, list):
            values = _mapped(values)
        counts = _write_generic(values, batch)
    if any(counts):
        aggregate.apply_value_changes(**_scope(values))
    return counts


def _scope(values: Values) -> dict[str, list]:
    """What the written values touch: their indicators, periods and units (for the cache)."""
    if isinstance(values, list):
        return {
            "indicator_ids": list({v.indicator_id for v in values}),
            "periods": list({v.period for v in values}),
            "unit_ids": list({v.unit_id for v in values}),
        }
    return {
        "indicator_ids": values.get_column("indicator_id").unique().to_list(),
        "periods": values.get_column("period").unique().to_list(),
        "unit_ids": values.get_column("unit_id").unique().to_list(),
    }


def _mapped(frame: pl.DataFrame) -> list[MappedValue]:
    return [
        MappedValue(indicator_id, unit_id, period, start, end, Decimal(value))
        for indicator_id, unit_id, period, start, end, value in frame.iter_rows()
    ]


_COPY_CHUNK = 50_000
_COLUMN_NAMES = ("indicator_id", "unit_id", "period", "period_start", "period_end", "value")
_COLUMNS = ", ".join(_COLUMN_NAMES)


def _copy_text(values: Values, batch_id: int | None = None) -> Iterator[bytes]:
    """The values as COPY text, in chunks, with ``batch_id`` as a last column if given."""
    if not isinstance(values, list):
        # Ids, canonical periods, ISO dates and plain decimal text: nothing COPY must escape.
        if batch_id is not None:
            import polars as pl

            values = values.with_columns(pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"))
        for part in values.iter_slices(_COPY_CHUNK * 4):
            yield part.write_csv(separator="\t", include_header=False, quote_style="never").encode()
        return
    end = "\n" if batch_id is None else f"\t{batch_id}\n"
    periods: dict[str, str] = {}
    for offset in range(0, len(values), _COPY_CHUNK):
        lines: list[str] = []
        add = lines.append
        for indicator_id, unit_id, period, start, end_date, value in values[
            offset : offset + _COPY_CHUNK
        ]:
            columns = periods.get(period)
            if columns is None:
                columns = periods[period] = f"{period}\t{start.isoformat()}\t{end_date.isoformat()}"
            add(f"{indicator_id}\t{unit_id}\t{columns}\t{value}{end}")
        yield "".join(lines).encode()


def _keys(values: Values) -> tuple[list[int], list[str], list[date]]:
    """The batch's distinct indicators, periods and period starts."""
    if isinstance(values, list):
        periods = {(v.period, v.period_start) for v in values}
        return (
            list({v.indicator_id for v in values}),
            [period for period, _start in periods],
            list({start for _period, start in periods}),
        )
    return (
        values.get_column("indicator_id").unique().to_list(),
        values.get_column("period").unique().to_list(),
        values.get_column("period_start").unique().to_list(),
    )


def _history_insert(source: str) -> str:
    """SQL that records the rows of ``source`` (values' columns and id) in the values' history.

    Parameters: when, the reason, the kind (``+`` or ``~``) and who.
    """
    history = IndicatorValue.history.model._meta.db_table
    return (
        f"INSERT INTO {history} (id, {_COLUMNS}, batch_id, history_date,"  # noqa: S608 - table names from the models
        " history_change_reason, history_type, history_user_id)"
        f" SELECT id, {_COLUMNS}, batch_id, %s, %s, %s, %s FROM {source}"
    )


def _write_postgresql(values: Values, batch: ImportBatch) -> tuple[int, int]:
    table = IndicatorValue._meta.db_table
    now = timezone.now()
    by = batch.created_by_id
    if isinstance(values, list):
        count = len(values)
    else:
        count = values.height
        # In the order of the unique index (indicator, unit, period): its pages, and the unit
        # index's, then fill one after the other instead of all at once (a file usually lists
        # one period for every unit, then the next). About a tenth off a large first import.
        values = values.sort("indicator_id", "unit_id", "period")
    same_key = "v.indicator_id = i.indicator_id AND v.unit_id = i.unit_id AND v.period = i.period"
    with connection.cursor() as cursor:
        # Other writers wait until this import commits (readers do not): what is read below
        # about the stored values stays true until the values are written.
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        indicator_ids, periods, starts = _keys(values)
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {table} WHERE indicator_id = ANY(%s::bigint[])"  # noqa: S608 - table name from the model
            " AND period_start = ANY(%s::date[]) AND period = ANY(%s::varchar[]))",
            [indicator_ids, starts, periods],
        )
        row = cursor.fetchone()
        if row is not None and not row[0]:
            # No value of these indicators and periods is stored (a first import of new
            # periods): every value is new, so they go straight into the table, as a COPY
            # typed by hand would.
            with cursor.copy(f"COPY {table} ({_COLUMNS}, batch_id) FROM STDIN") as copy:
                for chunk in _copy_text(values, batch.pk):
                    copy.write(chunk)
            # Their history: this batch's values of these indicators and periods are these.
            cursor.execute(
                _history_insert(table)
                + " WHERE indicator_id = ANY(%s::bigint[]) AND period_start = ANY(%s::date[])"
                " AND batch_id = %s",
                [now, "imported", "+", by, indicator_ids, starts, batch.pk],
            )
            return count, 0
        # Until the transaction ends: room to hash a million keys instead of sorting on disk.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            "CREATE TEMP TABLE pejling_import (indicator_id bigint, unit_id bigint,"
            " period varchar(10), period_start date, period_end date, value numeric(20,6))"
            " ON COMMIT DROP"
        )
        with cursor.copy(f"COPY pejling_import ({_COLUMNS}) FROM STDIN") as copy:
            for chunk in _copy_text(values):
                copy.write(chunk)
        cursor.execute("ANALYZE pejling_import")
        # One join says what is new and what changed; then only what is needed is written
        # (a re-import of the same file writes nothing).
        cursor.execute(
            "SELECT count(*) FILTER (WHERE v.id IS NULL),"  # noqa: S608 - table name from the model
            " count(*) FILTER (WHERE v.value <> i.value)"
            f" FROM pejling_import i LEFT JOIN {table} v ON {same_key}"
        )
        new, changed = cursor.fetchone() or (0, 0)
        updated = created = 0
        # Each write records its rows in the history in the same statement.
        if changed:
            cursor.execute(
                f"WITH changed AS (UPDATE {table} v SET value = i.value, batch_id = %s"  # noqa: S608
                f" FROM pejling_import i WHERE {same_key} AND v.value <> i.value"
                f" RETURNING v.id, {', '.join(f'v.{c}' for c in _COLUMN_NAMES)}, v.batch_id) "
                + _history_insert("changed"),
                [batch.pk, now, "imported", "~", by],
            )
            updated = cursor.rowcount
        if new:
            only_new = (
                ""
                if new == count
                else f" WHERE NOT EXISTS (SELECT 1 FROM {table} v WHERE {same_key})"  # noqa: S608
            )
            cursor.execute(
                f"WITH added AS (INSERT INTO {table} ({_COLUMNS}, batch_id)"  # noqa: S608
                f" SELECT {_COLUMNS}, %s FROM pejling_import i{only_new}"
                f" RETURNING id, {_COLUMNS}, batch_id) " + _history_insert("added"),
                [batch.pk, now, "imported", "+", by],
            )
            created = cursor.rowcount
        cursor.execute("DROP TABLE pejling_import")
    return created, updated


def _write_generic(values: list[MappedValue], batch: ImportBatch) -> tuple[int, int]:
    stored = {
        (indicator_id, unit_id, period): value
        for indicator_id, unit_id, period, value in IndicatorValue.objects.filter(
            indicator_id__in={v.indicator_id for v in values},
            period__in={v.period for v in values},
        ).values_list("indicator_id", "unit_id", "period", "value")
    }
    # What each written value is in its history: "+" new, "~" changed (unchanged: not written).
    kinds: dict[tuple[int, int, str], str] = {}
    changed = []
    for v in values:
        key = (v.indicator_id, v.unit_id, v.period)
        before = stored.get(key)
        if before is not None and before == round(v.value, 6):
            continue
        kinds[key] = "+" if before is None else "~"
        changed.append(v)
    IndicatorValue.objects.bulk_create(
        [
            IndicatorValue(
                indicator_id=v.indicator_id,
                unit_id=v.unit_id,
                period=v.period,
                period_start=v.period_start,
                period_end=v.period_end,
                value=v.value,
                batch=batch,
            )
            for v in changed
        ],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["indicator", "unit", "period"],
        update_fields=["value", "batch", "period_start", "period_end"],
    )
    historical = IndicatorValue.history.model
    now = timezone.now()
    written = IndicatorValue.objects.filter(
        batch=batch,
        indicator_id__in={v.indicator_id for v in changed},
        period__in={v.period for v in changed},
    )
    historical.objects.bulk_create(
        [
            historical(
                id=value.pk,
                indicator_id=value.indicator_id,
                unit_id=value.unit_id,
                period=value.period,
                period_start=value.period_start,
                period_end=value.period_end,
                value=value.value,
                batch_id=batch.pk,
                history_date=now,
                history_change_reason="imported",
                history_type=kinds[(value.indicator_id, value.unit_id, value.period)],
                history_user_id=batch.created_by_id,
            )
            for value in written
            if (value.indicator_id, value.unit_id, value.period) in kinds
        ],
        batch_size=2000,
    )
    created = sum(kind == "+" for kind in kinds.values())
    return created, len(kinds) - created
