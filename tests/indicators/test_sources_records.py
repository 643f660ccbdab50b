"""Periods, observations and parse results (pure Python, no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pejling.indicators.sources.records import (
    Observation,
    ParseError,
    ParseResult,
    Period,
    PeriodError,
    new_observation,
    parse_period,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019", Period(2019, "year", 0)),
        ("2019-03", Period(2019, "month", 3)),
        ("2019M03", Period(2019, "month", 3)),
        ("2019m3", Period(2019, "month", 3)),
        ("2019-12", Period(2019, "month", 12)),
        ("2019T1", Period(2019, "tertial", 1)),
        ("2019T3", Period(2019, "tertial", 3)),
        ("2019Q1", Period(2019, "quarter", 1)),
        ("2020K1", Period(2020, "quarter", 1)),
        ("2022k4", Period(2022, "quarter", 4)),
        ("  2019Q2 ", Period(2019, "quarter", 2)),
    ],
)
def test_it_parses_every_supported_period_form(text: str, expected: Period) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2019-13",
        "2019M13",
        "2019-00",
        "2019T4",
        "2019T0",
        "2019Q5",
        "2019K5",
        "2019Q0",
        "2019Q12",
        "19",
        "2019/03",
        "2019-3-1",
        "2019H1",
        "2022U01",
        "Q1 2019",
        "",
        "2019.0",
    ],
)
def test_it_rejects_anything_else_with_a_period_error(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


def test_it_prints_the_canonical_form() -> None:
    assert [str(p) for p in map(parse_period, ["2019", "2019T1", "2020K1", "2019M03"])] == [
        "2019",
        "2019T1",
        "2020Q1",
        "2019-03",
    ]


def test_it_gives_first_and_last_day_of_each_kind_of_period() -> None:
    assert Period(2019).start_date() == date(2019, 1, 1)
    assert Period(2019).end_date() == date(2019, 12, 31)
    assert Period(2019, "tertial", 2).start_date() == date(2019, 5, 1)
    assert Period(2019, "tertial", 2).end_date() == date(2019, 8, 31)
    assert Period(2019, "quarter", 4).start_date() == date(2019, 10, 1)
    assert Period(2019, "quarter", 4).end_date() == date(2019, 12, 31)
    assert Period(2020, "month", 2).end_date() == date(2020, 2, 29)
    assert Period(2019, "month", 2).end_date() == date(2019, 2, 28)


def test_it_sorts_periods_by_start_with_the_longer_one_first() -> None:
    periods = [Period(2019, "month", 2), Period(2019, "quarter", 1), Period(2018), Period(2019)]
    assert sorted(periods) == [
        Period(2018),
        Period(2019),
        Period(2019, "quarter", 1),
        Period(2019, "month", 2),
    ]


def test_it_refuses_to_build_impossible_periods() -> None:
    with pytest.raises(PeriodError):
        Period(2019, "month", 13)
    with pytest.raises(PeriodError):
        Period(2019, "year", 1)
    with pytest.raises(PeriodError):
        Period(2019, "week", 1)  # type: ignore[arg-type]


periods = st.one_of(
    st.builds(Period, st.integers(1000, 9999), st.just("year"), st.just(0)),
    st.builds(Period, st.integers(1000, 9999), st.just("tertial"), st.integers(1, 3)),
    st.builds(Period, st.integers(1000, 9999), st.just("quarter"), st.integers(1, 4)),
    st.builds(Period, st.integers(1000, 9999), st.just("month"), st.integers(1, 12)),
)


@given(periods)
def test_it_round_trips_every_period_through_its_text(period: Period) -> None:
    assert parse_period(str(period)) == period
    assert period.start_date() <= period.end_date()


@given(periods)
def test_it_reads_the_statbank_and_pxweb_spellings_of_the_same_period(period: Period) -> None:
    if period.kind == "quarter":
        assert parse_period(f"{period.year}K{period.number}") == period
    if period.kind == "month":
        assert parse_period(f"{period.year}M{period.number:02d}") == period


@given(st.integers(1000, 9999), st.integers(13, 99))
def test_it_rejects_every_month_above_twelve(year: int, month: int) -> None:
    with pytest.raises(PeriodError):
        parse_period(f"{year}-{month:02d}")


def test_the_fast_constructor_builds_the_same_observation() -> None:
    args = ("N00090", "0180", Period(2019), Decimal("5.5"), 3)
    fast = new_observation(*args)
    assert fast == Observation(*args)
    assert hash(fast) == hash(Observation(*args))
    with pytest.raises(AttributeError):
        fast.value = Decimal(1)  # type: ignore[misc]


def test_a_parse_error_says_where_it_is() -> None:
    error = ParseError(4, "Värde", "not_a_number", "'x' is not a number.")
    assert str(error) == "row 4, column 'Värde': 'x' is not a number."
    assert str(ParseError(None, None, "file_too_large", "Too big.")) == "Too big."


def test_results_combine_and_report_ok() -> None:
    first = ParseResult(observations=[Observation("a", "b", Period(2019), Decimal(1))])
    second = ParseResult(errors=[ParseError(1, None, "missing_value", "x")])
    first.extend(second)
    assert len(first.observations) == 1
    assert not first.ok
