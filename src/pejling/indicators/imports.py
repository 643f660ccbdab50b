"""Importing KPI values: parse, map to our units and indicators, then write all or nothing.

The parsers (``sources/``) know formats; this module knows Pejling: it maps the source's unit
codes or names and indicator codes to ours, checks each value against its indicator (period
kind, sign), and writes every value in one transaction. A file with any bad row writes nothing;
the batch keeps the list of every bad row and why.

On PostgreSQL the values go through ``COPY`` into a temporary table and one
``INSERT ... ON CONFLICT DO UPDATE``; on SQLite through batched upserts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pejling.core.history import save_as
from pejling.indicators.models import (
    Aggregation,
    ImportBatch,
    ImportStatus,
    Indicator,
    IndicatorValue,
)
from pejling.indicators.sources.files import parse_table_file
from pejling.indicators.sources.records import Observation, ParseResult
from pejling.organisation.models import Unit

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
    "unsupported_format": gettext_lazy("Only CSV and Excel (xlsx) files can be imported."),
    "unreadable_file": gettext_lazy("The file could not be read."),
    "file_too_large": gettext_lazy("The file is too large."),
    "invalid_payload": gettext_lazy("The response does not have the expected structure."),
    "empty_file": gettext_lazy("The file holds no values."),
}


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str | None
    code: str
    detail: str = ""

    @property
    def message(self) -> str:
        return str(MESSAGES.get(self.code, self.code))

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowError:
        return cls(data.get("row"), data.get("column"), data["code"], data.get("detail", ""))


@dataclass(frozen=True)
class MappedValue:
    indicator_id: int
    unit_id: int
    period: str
    period_start: date
    period_end: date
    value: Decimal


@dataclass
class Checked:
    values: list[MappedValue]
    errors: list[RowError]
    preview: list[dict[str, Any]]
    skipped: int = 0


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
    errors = [RowError(e.row, e.column, e.code, e.message) for e in result.errors]
    indicators = {i.code.casefold(): i for i in Indicator.objects.all()}
    by_code, by_name = _unit_lookup()
    values: list[MappedValue] = []
    preview: list[dict[str, Any]] = []
    unit_cache: dict[str, int | str] = {}
    # The parser catches rows repeated as written; this catches rows that differ only in how
    # the unit or indicator is written (code and name, letter case) and map to the same value.
    seen: dict[tuple[int, int, str], Observation] = {}
    for obs in result.observations:
        indicator = indicators.get(obs.indicator.casefold())
        if indicator is None:
            errors.append(RowError(obs.row, "indicator", "unknown_indicator", obs.indicator))
            continue
        if indicator.aggregation == Aggregation.RATIO:
            errors.append(RowError(obs.row, "indicator", "derived_indicator", obs.indicator))
            continue
        unit_id = unit_cache.get(obs.unit)
        if unit_id is None:
            unit_id = _map_unit(obs, by_code, by_name, unit_codes)
            unit_cache[obs.unit] = unit_id
        if isinstance(unit_id, str):
            errors.append(RowError(obs.row, "unit", unit_id, obs.unit))
            continue
        if obs.period.kind != indicator.periodicity:
            errors.append(
                RowError(
                    obs.row,
                    "period",
                    "wrong_periodicity",
                    f"{obs.period} ≠ {indicator.get_periodicity_display()}",
                )
            )
            continue
        if obs.value < 0 and not indicator.allow_negative:
            errors.append(RowError(obs.row, "value", "negative_count", str(obs.value)))
            continue
        period = str(obs.period)
        first = seen.setdefault((indicator.pk, unit_id, period), obs)
        if first is not obs:
            column, written, before = (
                ("unit", obs.unit, first.unit)
                if first.unit != obs.unit
                else ("indicator", obs.indicator, first.indicator)
            )
            errors.append(
                RowError(
                    obs.row,
                    column,
                    "duplicate_row",
                    f"{written!r} is {before!r} in row {first.row}, for the same period.",
                )
            )
            continue
        mapped = MappedValue(
            indicator.pk,
            unit_id,
            period,
            obs.period.start_date(),
            obs.period.end_date(),
            obs.value,
        )
        values.append(mapped)
        if len(preview) < PREVIEW_ROWS:
            preview.append(
                {
                    "row": obs.row,
                    "indicator": indicator.code,
                    "unit": obs.unit,
                    "period": period,
                    "value": str(obs.value),
                }
            )
    if not values and not errors:
        errors.append(RowError(None, None, "empty_file"))
    errors.sort(key=lambda e: (e.row or 0, e.column or ""))
    return Checked(values, errors, preview, skipped=len(result.skipped))


def _map_unit(
    obs: Observation,
    by_code: dict[str, int],
    by_name: dict[str, int | None],
    unit_codes: dict[str, str] | None,
) -> int | str:
    key = obs.unit
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


def write_values(values: list[MappedValue], batch: ImportBatch) -> tuple[int, int]:
    """Upsert the values (inside the caller's transaction); returns (created, updated)."""
    if connection.vendor == "postgresql":
        return _write_postgresql(values, batch)
    return _write_generic(values, batch)


def _write_postgresql(values: list[MappedValue], batch: ImportBatch) -> tuple[int, int]:
    table = IndicatorValue._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE pejling_import (indicator_id bigint, unit_id bigint, period varchar(10),"
            " period_start date, period_end date, value numeric(20,6)) ON COMMIT DROP"
        )
        with cursor.copy(
            "COPY pejling_import (indicator_id, unit_id, period, period_start, period_end, value) FROM STDIN"
        ) as copy:
            for v in values:
                copy.write_row(
                    (v.indicator_id, v.unit_id, v.period, v.period_start, v.period_end, v.value)
                )
        cursor.execute(
            f"SELECT count(*) FROM pejling_import i JOIN {table} v"  # noqa: S608 - table name from the model
            " ON v.indicator_id = i.indicator_id AND v.unit_id = i.unit_id AND v.period = i.period"
        )
        updated = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {table} (indicator_id, unit_id, period, period_start, period_end, value, batch_id)"  # noqa: S608
            " SELECT indicator_id, unit_id, period, period_start, period_end, value, %s FROM pejling_import"
            " ON CONFLICT (indicator_id, unit_id, period) DO UPDATE SET value = EXCLUDED.value,"
            " batch_id = EXCLUDED.batch_id, period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end",
            [batch.pk],
        )
        cursor.execute("DROP TABLE pejling_import")
    return len(values) - updated, updated


