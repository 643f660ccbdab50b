"""Checking parsed values against Pejling: map the source's unit codes or names and indicator
codes to ours, and check each value against its indicator (period kind, sign, size, repeats).

Checking a million rows is kept cheap: indicators, units and periods are looked up once per
distinct text, each period's dates are computed once, and the mapped values are plain tuples.
A clean CSV file read by the fast reader is checked column-wise (:func:`check_clean_csv`).
"""

from __future__ import annotations

from collections.abc import Iterator
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
    # Where each value came from (file row, indicator and unit as written), in the order of
    # ``values`` or ``frame``: tuples from check_observations, a frame (row, indicator, unit)
    # from the fast reader. What finds the same value twice in different chunks reads it.
    origins: list[tuple[int, str, str]] = field(default_factory=list, repr=False)
    origin_frame: pl.DataFrame | None = field(default=None, repr=False)

    def shift_rows(self, offset: int) -> None:
        """Make row numbers of a chunk the file's (``offset`` rows further on)."""
        if not offset:
            return
        self.errors = [
            RowError(
                None if e.row is None else e.row + offset,
                e.column,
                e.code,
                e.detail,
                None if e.other_row is None else e.other_row + offset,
            )
            for e in self.errors
        ]
        for item in self.preview:
            item["row"] += offset
        self.origins = [(row + offset, ind, unit) for row, ind, unit in self.origins]
        if self.origin_frame is not None:
            import polars as pl

            self.origin_frame = self.origin_frame.with_columns(pl.col("row") + offset)

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
    origins: list[tuple[int, str, str]] = []
    add_origin = origins.append
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
            add_origin((obs.row or 0, obs.indicator, obs.unit))
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
    return Checked(values, errors, preview, skipped=len(result.skipped), origins=origins)


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
    return Checked(
        [], [], preview, frame=frame, origin_frame=rows.select("row", "indicator", "unit")
    )


def _ranks(ids: list[int]) -> list[int]:
    """Each id's place among the distinct ids (equal ids, equal places)."""
    place = {pk: n for n, pk in enumerate(sorted(set(ids)))}
    return [place[pk] for pk in ids]


# A file's check keeps at most this many errors (the first, by row); it counts them all.
ERRORS_KEPT = 1000


