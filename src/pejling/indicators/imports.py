"""Importing KPI values: parse, map to our units and indicators, then write all or nothing.

The parsers (``sources/``) know formats; this module knows Pejling: it maps the source's unit
codes or names and indicator codes to ours, checks each value against its indicator (period
kind, sign), and writes every value in one transaction. A file with any bad row writes nothing;
the batch keeps the list of every bad row and why.

On PostgreSQL the values go through ``COPY`` into a temporary table, then one ``UPDATE`` of the
values that changed and one ``INSERT`` of the new ones, under a lock that keeps other writers
out meanwhile; on SQLite through batched upserts. Either way a value that is already stored
with the same number is left as it is: ``updated`` counts values that changed.

Checking a million rows is kept cheap: indicators, units and periods are looked up once per
distinct text, each period's dates are computed once, and the mapped values are plain tuples.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pejling.core.history import save_as
from pejling.core.tabular import cell_place
from pejling.indicators.models import (
    Aggregation,
    ImportBatch,
    ImportStatus,
    Indicator,
    IndicatorValue,
)
from pejling.indicators.sources.fast_csv import CleanCsv, read_clean_csv
from pejling.indicators.sources.files import parse_table_file
from pejling.indicators.sources.numbers import parse_decimal
from pejling.indicators.sources.records import Observation, ParseResult
from pejling.organisation.models import Unit

if TYPE_CHECKING:
    import polars as pl

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 500 * 1024 * 1024
PREVIEW_ROWS = 10

# Translated messages for the parsers' stable error codes and our own mapping checks.
MESSAGES = {
    "missing_column": gettext_lazy(
        "A required column is missing (unit, period, value, and indicator unless one is chosen)."
    ),
    "missing_value": gettext_lazy("The cell is empty."),
    "not_a_number": gettext_lazy("The value is not a number."),
    "unknown_period": gettext_lazy(
        "The period is not one of 2019, 2019-03, 2019M03, 2019T1 or 2019Q1."
    ),
    "negative_count": gettext_lazy(
        "The value is negative; this indicator only takes values of zero or more."
    ),
    "duplicate_row": gettext_lazy(
        "The same indicator, unit and period occur more than once in the file."
    ),
    "unknown_category": gettext_lazy("The source has no such category."),
    "ambiguous_dimension": gettext_lazy("The source has several values here and none was chosen."),
    "unknown_unit": gettext_lazy("No unit has this code or name."),
    "ambiguous_unit": gettext_lazy("Several units have this name; use the unit code."),
    "unknown_indicator": gettext_lazy("No indicator has this code."),
    "derived_indicator": gettext_lazy(
        "This indicator is computed from others; import its numerator and denominator instead."
    ),
    "wrong_periodicity": gettext_lazy("The period does not match the indicator's periodicity."),
    "out_of_range": gettext_lazy(
        "The number is too large: at most 14 digits before the decimal point."
    ),
    "unsupported_format": gettext_lazy("Only CSV and Excel (xlsx) files can be imported."),
    "unreadable_file": gettext_lazy("The file could not be read."),
    "file_too_large": gettext_lazy("The file is too large."),
    "invalid_payload": gettext_lazy("The response does not have the expected structure."),
    "empty_file": gettext_lazy("The file holds no values."),
}


# Our own names of the columns (errors found after parsing); a parser's errors name the column
# by its header as written in the file.
COLUMN_LABELS = {
    "indicator": gettext_lazy("Indicator"),
    "unit": gettext_lazy("Unit"),
    "period": gettext_lazy("Period"),
    "value": gettext_lazy("Value"),
}


# Parser error codes whose translated message says all there is when no cell text was found.
_SELF_EXPLAINED = frozenset({"missing_value", "empty_file"})


@dataclass(frozen=True)
class RowError:
    """A problem with one row (``row``) or the whole file (``row`` None), stored as JSON.

    ``detail`` is what was found (a cell's text, in no language, or an English explanation
    from a national-statistics adapter); ``other_row`` is the row a duplicate repeats.
    """

    row: int | None
    column: str | None
    code: str
    detail: str = ""
    other_row: int | None = None

    @property
    def message(self) -> str:
        return str(MESSAGES.get(self.code, self.code))

    @property
    def column_label(self) -> str:
        if self.column is None:
            return ""
        return str(COLUMN_LABELS.get(self.column, self.column))

    def describe(self, *, nowhere: str = "") -> str:
        """One line for a terminal: where, what is wrong, what was found."""
        text = f"{cell_place(self.row, self.column) or nowhere}: {self.message}"
        if self.other_row:
            text += f" (first in row {self.other_row})"
        return text + (f" ({self.detail})" if self.detail else "")

    def as_dict(self) -> dict[str, Any]:
        data = {"row": self.row, "column": self.column, "code": self.code, "detail": self.detail}
        if self.other_row is not None:
            data["other_row"] = self.other_row
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowError:
        return cls(
            data.get("row"),
            data.get("column"),
            data["code"],
            data.get("detail", ""),
            data.get("other_row"),
        )


# IndicatorValue.value is numeric(20, 6): fewer than 10**14 before the decimal point.
MAX_INTEGER_DIGITS = 14


class MappedValue(NamedTuple):
    """A checked value, ready to store (a tuple: a million of them stay small and quick)."""

    indicator_id: int
    unit_id: int
    period: str
    period_start: date
    period_end: date
    value: Decimal


@dataclass
class Checked:
    """Checked values ready to store, or every error; the first rows for a preview.

    The values come as :class:`MappedValue` tuples from :func:`check`, or, from a clean CSV
    file read by the fast reader, as a polars frame in ``frame`` (``values`` is then empty):
    indicator_id, unit_id, period, period_start, period_end and value (plain decimal text).
    """

    values: list[MappedValue]
    errors: list[RowError]
    preview: list[dict[str, Any]]
    skipped: int = 0
    frame: pl.DataFrame | None = field(default=None, repr=False)

    @property
    def count(self) -> int:
        """How many values are ready to store."""
        return len(self.values) if self.frame is None else self.frame.height

    @property
    def to_store(self) -> list[MappedValue] | pl.DataFrame:
        return self.values if self.frame is None else self.frame


def parse_upload(data: bytes, filename: str, *, indicator: Indicator | None = None) -> ParseResult:
    return parse_table_file(
        data,
        filename,
        default_indicator=indicator.code if indicator else None,
        max_uncompressed_bytes=MAX_XLSX_UNCOMPRESSED,
    )


def _unit_lookup() -> tuple[dict[str, int], dict[str, int | None]]:
    by_code: dict[str, int] = {}
    by_name: dict[str, int | None] = {}
    for pk, code, name in Unit.objects.values_list("pk", "code", "name"):
        by_code[code.casefold()] = pk
        key = name.casefold()
        by_name[key] = None if key in by_name else pk  # None marks an ambiguous name
    return by_code, by_name


def check(result: ParseResult, *, unit_codes: dict[str, str] | None = None) -> Checked:
    """Map parsed observations to our indicators and units and check each value.

    ``unit_codes`` maps a national source's region code to one of our unit codes.
    """
    # What the cell held, beside our translated message; the parser's English sentence only
    # where it says more than the message (an adapter's explanation, a broken file).
    errors = [
        RowError(
            e.row,
            e.column,
            e.code,
            e.found or ("" if e.code in _SELF_EXPLAINED else e.message),
            e.other_row,
        )
        for e in result.errors
    ]
    add_error = errors.append
    indicators = {i.code.casefold(): i for i in Indicator.objects.all()}
    by_code, by_name = _unit_lookup()
    values: list[MappedValue] = []
    add_value = values.append
    new_value = tuple.__new__
    preview: list[dict[str, Any]] = []
    # Each distinct text is looked up once: (indicator, pk, periodicity, negative allowed) or
    # the error code; the unit's pk or the error code.
    indicator_cache: dict[str, tuple[Indicator, int, str, bool] | str] = {}
    unit_cache: dict[str, int | str] = {}
    # Canonical text and dates per period object; parsers share one object per distinct period
    # cell, and every observation (so every id) stays alive during the loop.
    period_cache: dict[int, tuple[str, date, date]] = {}
    # The parser catches rows repeated as written; this catches rows that differ only in how
    # the unit or indicator is written (code and name, letter case) and map to the same value.
    seen: dict[tuple[int, int, str], Observation] = {}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a million new tuples would set off many full collections that find nothing
    try:
        for obs in result.observations:
            found = indicator_cache.get(obs.indicator)
            if found is None:
                found = indicator_cache[obs.indicator] = _indicator_entry(
                    indicators.get(obs.indicator.casefold())
                )
            if isinstance(found, str):
                add_error(RowError(obs.row, "indicator", found, obs.indicator))
                continue
            indicator, indicator_id, periodicity, allow_negative = found
            unit_id = unit_cache.get(obs.unit)
            if unit_id is None:
                unit_id = unit_cache[obs.unit] = _map_unit(obs.unit, by_code, by_name, unit_codes)
            if isinstance(unit_id, str):
                add_error(RowError(obs.row, "unit", unit_id, obs.unit))
                continue
            period = obs.period
            if period.kind != periodicity:
                add_error(
                    RowError(
                        obs.row,
                        "period",
                        "wrong_periodicity",
                        f"{period} ≠ {indicator.get_periodicity_display()}",
                    )
                )
                continue
            value = obs.value
            if value < 0 and not allow_negative:
                add_error(RowError(obs.row, "value", "negative_count", str(value)))
                continue
            if value and value.adjusted() >= MAX_INTEGER_DIGITS:
                add_error(RowError(obs.row, "value", "out_of_range", str(value)))
                continue
            dates = period_cache.get(id(period))
            if dates is None:
                dates = period_cache[id(period)] = (
                    str(period),
                    period.start_date(),
                    period.end_date(),
                )
            text = dates[0]
            first = seen.setdefault((indicator_id, unit_id, text), obs)
            if first is not obs:
                # Written otherwise in the first row (a unit's code, then its name): say so.
                if first.unit != obs.unit:
                    column, detail = "unit", f"{obs.unit} = {first.unit}"
                elif first.indicator != obs.indicator:
                    column, detail = "indicator", f"{obs.indicator} = {first.indicator}"
                else:
                    column, detail = "period", text
                add_error(RowError(obs.row, column, "duplicate_row", detail, first.row))
                continue
            add_value(
                new_value(MappedValue, (indicator_id, unit_id, text, dates[1], dates[2], value))
            )
            if len(preview) < PREVIEW_ROWS:
                preview.append(
                    {
                        "row": obs.row,
                        "indicator": indicator.code,
                        "unit": obs.unit,
                        "period": text,
                        "value": str(value),
                    }
                )
    finally:
        if gc_was_enabled:
            gc.enable()
    if not values and not errors:
        errors.append(RowError(None, None, "empty_file"))
    errors.sort(key=lambda e: (e.row or 0, e.column or ""))
    return Checked(values, errors, preview, skipped=len(result.skipped))


def _indicator_entry(indicator: Indicator | None) -> tuple[Indicator, int, str, bool] | str:
    """What ``check`` needs of an indicator, or why values cannot be imported into it."""
    if indicator is None:
        return "unknown_indicator"
    if indicator.aggregation == Aggregation.RATIO:
        return "derived_indicator"
    return (indicator, indicator.pk, indicator.periodicity, indicator.allow_negative)


def _map_unit(
    key: str,
    by_code: dict[str, int],
    by_name: dict[str, int | None],
    unit_codes: dict[str, str] | None,
) -> int | str:
    if unit_codes is not None:
        mapped = unit_codes.get(key)
        if mapped is None:
            return "unknown_unit"
        key = mapped
    folded = key.strip().casefold()
    if folded in by_code:
        return by_code[folded]
    if folded in by_name:
        pk = by_name[folded]
        return "ambiguous_unit" if pk is None else pk
    return "unknown_unit"


def check_clean_csv(clean: CleanCsv) -> Checked | None:
    """Map a clean CSV file's columns to our indicators and units, as :func:`check` would.

    Returns None when :func:`check` would find any error (an unknown, ambiguous or derived
    indicator or unit, a period of the wrong kind, a negative count, a number too large, the
    same value twice): the caller then reads the file the exact way, which names each bad row.
    Each distinct indicator, unit and period is looked up once; the rows are never Python
    objects.
    """
    import polars as pl

    rows = clean.frame
    indicators = {i.code.casefold(): i for i in Indicator.objects.all()}
    by_code, by_name = _unit_lookup()

    indicator_texts = rows.get_column("indicator").unique(maintain_order=True).to_list()
    entries = [_indicator_entry(indicators.get(text.casefold())) for text in indicator_texts]
    found = [entry for entry in entries if not isinstance(entry, str)]
    if len(found) != len(entries):
        return None
    unit_texts = rows.get_column("unit").unique(maintain_order=True).to_list()
    unit_ids = [_map_unit(text, by_code, by_name, None) for text in unit_texts]
    if any(isinstance(unit_id, str) for unit_id in unit_ids):
        return None

    indicator_at = {text: n for n, text in enumerate(indicator_texts)}
    for text, period in rows.select("indicator", "period").unique().iter_rows():
        if clean.periods[period].kind != found[indicator_at[text]][2]:
            return None  # wrong_periodicity
    indicator_id = rows.get_column("indicator").replace_strict(
        indicator_texts, [entry[1] for entry in found], return_dtype=pl.Int64
    )
    if not all(entry[3] for entry in found):
        allowed = rows.get_column("indicator").replace_strict(
            indicator_texts, [entry[3] for entry in found], return_dtype=pl.Boolean
        )
        if (rows.get_column("negative") & ~allowed).any():
            return None  # negative_count
    if (rows.get_column("int_digits") > MAX_INTEGER_DIGITS).any():
        return None  # out_of_range
    unit_id = rows.get_column("unit").replace_strict(unit_texts, unit_ids, return_dtype=pl.Int64)
    # The same value twice (written alike or not: code and name, letter case, 2019M03 and
    # 2019-03)? One number per (indicator, unit, period), from dense ranks of the three.
    indicator_rank = _ranks([entry[1] for entry in found])
    unit_rank = _ranks(cast(list[int], unit_ids))
    key = (
        rows.get_column("indicator").replace_strict(
            indicator_texts, indicator_rank, return_dtype=pl.UInt64
        )
        * (max(unit_rank) + 1)
        + rows.get_column("unit").replace_strict(unit_texts, unit_rank, return_dtype=pl.UInt64)
    ) * len(clean.periods) + rows.get_column("period").cast(pl.UInt64)
    if key.n_unique() != rows.height:
        return None  # duplicate_row

    periods = clean.periods
    period = rows.get_column("period")
    frame = pl.DataFrame(
        {
            "indicator_id": indicator_id,
            "unit_id": unit_id,
            "period": pl.Series([str(p) for p in periods], dtype=pl.String).gather(period),
            "period_start": pl.Series([p.start_date() for p in periods], dtype=pl.Date).gather(
                period
            ),
            "period_end": pl.Series([p.end_date() for p in periods], dtype=pl.Date).gather(period),
            "value": rows.get_column("value"),
        }
    )
    preview = [
        {
            "row": row,
            "indicator": found[indicator_at[text]][0].code,
            "unit": unit,
            "period": str(periods[period_index]),
            "value": str(parse_decimal(raw, decimal_comma=clean.decimal_comma)),
        }
        for row, text, unit, period_index, raw in rows.head(PREVIEW_ROWS)
        .select("row", "indicator", "unit", "period", "raw_value")
        .iter_rows()
    ]
    return Checked([], [], preview, frame=frame)


def _ranks(ids: list[int]) -> list[int]:
    """Each id's place among the distinct ids (equal ids, equal places)."""
    place = {pk: n for n, pk in enumerate(sorted(set(ids)))}
    return [place[pk] for pk in ids]


