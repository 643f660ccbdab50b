"""Observations of one indicator from a JSON-stat dataset (see :mod:`.jsonstat`): one per
region and period, every other dimension pinned to one category."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .jsonstat import Dataset, Dimension
from .numbers import NumberError, decimal_from_json
from .records import (
    DuplicateChecker,
    Observation,
    ParseError,
    ParseResult,
    Period,
    PeriodError,
    parse_period,
)
from .totals import parts_of, total_of

RegionMapper = Callable[[str], str | None] | Mapping[str, str]


def _map_region(mapper: RegionMapper | None, code: str) -> str | None:
    if mapper is None:
        return code
    if isinstance(mapper, Mapping):
        return mapper.get(code)
    return mapper(code)


def observations_from_dataset(
    dataset: Dataset,
    *,
    indicator: str,
    time: str,
    region: str | None = None,
    unit: str | None = None,
    filters: Mapping[str, str] | None = None,
    region_codes: RegionMapper | None = None,
    nonnegative: bool = False,
    sums: Collection[str] = (),
) -> ParseResult:
    """Turn a dataset into observations of one indicator.

    - ``time``: id of the time dimension; its category ids are parsed with
      :func:`~.records.parse_period`.
    - ``region``: id of the region dimension; its category id (after
      ``region_codes``, a mapping or function; None drops the cell with an
      ``unknown_unit`` error) is the observation's unit. When None, ``unit``
      is used for every observation.
    - ``filters``: dimension id -> category id for every other dimension
      with more than one category (for example ``{"ContentsCode":
      "Personer1"}``). An unfiltered dimension with several categories is an
      ``ambiguous_dimension`` error, as it would give duplicate rows.
    - ``sums``: dimensions to sum over (sex, age): the source's own total category where the
      dataset carries one (by its label, see :mod:`.totals`), else the sum of every other
      category; a cell missing in any part leaves that sum out (skipped). ``result.sums`` says
      which was done.

    Null cells become ``skipped`` entries (``null_value``) that carry the
    cell's status symbol. Errors have ``row=None`` and name the dimension in
    ``column``.

    Steps: check the named dimensions exist, pin every other dimension to one category, read
    the periods and the units, then read the cells of every (unit, period).
    """
    result = ParseResult()
    filters = dict(filters or {})
    if region is None and not unit:
        raise ValueError("Pass either region (a dimension id) or unit (a fixed unit code).")
    sums = [name for name in sums if name not in filters]
    result.errors.extend(
        _missing_dimensions(dataset, [time, *([region] if region else []), *filters, *sums])
    )
    if result.errors:
        return result
    strides = dict(zip(dataset.ids, dataset.strides, strict=True))
    parts = _summed_parts(dataset, sums, filters, result)
    fixed = _pinned_positions(
        dataset, varying=(time, region, *parts), filters=filters, errors=result.errors
    )
    if result.errors:
        return result
    offsets = [
        sum(pos * strides[dim_id] for dim_id, pos in zip(parts, combination, strict=True))
        for combination in itertools.product(*parts.values())
    ]
    cells = _DatasetCells(
        dataset=dataset,
        result=result,
        indicator=indicator,
        time=time,
        region=region,
        nonnegative=nonnegative,
        base=sum(pos * strides[dim_id] for dim_id, pos in fixed.items()),
        strides=strides,
        offsets=offsets,
    )
    periods = _periods_of(dataset.dimensions[time], result.errors)
    units = _units_of(dataset, region, unit, region_codes, result.errors)
    cells.read(periods, units)
    return result


def _summed_parts(
    dataset: Dataset, sums: list[str], filters: dict[str, str], result: ParseResult
) -> dict[str, list[int]]:
    """For each dimension summed over: pin its total (added to ``filters``) where the dataset
    carries one, else the positions of the parts to add up (returned)."""
    parts: dict[str, list[int]] = {}
    for dim_id in sums:
        dimension = dataset.dimensions[dim_id]
        categories = [(c, dimension.label_of(c)) for c in dimension.categories]
        total = total_of(categories)
        if total is not None or len(dimension) == 1:
            filters[dim_id] = total if total is not None else dimension.categories[0]
            result.sums[dim_id] = filters[dim_id]
        else:
            codes = parts_of(categories)
            parts[dim_id] = [dimension.positions[c] for c in codes]
            result.sums[dim_id] = len(codes)
    return parts


def _missing_dimensions(dataset: Dataset, names: list[str]) -> list[ParseError]:
    return [
        ParseError(
            None,
            dim_id,
            "missing_column",
            f"The dataset has no dimension {dim_id!r}; it has {', '.join(dataset.ids)}.",
        )
        for dim_id in names
        if dim_id not in dataset.dimensions
    ]


def _pinned_positions(
    dataset: Dataset,
    *,
    varying: tuple[str | None, ...],
    filters: Mapping[str, str],
    errors: list[ParseError],
) -> dict[str, int]:
    """The one category position of each dimension other than time and region: the filtered
    one, or the only one; an error for a filter the dimension lacks or a dimension left open."""
    fixed: dict[str, int] = {}
    for dim_id in dataset.ids:
        dimension = dataset.dimensions[dim_id]
        if dim_id in varying:
            continue
        if dim_id in filters:
            wanted = filters[dim_id]
            if wanted in dimension.positions:
                fixed[dim_id] = dimension.positions[wanted]
            else:
                errors.append(
                    ParseError(
                        None,
                        dim_id,
                        "unknown_category",
                        f"Dimension {dim_id!r} has no category {wanted!r}; "
                        f"it has {', '.join(dimension.categories[:10])}"
                        f"{' …' if len(dimension) > 10 else ''}.",
                    )
                )
        elif len(dimension) == 1:
            fixed[dim_id] = 0
        else:
            errors.append(
                ParseError(
                    None,
                    dim_id,
                    "ambiguous_dimension",
                    f"Dimension {dim_id!r} has {len(dimension)} categories; "
                    f"pass a filter to pick one of {', '.join(dimension.categories[:10])}.",
                )
            )
    return fixed


def _periods_of(time_dim: Dimension, errors: list[ParseError]) -> dict[str, Period]:
    """Each time category's period; an ``unknown_period`` error for each that is none."""
    periods = {}
    for category in time_dim.categories:
        try:
            periods[category] = parse_period(category)
        except PeriodError as exc:
            errors.append(ParseError(None, time_dim.id, "unknown_period", str(exc)))
    return periods