class IncomingUnits(dict[tuple[int, str], set[int]]):
    """(indicator id, period) → the ids of the units a file has values for; with each period's
    start (``starts``). Built chunk by chunk from compact arrays: a file of millions of values
    keeps a few bytes a value, the sets are made once at the end."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: dict[str, date] = {}
        self._parts: dict[tuple[int, str], list[Any]] = {}

    def add(self, checked: Checked) -> None:
        from array import array

        import polars as pl

        if checked.frame is not None:
            groups = checked.frame.group_by(["indicator_id", "period", "period_start"]).agg(
                pl.col("unit_id")
            )
            for indicator_id, period, start, units in groups.iter_rows():
                self.starts[period] = start
                self._parts.setdefault((indicator_id, period), []).append(array("q", units))
            return
        grouped: dict[tuple[int, str], Any] = {}
        for value in checked.values:
            key = (value.indicator_id, value.period)
            part = grouped.get(key)
            if part is None:
                part = grouped[key] = array("q")
                self.starts[value.period] = value.period_start
            part.append(value.unit_id)
        for key, part in grouped.items():
            self._parts.setdefault(key, []).append(part)

    def finish(self) -> None:
        for key, parts in self._parts.items():
            units: set[int] = set()
            for part in parts:
                units.update(part)
            self[key] = units
        self._parts.clear()


class KeySet:
    """Every checked value's (indicator, unit, period) as one 64-bit number, to find the same
    value written twice in different chunks of a file (a chunk's own repeats its check finds).

    Memory: 8 bytes a distinct value, in one sorted polars array per chunk (no Python object
    per value, and nothing else kept per value: 48 MB for six million values). Each chunk's
    keys are looked up in the earlier chunks' arrays (a binary search each) as the chunk comes.
    A repeat keeps its own row and spelling (at most :data:`ERRORS_KEPT` of them, all counted);
    the rows they repeat are found only when there are any, by reading the file again up to
    the last kept repeat (:meth:`first_rows`): a file with repeats is refused anyway."""

    _BITS = 21

    def __init__(self) -> None:
        self._parts: list[pl.Series] = []
        self._periods: dict[str, int] = {}
        # The repeats found (key, row, indicator and unit as written), the first by row.
        self.repeats: list[tuple[int, int, str, str]] = []
        self.repeats_total = 0
        # How many chunks were added (the second pass reads no further than needed).
        self.chunks = 0
        self._last_chunk = 0

    @property
    def stored_bytes(self) -> int:
        """The bytes the keys take (8 a distinct value)."""
        return sum(int(part.estimated_size()) for part in self._parts)

    def _keys(self, checked: Checked) -> pl.Series | None:
        """The chunk's keys, in the order of its values."""
        import polars as pl

        if checked.frame is not None:
            frame = checked.frame.select("indicator_id", "unit_id", "period")
        elif checked.values:
            frame = pl.DataFrame(
                {
                    "indicator_id": [v.indicator_id for v in checked.values],
                    "unit_id": [v.unit_id for v in checked.values],
                    "period": [v.period for v in checked.values],
                },
                schema={"indicator_id": pl.Int64, "unit_id": pl.Int64, "period": pl.String},
            )
        else:
            return None
        if frame.height == 0:
            return None
        periods = frame.get_column("period").unique().to_list()
        codes = [self._periods.setdefault(p, len(self._periods)) for p in periods]
        bits = self._BITS
        if max(len(self._periods), *(frame.select(pl.max("unit_id")).row(0))) >= 1 << bits:
            raise ValueError("Too many units or periods to tell repeated values apart.")
        return frame.select(
            (
                pl.col("indicator_id").cast(pl.UInt64) * (1 << (2 * bits))
                + pl.col("unit_id").cast(pl.UInt64) * (1 << bits)
                + pl.col("period").replace_strict(periods, codes, return_dtype=pl.UInt64)
            ).alias("key")
        ).to_series()

    def add(self, checked: Checked) -> None:
        """A chunk's values: those already in an earlier chunk are repeats; the others kept."""
        self.chunks += 1
        keys = self._keys(checked)
        if keys is None:
            return
        fresh = keys.sort()
        seen = None
        for part in self._parts:
            found = _found_in(part, fresh)
            seen = found if seen is None else seen | found
        if seen is not None and seen.any():
            self._repeats_of(checked, keys, fresh.filter(seen))
            fresh = fresh.filter(~seen)
        if not fresh.is_empty():
            self._parts.append(fresh.rechunk())

    def _repeats_of(self, checked: Checked, keys: pl.Series, repeated: pl.Series) -> None:
        at = keys.is_in(repeated.implode())
        self.repeats_total += int(at.sum())
        room = ERRORS_KEPT - len(self.repeats)
        if room <= 0:
            return
        if checked.origin_frame is not None:
            rows = list(checked.origin_frame.filter(at).head(room).iter_rows())
        else:
            rows = [o for o, hit in zip(checked.origins, at, strict=True) if hit][:room]
        hits = keys.filter(at).head(room).to_list()
        self.repeats.extend(
            (key, row, indicator, unit)
            for key, (row, indicator, unit) in zip(hits, rows, strict=True)
        )
        self._last_chunk = self.chunks

    def first_rows(self, chunks: Iterator[Checked]) -> dict[int, tuple[int, str, str]]:
        """The first row (and its spelling) of every kept repeat's value, from the file's
        chunks read again in order (no further than the last chunk with a kept repeat)."""
        wanted = {key for key, *_rest in self.repeats}
        first: dict[int, tuple[int, str, str]] = {}
        if not wanted:
            return first
        import polars as pl

        wanted_series = pl.Series("key", sorted(wanted), dtype=pl.UInt64)
        for number, checked in enumerate(chunks, start=1):
            keys = self._keys(checked)
            if keys is not None:
                at = keys.is_in(wanted_series.implode())
                if at.any():
                    if checked.origin_frame is not None:
                        rows = list(checked.origin_frame.filter(at).iter_rows())
                    else:
                        rows = [o for o, hit in zip(checked.origins, at, strict=True) if hit]
                    for key, origin in zip(keys.filter(at).to_list(), rows, strict=True):
                        first.setdefault(key, origin)
            if len(first) == len(wanted) or number >= self._last_chunk:
                break
        return first

    def repeated(self, chunks: Iterator[Checked] | None = None) -> list[RowError]:
        """A ``duplicate_row`` error for every value written again in a later chunk (the first
        :data:`ERRORS_KEPT` of them), naming the first row (as :func:`check_observations` does
        within a chunk); ``chunks``: the file's checked chunks, read again."""
        if not self.repeats:
            return []
        first = self.first_rows(chunks) if chunks is not None else {}
        period_of = {code: text for text, code in self._periods.items()}
        mask = (1 << self._BITS) - 1
        errors = []
        for key, row, indicator, unit in self.repeats:
            first_row, first_indicator, first_unit = first.get(key, (None, indicator, unit))
            if first_unit != unit:
                column, detail = "unit", f"{unit} = {first_unit}"
            elif first_indicator != indicator:
                column, detail = "indicator", f"{indicator} = {first_indicator}"
            else:
                column, detail = "period", period_of[key & mask]
            errors.append(RowError(row, column, "duplicate_row", detail, first_row))
        return errors


def _found_in(part: pl.Series, keys: pl.Series) -> pl.Series:
    """For each of the sorted ``keys``: whether the sorted ``part`` holds it (binary search)."""
    import polars as pl

    at = part.search_sorted(keys).clip(0, len(part) - 1)
    return (part.gather(at) == keys).alias("seen").cast(pl.Boolean)


@dataclass
class FileCheck:
    """What checking a whole file found: its rows, the first errors (at most
    :data:`ERRORS_KEPT`, by row) and how many there are, the first values for a preview (and
    those rows as the page shows them), and the units of each indicator and period
    (``incoming``, with the periods' starts in ``incoming.starts``)."""

    rows_total: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    preview: list[MappedValue] = field(default_factory=list)
    preview_rows: list[dict[str, Any]] = field(default_factory=list)
    incoming: IncomingUnits = field(default_factory=IncomingUnits)
    values_total: int = 0
    # Whether to gather ``incoming`` (the check before a preview needs it; writing does not,
    # and at millions of values it is memory for nothing).
    track_units: bool = True

    def add_errors(self, errors: list[RowError]) -> None:
        self.errors_total += len(errors)
        self.errors.extend(errors)
        if len(self.errors) > 2 * ERRORS_KEPT:
            self._trim()

    def _trim(self) -> None:
        self.errors.sort(key=lambda e: (e.row or 0, e.column or ""))
        del self.errors[ERRORS_KEPT:]

    def add_values(self, checked: Checked) -> None:
        """A chunk's checked values: counted, the first kept for the preview, their units."""
        self.values_total += checked.count
        if self.track_units:
            self.incoming.add(checked)
        wanted = PREVIEW_ROWS - len(self.preview)
        if wanted > 0:
            self.preview_rows.extend(checked.preview[:wanted])
            if checked.frame is not None:
                self.preview.extend(
                    MappedValue(i, u, p, s, e, Decimal(v))
                    for i, u, p, s, e, v in checked.frame.head(wanted).iter_rows()
                )
            else:
                self.preview.extend(checked.values[:wanted])

    def finish(self) -> None:
        self._trim()
        self.incoming.finish()