# CSV uploads of at least this size try the fast reader first. 0: every one does (a small file
# costs a few milliseconds either way, and so every upload exercises the fast reader); the
# tests raise it to read every file the exact way.
FAST_CSV_MIN_BYTES = 0


def read_and_check(
    data: bytes, filename: str, *, indicator: Indicator | None = None
) -> tuple[int, Checked]:
    """Parse and check an upload: ``(rows in the file, checked)``.

    A clean CSV file is read by the fast reader; any other file, and every file with an error,
    the exact way (:func:`parse_upload`, :func:`check`), which names each bad row and column.
    """
    if len(data) >= FAST_CSV_MIN_BYTES:
        clean = read_clean_csv(
            data, filename, default_indicator=indicator.code if indicator else None
        )
        if clean is not None:
            checked = check_clean_csv(clean)
            if checked is not None:
                return clean.frame.height, checked
    result = parse_upload(data, filename, indicator=indicator)
    return len(result.observations) + len(result.errors), check(result)


type Values = list[MappedValue] | pl.DataFrame


def write_values(values: Values, batch: ImportBatch) -> tuple[int, int]:
    """Store the values (inside the caller's transaction); returns (created, updated).

    A value already stored with the same number is left alone and not counted as updated.
    """
    if connection.vendor == "postgresql":
        return _write_postgresql(values, batch)
    if not isinstance(values, list):
        values = _mapped(values)
    return _write_generic(values, batch)


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