def _write_generic(values: list[MappedValue], batch: ImportBatch) -> tuple[int, int]:
    keys = {(v.indicator_id, v.unit_id, v.period) for v in values}
    indicator_ids = {v.indicator_id for v in values}
    existing = {
        key
        for key in IndicatorValue.objects.filter(indicator_id__in=indicator_ids).values_list(
            "indicator_id", "unit_id", "period"
        )
        if key in keys
    }
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
            for v in values
        ],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["indicator", "unit", "period"],
        update_fields=["value", "batch", "period_start", "period_end"],
    )
    return len(values) - len(existing), len(existing)


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
    if progress:
        progress("checked", len(checked.values), len(checked.values))
    batch = batch or ImportBatch(
        source=source, filename=filename, default_indicator=indicator, created_by=by
    )
    batch.rows_total = len(result.observations) + len(result.errors)
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
        created, updated = write_values(checked.values, batch)
        batch.created, batch.updated = created, updated
        batch.rows_done = len(checked.values)
        batch.finished_at = timezone.now()
        batch.payload = None
        save_as(batch, by, reason="imported")
    if progress:
        progress("written", len(checked.values), len(checked.values))
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
    result = parse_upload(data, filename, indicator=indicator)
    if progress:
        progress("parsed", len(result.observations), len(result.observations))
    return import_observations(
        result=result,
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
    result = parse_upload(data, filename, indicator=indicator)
    checked = check(result)
    batch = ImportBatch(
        source="file",
        filename=filename,
        default_indicator=indicator,
        created_by=by,
        rows_total=len(result.observations) + len(result.errors),
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
