"""Writing checked values, all in the caller's transaction, a chunk at a time.

:class:`ValueWriter` takes the checked values of a file chunk by chunk (:meth:`~ValueWriter.write`)
and then brings the roll-up cache in line once (:meth:`~ValueWriter.finish`). On PostgreSQL,
under a lock that keeps other writers out meanwhile, the values of an indicator and period that
had no stored value before the import go straight into the table with ``COPY``; the others
through ``COPY`` into a temporary table, then one ``UPDATE`` of the values that changed and one
``INSERT`` of the new ones. On SQLite through batched upserts. Either way a value already
stored with the same number is left as it is: ``updated`` counts values that changed.

The values' history: the import itself is recorded once (its :class:`ImportBatch`: who, when,
which file, from where), and a value's ``batch`` says which import set it last. Only a value
an import CHANGED gets a history row, with the number and import before and after
(``previous_value``, ``previous_batch_id``); a new value gets none. The roll-up cache follows
from the changes set-based (``aggregate.apply_import``): the values created and changed by
this write, their numbers before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pejling.indicators import aggregate
from pejling.indicators.models import IMPORTED, ImportBatch, IndicatorValue

from .checking import MappedValue

if TYPE_CHECKING:
    import polars as pl

type Values = list[MappedValue] | pl.DataFrame

_TABLE = IndicatorValue._meta.db_table
_COPY_CHUNK = 50_000
_COLUMN_NAMES = ("indicator_id", "unit_id", "period", "period_start", "period_end", "value")
_COLUMNS = ", ".join(_COLUMN_NAMES)
# What a changed value was before this import (the roll-up cache and the history read it).
CHANGED_TABLE = "pejling_import_changed"


def _unique_violations() -> tuple[type[Exception], ...]:
    """The errors of a value written twice: Django's, and psycopg's own (``COPY`` runs on the
    driver's cursor, which Django does not wrap)."""
    try:
        from psycopg.errors import UniqueViolation
    except ImportError:  # no PostgreSQL driver: SQLite only
        return (IntegrityError,)
    return (IntegrityError, UniqueViolation)


_UNIQUE_VIOLATIONS = _unique_violations()


def write_values(values: Values, batch: ImportBatch) -> tuple[int, int]:
    """Store the values (inside the caller's transaction); returns (created, updated).

    A value already stored with the same number is left alone and not counted as updated.
    The roll-up cache follows in the same transaction. One chunk of :class:`ValueWriter`.
    """
    writer = ValueWriter(batch)
    writer.write(values)
    return writer.finish()


class ValueWriter:
    """Writes one import's values chunk by chunk in the caller's transaction (see the module
    docstring). ``broken`` after a chunk that could not be written (the same value twice in
    two chunks of a file: the caller's check names the rows, and rolls everything back)."""

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.created = 0
        self.updated = 0
        self.broken = False
        self.postgresql = connection.vendor == "postgresql"
        self.now = timezone.now()
        self._indicators: set[int] = set()
        self._starts: set[date] = set()
        self._periods: set[str] = set()
        # (indicator, period) → whether a value of it was stored before this import.
        self._stored_before: dict[tuple[int, str], bool] = {}
        with connection.cursor() as cursor:
            if self.postgresql:
                # Other writers wait until this import commits (readers do not): what is read
                # below about the stored values stays true until the values are written.
                cursor.execute(f"LOCK TABLE {_TABLE} IN SHARE ROW EXCLUSIVE MODE")
                # Until the transaction ends: room to hash a chunk's keys instead of sorting.
                cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {_TABLE}")  # noqa: S608 - name from the model
            row = cursor.fetchone()
            # Every value this import creates gets a larger id (the table is locked on
            # PostgreSQL; SQLite has one writer).
            self.first_new_id = int(row[0]) if row else 0
        self._tables: set[str] = set()

    def _table(self, name: str) -> None:
        """Create a temporary table of this import at its first use (a first import of new
        periods on PostgreSQL needs none)."""
        if name in self._tables:
            return
        self._tables.add(name)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            if name == CHANGED_TABLE:
                cursor.execute(
                    f"CREATE TEMP TABLE {CHANGED_TABLE} (id bigint PRIMARY KEY,"
                    " previous numeric(20, 6))"
                )
            else:
                cursor.execute(
                    "CREATE TEMP TABLE pejling_import (indicator_id bigint, unit_id bigint,"
                    " period varchar(10), period_start date, period_end date,"
                    " value numeric(20,6))"
                )

    def write(self, values: Values) -> None:
        """Write one chunk's checked values (unless an earlier chunk broke)."""
        if self.broken or not len(values):
            return
        indicator_ids, periods, starts = _keys(values)
        self._indicators.update(indicator_ids)
        self._periods.update(periods)
        self._starts.update(starts)
        try:
            with transaction.atomic():  # a savepoint: a broken chunk leaves the rest usable
                if self.postgresql:
                    self._write_postgresql(values)
                else:
                    self._write_generic(values if isinstance(values, list) else _mapped(values))
        except _UNIQUE_VIOLATIONS:
            self.broken = True

    def finish(self) -> tuple[int, int]:
        """The roll-up cache brought in line with everything written; (created, updated)."""
        if not self.broken and (self.created or self.updated):
            aggregate.apply_import(
                first_new_id=self.first_new_id,
                changed_table=CHANGED_TABLE if CHANGED_TABLE in self._tables else None,
                indicator_ids=sorted(self._indicators),
                periods=sorted(self._periods),
                starts=sorted(self._starts),
            )
        with connection.cursor() as cursor:
            for name in sorted(self._tables):
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
        self._tables.clear()
        return self.created, self.updated

    # PostgreSQL

    def _fresh(self, pairs: list[tuple[int, str, date]]) -> set[tuple[int, str]]:
        """Which of these (indicator, period) had no stored value before this import (asked
        once a pair, before any of its values is written)."""
        unknown = [(i, p, s) for i, p, s in pairs if (i, p) not in self._stored_before]
        if unknown:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT k.i, k.p FROM unnest(%s::bigint[], %s::varchar[], %s::date[])"  # noqa: S608 - name from the model
                    " AS k(i, p, s) WHERE EXISTS (SELECT 1 FROM"
                    f" {_TABLE} v WHERE v.indicator_id = k.i AND v.period_start = k.s"
                    " AND v.period = k.p)",
                    [[u[0] for u in unknown], [u[1] for u in unknown], [u[2] for u in unknown]],
                )
                stored = {(int(i), p) for i, p in cursor.fetchall()}
            for i, p, _s in unknown:
                self._stored_before[(i, p)] = (i, p) in stored
        return {(i, p) for i, p, _s in pairs if not self._stored_before[(i, p)]}

    def _write_postgresql(self, values: Values) -> None:
        pairs = _pairs(values)
        fresh_pairs = self._fresh(pairs)
        if len(fresh_pairs) == len(pairs):  # all new (a first import): no copy of the chunk
            fresh, others = values, values[:0]
        else:
            fresh, others = _split(values, fresh_pairs)
        with connection.cursor() as cursor:
            if len(fresh):
                if not isinstance(fresh, list):
                    # In the order of the unique index (indicator, unit, period): its pages,
                    # and the unit index's, then fill one after the other.
                    fresh = fresh.sort("indicator_id", "unit_id", "period")
                # No value of these indicators and periods was stored: every value is new, so
                # they go straight into the table, as a COPY typed by hand would.
                with cursor.copy(f"COPY {_TABLE} ({_COLUMNS}, batch_id) FROM STDIN") as copy:
                    for text in _copy_text(fresh, self.batch.pk):
                        copy.write(text)
                self.created += len(fresh)
            if not len(others):
                return
            self._table("pejling_import")
            self._table(CHANGED_TABLE)
            cursor.execute("TRUNCATE pejling_import")
            with cursor.copy(f"COPY pejling_import ({_COLUMNS}) FROM STDIN") as copy:
                for text in _copy_text(others):
                    copy.write(text)
            cursor.execute("ANALYZE pejling_import")
            same_key = (
                "v.indicator_id = i.indicator_id AND v.unit_id = i.unit_id AND v.period = i.period"
            )
            # One join says what is new and what changed; then only what is needed is written
            # (a re-import of the same file writes nothing).
            cursor.execute(
                "SELECT count(*) FILTER (WHERE v.id IS NULL),"  # noqa: S608 - name from the model
                " count(*) FILTER (WHERE v.value <> i.value)"
                f" FROM pejling_import i LEFT JOIN {_TABLE} v ON {same_key}"
            )
            new, changed = cursor.fetchone() or (0, 0)
            history = IndicatorValue.history.model._meta.db_table
            if not changed:
                self._insert_new(cursor, same_key, new, len(others))
                return
            # The values that changed: their number and import before, then the new ones; one
            # history row each, with before and after.
            cursor.execute(
                f"WITH before AS (SELECT v.id, v.value AS previous, v.batch_id AS previous_batch"  # noqa: S608 - names from the models
                f" FROM pejling_import i JOIN {_TABLE} v ON {same_key} WHERE v.value <> i.value),"
                f" changed AS (UPDATE {_TABLE} v SET value = i.value, batch_id = %s"
                f" FROM pejling_import i, before b WHERE {same_key} AND v.id = b.id"
                f" RETURNING v.id, {', '.join(f'v.{c}' for c in _COLUMN_NAMES)}, v.batch_id,"
                " b.previous, b.previous_batch),"
                f" kept AS (INSERT INTO {CHANGED_TABLE} (id, previous)"
                " SELECT id, previous FROM changed)"
                f" INSERT INTO {history} (id, {_COLUMNS}, batch_id, previous_value,"
                " previous_batch_id, history_date, history_change_reason, history_type,"
                f" history_user_id) SELECT id, {_COLUMNS}, batch_id, previous, previous_batch,"
                " %s, %s, %s, %s FROM changed",
                # the columns and values of IndicatorValue.imported_history, set-based
                [self.batch.pk, self.now, IMPORTED, "~", self.batch.created_by_id],
            )
            self.updated += cursor.rowcount
            self._insert_new(cursor, same_key, new, len(others))

    def _insert_new(self, cursor: Any, same_key: str, new: int, count: int) -> None:
        if not new:
            return
        only_new = (
            "" if new == count else f" WHERE NOT EXISTS (SELECT 1 FROM {_TABLE} v WHERE {same_key})"  # noqa: S608
        )
        cursor.execute(
            f"INSERT INTO {_TABLE} ({_COLUMNS}, batch_id)"  # noqa: S608 - name from the model
            f" SELECT {_COLUMNS}, %s FROM pejling_import i{only_new}",
            [self.batch.pk],
        )
        self.created += cursor.rowcount

    # SQLite (and any other database)

    def _write_generic(self, values: list[MappedValue]) -> None:
        stored = {
            (indicator_id, unit_id, period): (pk, value, batch_id)
            for pk, indicator_id, unit_id, period, value, batch_id in IndicatorValue.objects.filter(
                indicator_id__in={v.indicator_id for v in values},
                period__in={v.period for v in values},
            ).values_list("pk", "indicator_id", "unit_id", "period", "value", "batch_id")
        }
        new: list[MappedValue] = []
        changed: list[tuple[MappedValue, int, Decimal, int | None]] = []
        for v in values:
            before = stored.get((v.indicator_id, v.unit_id, v.period))
            if before is None:
                new.append(v)
            elif before[1] != round(v.value, 6):
                changed.append((v, *before))
        batch = self.batch
        IndicatorValue.objects.bulk_create([_stored(v, batch) for v in new], batch_size=2000)
        IndicatorValue.objects.bulk_update(
            [_stored(v, batch, pk) for v, pk, _previous, _batch in changed],
            ["value", "batch"],
            batch_size=500,
        )
        IndicatorValue.history.model.objects.bulk_create(
            [
                IndicatorValue.imported_history(
                    pk,
                    v,
                    value=round(v.value, 6),
                    batch=batch,
                    history_type="~",
                    history_date=self.now,
                    previous_value=previous,
                    previous_batch_id=previous_batch,
                )
                for v, pk, previous, previous_batch in changed
            ],
            batch_size=2000,
        )
        if changed:
            self._table(CHANGED_TABLE)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {CHANGED_TABLE} (id, previous) VALUES (%s, %s)",  # noqa: S608 - a constant
                    [(pk, str(previous)) for _v, pk, previous, _b in changed],
                )
        self.created += len(new)
        self.updated += len(changed)


