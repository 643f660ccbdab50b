"""Checking parsed values against Pejling: map the source's unit codes or names and indicator
codes to ours, and check each value against its indicator (period kind, sign, size, repeats).

Checking a million rows is kept cheap: indicators, units and periods are looked up once per
distinct text, each period's dates are computed once, and the mapped values are plain tuples.
A clean CSV file read by the fast reader is checked column-wise (:func:`check_clean_csv`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from pejling.indicators.models import Aggregation, Indicator
from pejling.indicators.sources.fast_csv import CleanCsv
from pejling.indicators.sources.numbers import parse_decimal
from pejling.indicators.sources.records import Observation, ParseResult
from pejling.indicators.sources.table_rows import gc_paused
from pejling.organisation.models import Unit

from .messages import SELF_EXPLAINED_CODES, RowError

if TYPE_CHECKING:
    import polars as pl

PREVIEW_ROWS = 10

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

    The values come as :class:`MappedValue` tuples from :func:`check_observations`, or, from a clean CSV
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


def _unit_lookup() -> tuple[dict[str, int], dict[str, int | None]]:
    by_code: dict[str, int] = {}
    by_name: dict[str, int | None] = {}
    for pk, code, name in Unit.objects.values_list("pk", "code", "name"):
        by_code[code.casefold()] = pk
        key = name.casefold()
        by_name[key] = None if key in by_name else pk  # None marks an ambiguous name
    return by_code, by_name


def check_observations(result: ParseResult, *, unit_codes: dict[str, str] | None = None) -> Checked:
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
            e.found or ("" if e.code in SELF_EXPLAINED_CODES else e.message),
            e.other_row,
        )
        for e in result.errors
    ]
    add_error = errors.append
    # Each distinct text is looked up once: (indicator, pk, periodicity, negative allowed) or
    # the error code; the unit's pk or the error code.
    indicator_of = _IndicatorEntries({i.code.casefold(): i for i in Indicator.objects.all()})
    unit_of = _UnitEntries(*_unit_lookup(), unit_codes)
    # Canonical text and dates per period object; parsers share one object per distinct period
    # cell, and every observation (so every id) stays alive during the loop.
    period_dates: dict[int, tuple[str, date, date]] = {}
    values: list[MappedValue] = []
    add_value = values.append
    new_value = tuple.__new__
    preview: list[dict[str, Any]] = []
    # The parser catches rows repeated as written; this catches rows that differ only in how
    # the unit or indicator is written (code and name, letter case) and map to the same value.
    seen: dict[tuple[int, int, str], Observation] = {}
    with gc_paused():  # a million new tuples would set off many full collections
        for obs in result.observations:
            found = indicator_of[obs.indicator]
            if isinstance(found, str):
                add_error(RowError(obs.row, "indicator", found, obs.indicator))
                continue
            indicator, indicator_id, periodicity, allow_negative = found
            unit_id = unit_of[obs.unit]
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
            problem = _value_problem(value, allow_negative)
            if problem is not None:
                add_error(RowError(obs.row, "value", problem, str(value)))
                continue
            dates = period_dates.get(id(period))
            if dates is None:
                dates = period_dates[id(period)] = (
                    str(period),
                    period.start_date(),
                    period.end_date(),
                )
            text, start, end = dates
            first = seen.setdefault((indicator_id, unit_id, text), obs)
            if first is not obs:
                add_error(_repeated(obs, first, text))
                continue
            add_value(new_value(MappedValue, (indicator_id, unit_id, text, start, end, value)))
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
    if not values and not errors:
        errors.append(RowError(None, None, "empty_file"))
    errors.sort(key=lambda e: (e.row or 0, e.column or ""))
    return Checked(values, errors, preview, skipped=len(result.skipped))


class _IndicatorEntries(dict[str, "tuple[Indicator, int, str, bool] | str"]):
    """Indicator text -> :func:`_indicator_entry`, looked up on first use."""

    def __init__(self, indicators: dict[str, Indicator]) -> None:
        super().__init__()
        self.indicators = indicators

    def __missing__(self, text: str) -> tuple[Indicator, int, str, bool] | str:
        entry = self[text] = _indicator_entry(self.indicators.get(text.casefold()))
        return entry


class _UnitEntries(dict[str, "int | str"]):
    """Unit text -> our unit's pk or the error code (:func:`_map_unit`), looked up on first use."""

    def __init__(
        self,
        by_code: dict[str, int],
        by_name: dict[str, int | None],
        unit_codes: dict[str, str] | None,
    ) -> None:
        super().__init__()
        self.by_code, self.by_name, self.unit_codes = by_code, by_name, unit_codes

    def __missing__(self, text: str) -> int | str:
        entry = self[text] = _map_unit(text, self.by_code, self.by_name, self.unit_codes)
        return entry


def _value_problem(value: Decimal, allow_negative: bool) -> str | None:
    """Why a value cannot be stored (a negative count, too many digits), or None."""
    if value < 0 and not allow_negative:
        return "negative_count"
    if value and value.adjusted() >= MAX_INTEGER_DIGITS:
        return "out_of_range"
    return None


def _repeated(obs: Observation, first: Observation, period_text: str) -> RowError:
    """The error for a row that maps to the same value as an earlier one, saying what was
    written otherwise in the first row (a unit's code, then its name)."""
    if first.unit != obs.unit:
        column, detail = "unit", f"{obs.unit} = {first.unit}"
    elif first.indicator != obs.indicator:
        column, detail = "indicator", f"{obs.indicator} = {first.indicator}"
    else:
        column, detail = "period", period_text
    return RowError(obs.row, column, "duplicate_row", detail, first.row)


def _indicator_entry(indicator: Indicator | None) -> tuple[Indicator, int, str, bool] | str:
    """What :func:`check_observations` needs of an indicator, or why values cannot be imported into it."""
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
    """Map a clean CSV file's columns to our indicators and units, as :func:`check_observations` would.

    Returns None when :func:`check_observations` would find any error (an unknown, ambiguous or derived
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


# How many problems of a file are kept on its batch (the count of all is kept beside them).
ERRORS_KEPT = 1_000


@dataclass
class FileCheck:
    """What checking a file found: how many rows, the first problems (at most
    :data:`ERRORS_KEPT`) and how many in all, the first values (at most :data:`PREVIEW_ROWS`),
    and the units of each indicator and period in it ((indicator id, period) → unit ids)."""

    rows_total: int
    errors: list[RowError]
    errors_total: int
    preview: list[MappedValue]
    incoming: dict[tuple[int, str], set[int]]