def _units_of(
    dataset: Dataset,
    region: str | None,
    unit: str | None,
    region_codes: RegionMapper | None,
    errors: list[ParseError],
) -> dict[str, str]:
    """Each region category's unit code (without a region: ``""`` is the fixed ``unit``); an
    ``unknown_unit`` error for each region the mapping does not know."""
    if region is None:
        return {"": str(unit)}
    region_dim = dataset.dimensions[region]
    units: dict[str, str] = {}
    for category in region_dim.categories:
        mapped = _map_region(region_codes, category)
        if mapped is None:
            errors.append(
                ParseError(
                    None,
                    region,
                    "unknown_unit",
                    f"Region {category!r} ({region_dim.label_of(category)}) has no code mapping.",
                )
            )
        else:
            units[category] = mapped
    return units


@dataclass(slots=True)
class _DatasetCells:
    """Reads the cells of one indicator: one per region and period, the other dimensions
    pinned (``base`` is their offset)."""

    dataset: Dataset
    result: ParseResult
    indicator: str
    time: str
    region: str | None
    nonnegative: bool
    base: int
    strides: dict[str, int]
    offsets: list[int]

    def read(self, periods: dict[str, Period], units: dict[str, str]) -> None:
        time_categories = self.dataset.dimensions[self.time].categories
        region_categories = (
            self.dataset.dimensions[self.region].categories if self.region else ("",)
        )
        duplicates = DuplicateChecker()
        time_stride = self.strides[self.time]
        for r_pos, r_cat in enumerate(region_categories):
            unit_code = units.get(r_cat)
            if unit_code is None:
                continue
            r_offset = r_pos * self.strides[self.region] if self.region else 0
            for t_pos, t_cat in enumerate(time_categories):
                period = periods.get(t_cat)
                if period is None:
                    continue
                where = f"{r_cat + ' ' if self.region else ''}{t_cat}".strip()
                value = self._value(self.base + r_offset + t_pos * time_stride, where)
                if value is None:
                    continue
                duplicate = duplicates.repeat_of_earlier(
                    self.indicator, unit_code, period, None, self.region
                )
                if duplicate is not None:
                    self.result.errors.append(duplicate)
                    continue
                self.result.observations.append(
                    Observation(self.indicator, unit_code, period, value, None)
                )

    def _value(self, index: int, where: str) -> Decimal | None:
        """The cell's value (the sum of the parts' cells when a dimension is summed over), or
        None: a null in any part is skipped, anything else bad an error."""
        if len(self.offsets) == 1:
            return self._cell(index + self.offsets[0], where)
        total = Decimal(0)
        for offset in self.offsets:
            value = self._cell(index + offset, where)
            if value is None:
                return None
            total += value
        return total

    def _cell(self, index: int, where: str) -> Decimal | None:
        """One cell's value, or None: a null is skipped, anything else bad an error."""
        raw = self.dataset.value_at(index)
        if raw is None:
            status = self.dataset.status_at(index)
            self.result.skipped.append(
                ParseError(
                    None,
                    None,
                    "null_value",
                    f"No value for {where}" + (f" (status {status!r})." if status else "."),
                )
            )
            return None
        try:
            value = decimal_from_json(raw)
        except NumberError:
            self.result.errors.append(
                ParseError(
                    None, None, "not_a_number", f"Value {raw!r} for {where} is not a number."
                )
            )
            return None
        assert value is not None
        if self.nonnegative and value < 0:
            self.result.errors.append(
                ParseError(None, None, "negative_count", f"Value {value} for {where} is negative.")
            )
            return None
        return value