def _stored(v: MappedValue, batch: ImportBatch, pk: int | None = None) -> IndicatorValue:
    """A checked value as the row it becomes (``pk``: the stored row it replaces)."""
    return IndicatorValue(
        pk=pk,
        indicator_id=v.indicator_id,
        unit_id=v.unit_id,
        period=v.period,
        period_start=v.period_start,
        period_end=v.period_end,
        value=v.value,
        batch=batch,
    )


def _mapped(frame: pl.DataFrame) -> list[MappedValue]:
    return [
        MappedValue(indicator_id, unit_id, period, start, end, Decimal(value))
        for indicator_id, unit_id, period, start, end, value in frame.iter_rows()
    ]


def _pairs(values: Values) -> list[tuple[int, str, date]]:
    """The distinct (indicator, period, period start) of a chunk."""
    if isinstance(values, list):
        return list({(v.indicator_id, v.period, v.period_start) for v in values})
    return list(values.select("indicator_id", "period", "period_start").unique().iter_rows())


def _split(values: Values, fresh: set[tuple[int, str]]) -> tuple[Values, Values]:
    """The values of the ``fresh`` (indicator, period) pairs, and the others."""
    if isinstance(values, list):
        return (
            [v for v in values if (v.indicator_id, v.period) in fresh],
            [v for v in values if (v.indicator_id, v.period) not in fresh],
        )
    import polars as pl

    if not fresh:
        return values.head(0), values
    keys = pl.DataFrame(
        {"indicator_id": [i for i, _p in fresh], "period": [p for _i, p in fresh]},
        schema={"indicator_id": values.schema["indicator_id"], "period": pl.String},
    )
    marked = values.join(
        keys.with_columns(pl.lit(True).alias("_fresh")),
        on=["indicator_id", "period"],
        how="left",
        maintain_order="left",
    )
    is_fresh = marked.get_column("_fresh").fill_null(False)
    return values.filter(is_fresh), values.filter(~is_fresh)


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
    """The chunk's distinct indicators, periods and period starts."""
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


__all__ = ["CHANGED_TABLE", "ValueWriter", "Values", "write_values"]