Progress = Callable[[str, int, int], None]


def import_observations(
    *,
    result: ParseResult,
    source: str,
    by: Any,
    filename: str = "",
    indicator: Indicator | None = None,
    unit_codes: dict[str, str] | None = None,
    dry_run: bool = False,
    batch: ImportBatch | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    """Check and (unless ``dry_run`` or any row is bad) write parsed values, all or nothing."""
    checked = check(result, unit_codes=unit_codes)
    return _store(
        checked,
        rows_total=len(result.observations) + len(result.errors),
        source=source,
        by=by,
        filename=filename,
        indicator=indicator,
        dry_run=dry_run,
        batch=batch,
        progress=progress,
    )


def _store(
    checked: Checked,
    *,
    rows_total: int,
    source: str,
    by: Any,
    filename: str,
    indicator: Indicator | None,
    dry_run: bool,
    batch: ImportBatch | None,
    progress: Progress | None,
) -> ImportBatch:
    """Write checked values unless ``dry_run`` or any row is bad, all or nothing."""
    count = checked.count
    if progress:
        progress("checked", count, count)
    batch = batch or ImportBatch(
        source=source, filename=filename, default_indicator=indicator, created_by=by
    )
    batch.rows_total = rows_total
    batch.errors = [e.as_dict() for e in checked.errors]
    if checked.errors:
        batch.status = ImportStatus.FAILED
        batch.finished_at = timezone.now()
        save_as(batch, by, reason="rejected")
        return batch
    if dry_run:
        batch.status = ImportStatus.PREVIEW
        batch.rows_done = 0
        if batch.pk:
            save_as(batch, by)
        return batch
    with transaction.atomic():
        batch.status = ImportStatus.DONE
        save_as(batch, by)
        created, updated = write_values(checked.to_store, batch)
        batch.created, batch.updated = created, updated
        batch.rows_done = count
        batch.finished_at = timezone.now()
        batch.payload = None
        save_as(batch, by, reason="imported")
    if progress:
        progress("written", count, count)
    return batch


def import_file(
    *,
    data: bytes,
    filename: str,
    by: Any,
    indicator: Indicator | None = None,
    dry_run: bool = False,
    batch: ImportBatch | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    if len(data) > MAX_UPLOAD_BYTES:
        batch = batch or ImportBatch(source="file", filename=filename, created_by=by)
        batch.status = ImportStatus.FAILED
        batch.errors = [RowError(None, None, "file_too_large").as_dict()]
        save_as(batch, by)
        return batch
    rows_total, checked = read_and_check(data, filename, indicator=indicator)
    if progress:
        progress("parsed", rows_total, rows_total)
    return _store(
        checked,
        rows_total=rows_total,
        source="file",
        by=by,
        filename=filename,
        indicator=indicator,
        dry_run=dry_run,
        batch=batch,
        progress=progress,
    )


def batch_errors(batch: ImportBatch) -> list[RowError]:
    return [RowError.from_dict(e) for e in batch.errors]


def preview_upload(
    *, data: bytes, filename: str, by: Any, indicator: Indicator | None = None
) -> tuple[ImportBatch, Checked]:
    """Parse and check an upload without writing values; keep the file for the confirmation."""
    rows_total, checked = read_and_check(data, filename, indicator=indicator)
    batch = ImportBatch(
        source="file",
        filename=filename,
        default_indicator=indicator,
        created_by=by,
        rows_total=rows_total,
        errors=[e.as_dict() for e in checked.errors],
        status=ImportStatus.FAILED if checked.errors else ImportStatus.PREVIEW,
        payload=None if checked.errors else data,
    )
    save_as(batch, by, reason="uploaded")
    return batch, checked


def confirm_import(*, batch: ImportBatch, by: Any, progress: Progress | None = None) -> ImportBatch:
    """Write a previewed upload (re-parsed and re-checked: the database may have changed)."""
    if batch.status not in (ImportStatus.PREVIEW, ImportStatus.QUEUED) or batch.payload is None:
        raise ValueError(_("This import is not waiting for confirmation."))
    batch.status = ImportStatus.RUNNING
    save_as(batch, by)
    return import_file(
        data=bytes(batch.payload),
        filename=batch.filename,
        by=by,
        indicator=batch.default_indicator,
        batch=batch,
        progress=progress,
    )


def iter_errors(errors: Iterable[dict[str, Any]]) -> list[RowError]:
    return [RowError.from_dict(e) for e in errors]
