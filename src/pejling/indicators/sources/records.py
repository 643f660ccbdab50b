"""Plain records shared by every KPI source parser.

Nothing here knows about Django. A parser turns some external payload into a
:class:`ParseResult`: a list of :class:`Observation` plus every problem found,
so a service can show the user all bad rows at once and store the good ones.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import total_ordering
from typing import Literal, get_args

PeriodKind = Literal["year", "tertial", "quarter", "month"]

PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)

# How many sub-periods a year has, and how many months each one spans.
_PARTS: dict[str, int] = {"year": 0, "tertial": 3, "quarter": 4, "month": 12}
_MONTHS_PER_PART: dict[str, int] = {"year": 12, "tertial": 4, "quarter": 3, "month": 1}

MIN_YEAR = 1000
MAX_YEAR = 9999


class PeriodError(ValueError):
    """Raised when text is not one of the period forms we accept."""


@total_ordering
@dataclass(frozen=True, slots=True)
class Period:
    """A calendar year or a part of one.

    ``number`` is 0 for a whole year, 1-3 for a tertial, 1-4 for a quarter and
    1-12 for a month. ``str(period)`` gives the canonical form: ``2019``,
    ``2019T1``, ``2019Q1`` or ``2019-03``. Periods sort by start date, then by
    the longer period first, so a year sorts just before its first quarter.
    """

    year: int
    kind: PeriodKind = "year"
    number: int = 0

    def __post_init__(self) -> None:
        if self.kind not in _PARTS:
            raise PeriodError(f"Unknown period kind {self.kind!r}.")
        if isinstance(self.year, bool) or not isinstance(self.year, int):
            raise PeriodError(f"Year must be an integer, not {self.year!r}.")
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise PeriodError(f"Year {self.year} is outside {MIN_YEAR}-{MAX_YEAR}.")
        parts = _PARTS[self.kind]
        if parts == 0:
            if self.number != 0:
                raise PeriodError("A year period must have number 0.")
        elif not 1 <= self.number <= parts:
            raise PeriodError(
                f"A {self.kind} number must be between 1 and {parts}, not {self.number}."
            )

    def __str__(self) -> str:
        if self.kind == "year":
            return f"{self.year:04d}"
        if self.kind == "tertial":
            return f"{self.year:04d}T{self.number}"
        if self.kind == "quarter":
            return f"{self.year:04d}Q{self.number}"
        return f"{self.year:04d}-{self.number:02d}"

    def _first_month(self) -> int:
        if self.kind == "year":
            return 1
        return (self.number - 1) * _MONTHS_PER_PART[self.kind] + 1

    def start_date(self) -> date:
        """First day of the period."""
        return date(self.year, self._first_month(), 1)

    def end_date(self) -> date:
        """Last day of the period (inclusive)."""
        last_month = self._first_month() + _MONTHS_PER_PART[self.kind] - 1
        return date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    def _sort_key(self) -> tuple[date, int]:
        return (self.start_date(), -self.end_date().toordinal())

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._sort_key() < other._sort_key()


# One pattern for every accepted form; the letter decides the kind.
#   2019 | 2019-03 | 2019M03 | 2019T1 | 2019Q1 | 2019K1
_PERIOD_RE = re.compile(r"(\d{4})(?:(-|[MmTtQqKk])(\d{1,2}))?")
_KIND_BY_MARK: dict[str, PeriodKind] = {
    "-": "month",
    "m": "month",
    "t": "tertial",
    "q": "quarter",
    "k": "quarter",  # Danish/Norwegian "kvartal", as in StatBank's 2020K1
}


def parse_period(text: str) -> Period:
    """Parse ``2019``, ``2019-03``, ``2019M03``, ``2019T1``, ``2019Q1`` or ``2019K1``.

    Surrounding whitespace is ignored and the letter may be lower case.
    Anything else, including month 13, tertial 4 or quarter 5, raises
    :class:`PeriodError`.
    """
    if not isinstance(text, str):
        raise PeriodError(f"Period must be text, not {type(text).__name__}.")
    match = _PERIOD_RE.fullmatch(text.strip())
    if match is None:
        raise PeriodError(
            f"{text!r} is not a period like 2019, 2019-03, 2019M03, 2019T1 or 2019Q1."
        )
    year = int(match.group(1))
    mark = match.group(2)
    if mark is None:
        return Period(year)
    kind = _KIND_BY_MARK[mark.lower()]
    digits = match.group(3)
    if kind != "month" and len(digits) != 1:
        raise PeriodError(f"{text!r} is not a period: a {kind} number is a single digit.")
    try:
        return Period(year, kind, int(digits))
    except PeriodError as exc:
        raise PeriodError(f"{text!r} is not a period: {exc}") from None


@dataclass(frozen=True, slots=True)
class Observation:
    """One value of one indicator for one unit and period, as the source gave it.

    ``unit`` is the source's own code or name for the organisational unit or
    region (for example Kolada ``0180``, SSB ``0301``, a StatBank area text or
    whatever a municipality's spreadsheet says). Mapping it to a Pejling unit is
    the caller's job. ``row`` is the 1-based row or line in the source, if any.
    """

    indicator: str
    unit: str
    period: Period
    value: Decimal
    row: int | None = None


_new_object = object.__new__
# The slot descriptors' setters (frozen dataclasses block normal assignment).
_set_indicator, _set_unit, _set_period, _set_value, _set_row = (
    Observation.__dict__[name].__set__ for name in ("indicator", "unit", "period", "value", "row")
)


def new_observation(
    indicator: str, unit: str, period: Period, value: Decimal, row: int | None
) -> Observation:
    """Same as ``Observation(...)`` but about twice as fast.

    The frozen dataclass ``__init__`` goes through ``object.__setattr__`` for
    each field; file parsers create a million of these, so they fill the slots
    directly. Observation has no validation to skip.
    """
    obs: Observation = _new_object(Observation)
    _set_indicator(obs, indicator)
    _set_unit(obs, unit)
    _set_period(obs, period)
    _set_value(obs, value)
    _set_row(obs, row)
    return obs


@dataclass(frozen=True, slots=True)
class ParseError:
    """A problem with one row or cell, or with the whole input (``row`` None).

    ``code`` is a stable machine id (see :data:`ERROR_CODES`); ``message`` is
    English text for people. ``column`` is the header or dimension id as it
    appears in the source, so users can find the cell. ``found`` is what the cell holds
    (or, for a missing column, the headers accepted), in no language, so that an interface
    can show it beside its own translation of ``code``; ``other_row`` is the row a duplicate
    repeats.
    """

    row: int | None
    column: str | None
    code: str
    message: str
    found: str = ""
    other_row: int | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


ERROR_CODES: dict[str, str] = {
    "missing_column": "A required column or dimension is not in the input.",
    "missing_value": "A required cell is empty.",
    "control_character": "A cell holds a control character (a NUL byte, an escape).",
    "too_many_columns": "The header line has more columns than are read.",
    "not_a_number": "A value cell is not a number.",
    "unknown_period": "A period is not in a supported form.",
    "negative_count": "A value is negative although only non-negative values are allowed.",
    "duplicate_row": "The same indicator, unit and period occurs twice.",
    "unknown_category": "A filter names a category that the table does not have.",
    "ambiguous_dimension": "A dimension or column has several values and no filter picks one.",
    "unknown_unit": "A unit or region could not be mapped to a code.",
    "unsupported_format": "The file is not CSV or XLSX.",
    "unreadable_file": "The file could not be read.",
    "file_too_large": "The file is bigger than the allowed limit.",
    "invalid_payload": "The response does not have the expected structure.",
    "empty_file": "The file has no header row and no values.",
}

# Codes used in ParseResult.skipped: values that are absent on purpose.
SKIP_CODES: dict[str, str] = {
    "null_value": "The source has no value here (null, '..' or a status flag).",
    "no_gender_value": "A Kolada entry has no value for the requested gender.",
}


@dataclass(slots=True)
class ParseResult:
    """Observations plus every error, and values the source left out on purpose.

    ``skipped`` uses the same shape as ``errors`` but is not a failure: for
    example a Kolada null or a suppressed StatBank cell.
    """

    observations: list[Observation] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    skipped: list[ParseError] = field(default_factory=list)
    # How each dimension asked to be summed over was read: the source's own total (its code,
    # a str) or the number of parts added up (an int).
    sums: dict[str, str | int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def extend(self, other: ParseResult) -> None:
        """Append another result (for example the next page of an API answer)."""
        self.observations.extend(other.observations)
        self.errors.extend(other.errors)
        self.skipped.extend(other.skipped)


class DuplicateChecker:
    """Remembers (indicator, unit, period) keys and reports the second sighting."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, Period], int | None] = {}

    def repeat_of_earlier(
        self, indicator: str, unit: str, period: Period, row: int | None, column: str | None
    ) -> ParseError | None:
        """The ``duplicate_row`` error if this key was seen before; else remember it, None."""
        key = (indicator, unit, period)
        if key in self._seen:
            first = self._seen[key]
            where = f"row {first}" if first is not None else "an earlier entry"
            return ParseError(
                row,
                column,
                "duplicate_row",
                f"Indicator {indicator!r}, unit {unit!r} and period {period} already appear in {where}.",
            )
        self._seen[key] = row
        return None
