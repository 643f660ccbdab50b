"""CSV and XLSX uploads of KPI values (no database).

Every input is generated here: cp1252 and BOM bytes are encoded in the test,
XLSX workbooks are written with openpyxl into a BytesIO.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pejling.indicators.sources.files import (
    decode_text,
    parse_csv_text,
    parse_table_file,
    sniff_delimiter,
)
from pejling.indicators.sources.numbers import NumberError, parse_decimal
from pejling.indicators.sources.records import ParseError, Period


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def only_error(errors: list[ParseError]) -> ParseError:
    assert len(errors) == 1, errors
    return errors[0]


# --- formats, encodings, separators ------------------------------------------------


def test_it_reads_decimal_comma() -> None:
    data = "Nyckeltal;Enhet;Period;Värde\nN00090;0180;2019;14,9\n"
    result = parse_table_file(csv_bytes(data), "sjukfranvaro.csv")
    assert result.ok
    [obs] = result.observations
    assert (obs.indicator, obs.unit, obs.period, obs.value, obs.row) == (
        "N00090",
        "0180",
        Period(2019),
        Decimal("14.9"),
        2,
    )


def test_it_reads_decimal_point_with_comma_separator() -> None:
    data = "indicator,unit,period,value\nsick_leave,HR,2019-03,14.9\nsick_leave,IT,2019-03,3\n"
    result = parse_table_file(csv_bytes(data), "export.csv")
    assert result.ok
    assert [o.value for o in result.observations] == [Decimal("14.9"), Decimal("3")]
    assert result.observations[0].period == Period(2019, "month", 3)


def test_it_reads_quoted_decimal_comma_in_a_comma_separated_file() -> None:
    data = 'indicator,unit,period,value\nk,HR,2019,"14,9"\n'
    assert parse_table_file(csv_bytes(data), "x.csv").observations[0].value == Decimal("14.9")


def test_it_reads_tab_separated_files() -> None:
    data = "Indikator\tEnhed\tPeriode\tVærdi\nk\t101\t2020K1\t1 234,5\n"
    result = parse_table_file(csv_bytes(data), "x.tsv")
    assert result.ok
    assert result.observations[0].value == Decimal("1234.5")
    assert result.observations[0].period == Period(2020, "quarter", 1)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1 234,5", "1234.5"),
        ("1\xa0234,5", "1234.5"),
        ("1\u202f234\u202f567", "1234567"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("-3,25", "-3.25"),
        ("\u22123,25", "-3.25"),
        ("0", "0"),
        (" 42 ", "42"),
        ("1E+05", "1E+5"),
    ],
)
def test_it_reads_thousands_separators_and_signs(cell: str, expected: str) -> None:
    data = f"indicator;unit;period;value\nk;u;2019;{cell}\n"
    result = parse_table_file(csv_bytes(data), "x.csv")
    assert result.ok, result.errors
    assert result.observations[0].value == Decimal(expected)


def test_it_reads_utf8_with_bom() -> None:
    data = "\ufeffNøgletal;Enhed;Periode;Værdi\nk;Århus;2020K1;5\n"
    result = parse_table_file(data.encode("utf-8"), "x.csv")
    assert result.ok
    assert result.observations[0].unit == "Århus"


def test_it_falls_back_to_windows_1252() -> None:
    data = "Nyckeltal;Enhet;Period;Värde\nk;Malmö;2019;1,5\nk;Hørsholm Æ;2019;2\n"
    raw = data.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    result = parse_table_file(raw, "x.csv")
    assert result.ok
    assert [o.unit for o in result.observations] == ["Malmö", "Hørsholm Æ"]


def test_it_reads_utf16_from_excel_unicode_text() -> None:
    data = "Indikator\tEnhet\tPeriode\tVerdi\nk\tOslo\t2022M03\t7,5\n"
    result = parse_table_file(data.encode("utf-16"), "x.txt")
    assert result.ok
    assert result.observations[0].period == Period(2022, "month", 3)


@pytest.mark.parametrize(
    "header",
    [
        "indicator;unit;period;value",
        "INDICATOR;UNIT;PERIOD;VALUE",
        "Nyckeltal;Enhet;Period;Värde",
        "Nøgletal;Enhed;Periode;Værdi",
        "Nøkkeltall;Enhet;Periode;Verdi",
        "Indikator;Unit code;Periode;Value",
        "kpi;Unit-Code;Tid;VÄRDE",
    ],
)
def test_it_understands_nordic_and_english_headers(header: str) -> None:
    result = parse_table_file(csv_bytes(f"{header}\nk;u;2019;1\n"), "x.csv")
    assert result.ok, result.errors
    assert len(result.observations) == 1


def test_it_ignores_extra_columns_and_blank_lines() -> None:
    data = "Kommentar;Enhet;Period;Värde;Nyckeltal\nhej;u;2019;1;k\n\n;;;;\nx;v;2019;2;k\n"
    result = parse_table_file(csv_bytes(data), "x.csv")
    assert result.ok
    assert [(o.unit, o.row) for o in result.observations] == [("u", 2), ("v", 5)]


def test_it_honours_an_excel_sep_line_and_numbers_rows_as_excel_shows_them() -> None:
    data = "sep=,\r\nNyckeltal,Enhet,Period,Värde\r\nk,a,2019,x\r\n"
    error = only_error(parse_table_file(csv_bytes(data), "x.csv").errors)
    assert (error.row, error.column, error.code) == (2, "Värde", "not_a_number")


def test_it_uses_the_default_indicator_when_there_is_no_indicator_column() -> None:
    data = "Enhet;Period;Värde\n0180;2019;5\n"
    result = parse_table_file(csv_bytes(data), "x.csv", default_indicator="N00090")
    assert result.ok
    assert result.observations[0].indicator == "N00090"


def test_the_file_indicator_column_wins_over_the_default() -> None:
    data = "Nyckeltal;Enhet;Period;Värde\nN1;0180;2019;5\n"
    result = parse_table_file(csv_bytes(data), "x.csv", default_indicator="N2")
    assert result.observations[0].indicator == "N1"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a;b;c", ";"),
        ("a,b,c", ","),
        ("a\tb\tc", "\t"),
        ('"a;b",c,d', ","),
        ("single", ","),
    ],
)
def test_it_sniffs_the_separator_from_the_header(line: str, expected: str) -> None:
    assert sniff_delimiter(line + "\n1;2;3\n") == expected


def test_decode_text_handles_each_encoding() -> None:
    assert decode_text("å".encode()) == "å"
    assert decode_text(b"\xef\xbb\xbfa") == "a"
    assert decode_text("å".encode("cp1252")) == "å"
    assert decode_text(b"\x81") == "\x81"  # undefined in cp1252: latin-1 fallback


def test_ambiguous_thousands_follow_the_rest_of_the_file() -> None:
    nordic = "indicator;unit;period;value\nk;a;2019;1.234\nk;b;2019;2,5\n"
    english = 'indicator,unit,period,value\nk,a,2019,"1,234"\nk,b,2019,2.5\n'
    assert parse_table_file(csv_bytes(nordic), "x.csv").observations[0].value == Decimal(1234)
    assert parse_table_file(csv_bytes(english), "x.csv").observations[0].value == Decimal(1234)
    forced = parse_csv_text(nordic, decimal_comma=False)
    assert forced.observations[0].value == Decimal("1.234")


@pytest.mark.parametrize("text", ["abc", "1,2,3.4.5x", "NaN", "Infinity", "1_000", "--1", "12%"])
def test_parse_decimal_refuses_non_numbers(text: str) -> None:
    with pytest.raises(NumberError):
        parse_decimal(text)


# --- every bad row, with row number and column ---------------------------------------

HEADER = "Nyckeltal;Enhet;Period;Värde\n"


def test_it_reports_a_missing_value_with_row_and_column() -> None:
    result = parse_table_file(csv_bytes(HEADER + "k;a;2019;1\nk;b;2019;\n"), "x.csv")
    error = only_error(result.errors)
    assert (error.row, error.column, error.code) == (3, "Värde", "missing_value")
    assert len(result.observations) == 1


def test_it_reports_a_non_number_with_row_and_column() -> None:
    result = parse_table_file(csv_bytes(HEADER + "k;a;2019;14,9 %\n"), "x.csv")
    error = only_error(result.errors)
    assert (error.row, error.column, error.code) == (2, "Värde", "not_a_number")
    assert "14,9 %" in error.message


def test_it_reports_an_unknown_period_with_row_and_column() -> None:
    result = parse_table_file(csv_bytes(HEADER + "k;a;2019;1\nk;a;2019-13;1\n"), "x.csv")
    error = only_error(result.errors)
    assert (error.row, error.column, error.code) == (3, "Period", "unknown_period")


def test_it_reports_an_empty_period_as_missing() -> None:
    result = parse_table_file(csv_bytes(HEADER + "k;a; ;1\n"), "x.csv")
    error = only_error(result.errors)
    assert (error.row, error.column, error.code) == (2, "Period", "missing_value")


def test_it_reports_a_duplicate_row_naming_the_first_one() -> None:
    data = HEADER + "k;a;2019;1\nk;b;2019;2\nk;a;2019;3\n"
    result = parse_table_file(csv_bytes(data), "x.csv")
    error = only_error(result.errors)
    assert (error.row, error.column, error.code) == (4, "Period", "duplicate_row")
    assert "row 2" in error.message
    assert [o.value for o in result.observations] == [Decimal(1), Decimal(2)]


def test_quarter_spellings_count_as_the_same_period_for_duplicates() -> None:
    data = HEADER + "k;a;2019Q1;1\nk;a;2019K1;2\n"
    error = only_error(parse_table_file(csv_bytes(data), "x.csv").errors)
    assert (error.row, error.code) == (3, "duplicate_row")


def test_it_reports_a_negative_count_only_when_asked() -> None:
    data = HEADER + "k;a;2019;-1\n"
    assert parse_table_file(csv_bytes(data), "x.csv").ok
    result = parse_table_file(csv_bytes(data), "x.csv", nonnegative=True)
    error = only_error(result.errors)
    assert (error.row, error.column, error.code) == (2, "Värde", "negative_count")
    assert not result.observations


def test_it_reports_a_missing_unit_and_indicator_cell() -> None:
    result = parse_table_file(csv_bytes(HEADER + ";;2019;1\n"), "x.csv")
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (2, "Nyckeltal", "missing_value"),
        (2, "Enhet", "missing_value"),
    ]
    result = parse_table_file(csv_bytes(HEADER + ";a;2019;1\n"), "x.csv")
    error = only_error(result.errors)
    assert (error.row, error.column, error.code) == (2, "Nyckeltal", "missing_value")


def test_it_reports_cells_missing_from_a_short_row() -> None:
    result = parse_table_file(csv_bytes(HEADER + "k;a\n"), "x.csv")
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (2, "Period", "missing_value"),
        (2, "Värde", "missing_value"),
    ]


def test_it_collects_every_bad_row_in_one_pass() -> None:
    data = (
        HEADER
        + "k;a;2019;1\n"  # 2 good
        + "k;b;2019;x\n"  # 3 not a number
        + "k;c;2019Q5;1\n"  # 4 unknown period
        + "k;d;2019;\n"  # 5 missing value
        + "k;a;2019;2\n"  # 6 duplicate of row 2
        + "k;e;2019;-4\n"  # 7 negative
        + "k;f;2019-02;3,5\n"  # 8 good
    )
    result = parse_table_file(csv_bytes(data), "x.csv", nonnegative=True)
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (3, "Värde", "not_a_number"),
        (4, "Period", "unknown_period"),
        (5, "Värde", "missing_value"),
        (6, "Period", "duplicate_row"),
        (7, "Värde", "negative_count"),
    ]
    assert [o.row for o in result.observations] == [2, 8]


def test_one_row_can_have_several_errors() -> None:
    result = parse_table_file(csv_bytes(HEADER + "k;a;20x9;abc\n"), "x.csv")
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (2, "Period", "unknown_period"),
        (2, "Värde", "not_a_number"),
    ]


def test_missing_required_columns_give_one_error() -> None:
    result = parse_table_file(csv_bytes("Nyckeltal;Period\nk;2019\n"), "x.csv")
    error = only_error(result.errors)
    assert (error.row, error.column, error.code) == (1, "unit, value", "missing_column")
    assert "enhet" in error.message


def test_a_missing_indicator_column_is_an_error_without_a_default() -> None:
    result = parse_table_file(csv_bytes("Enhet;Period;Värde\na;2019;1\n"), "x.csv")
    error = only_error(result.errors)
    assert (error.column, error.code) == ("indicator", "missing_column")


def test_an_empty_file_is_an_empty_file_error() -> None:
    assert only_error(parse_table_file(b"", "x.csv").errors).code == "empty_file"
    assert only_error(parse_table_file(b"\n\n", "x.csv").errors).code == "empty_file"


# --- XLSX ---------------------------------------------------------------------------


def test_it_reads_the_first_sheet_of_an_xlsx_with_numeric_cells() -> None:
    data = xlsx_bytes(
        [
            ["Nyckeltal", "Enhet", "Period", "Värde"],
            ["N00090", "0180", 2019, 14.9],
            ["N00090", "0181", "2019", 7],
            ["N00090", "0182", "2019", "1 234,5"],
        ]
    )
    result = parse_table_file(data, "export.xlsx")
    assert result.ok, result.errors
    assert [(o.unit, o.period, o.value, o.row) for o in result.observations] == [
        ("0180", Period(2019), Decimal("14.9"), 2),
        ("0181", Period(2019), Decimal(7), 3),
        ("0182", Period(2019), Decimal("1234.5"), 4),
    ]


def test_it_reads_an_excel_date_on_the_first_of_a_month_as_that_month() -> None:
    data = xlsx_bytes([["indicator", "unit", "period", "value"], ["k", "u", date(2019, 3, 1), 1]])
    result = parse_table_file(data, "x.xlsx")
    assert result.observations[0].period == Period(2019, "month", 3)


def test_it_reports_bad_xlsx_rows_with_spreadsheet_row_numbers() -> None:
    data = xlsx_bytes(
        [
            ["Indikator", "Enhed", "Periode", "Værdi"],
            ["k", "101", "2020K1", 5],
            ["k", "147", "2020K1", "fem"],
            [None, None, None, None],
            ["k", "151", date(2020, 3, 15), 1],
            ["k", "101", "2020Q1", 6],
            ["k", "153", "2020K1", None],
            ["k", "157", "2020K1", True],
        ]
    )
    result = parse_table_file(data, "x.xlsx")
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (3, "Værdi", "not_a_number"),
        (5, "Periode", "unknown_period"),
        (6, "Periode", "duplicate_row"),
        (7, "Værdi", "missing_value"),
        (8, "Værdi", "not_a_number"),
    ]
    assert [o.unit for o in result.observations] == ["101"]


def test_it_reports_missing_xlsx_columns() -> None:
    data = xlsx_bytes([["Enhet", "Värde"], ["a", 1]])
    error = only_error(parse_table_file(data, "x.xlsx").errors)
    assert (error.column, error.code) == ("indicator, period", "missing_column")


def test_it_refuses_an_xlsx_that_unpacks_beyond_the_limit() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 5_000_000)
    data = buffer.getvalue()
    assert len(data) < 50_000  # a small upload that would unpack to 5 MB
    error = only_error(parse_table_file(data, "bomb.xlsx", max_uncompressed_bytes=1_000_000).errors)
    assert (error.row, error.column, error.code) == (None, None, "file_too_large")


def test_a_real_workbook_passes_a_generous_limit_but_not_a_tiny_one() -> None:
    data = xlsx_bytes([["indicator", "unit", "period", "value"], ["k", "u", 2019, 1]])
    assert parse_table_file(data, "x.xlsx", max_uncompressed_bytes=10_000_000).ok
    assert only_error(parse_table_file(data, "x.xlsx", max_uncompressed_bytes=100).errors).code == (
        "file_too_large"
    )


def test_it_reports_a_broken_xlsx_as_unreadable() -> None:
    assert only_error(parse_table_file(b"not a zip", "x.xlsx").errors).code == "unreadable_file"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    assert (
        only_error(parse_table_file(buffer.getvalue(), "x.xlsx").errors).code == "unreadable_file"
    )


def test_it_detects_xlsx_by_signature_without_a_known_suffix() -> None:
    data = xlsx_bytes([["indicator", "unit", "period", "value"], ["k", "u", 2019, 1]])
    assert parse_table_file(data, "upload").ok


def test_it_refuses_old_excel_files() -> None:
    error = only_error(parse_table_file(b"\xd0\xcf\x11\xe0", "old.xls").errors)
    assert error.code == "unsupported_format"


# --- property: values survive decimal-comma formatting --------------------------------

_text = st.text(alphabet="abcxyzåäöæøABC0123456789 -_", min_size=1, max_size=12).map(str.strip)
_values = st.decimals(
    min_value=Decimal("-1000000000"),
    max_value=Decimal("1000000000"),
    places=4,
    allow_nan=False,
    allow_infinity=False,
)
_periods = st.one_of(
    st.builds(Period, st.integers(1990, 2050), st.just("year"), st.just(0)),
    st.builds(Period, st.integers(1990, 2050), st.just("quarter"), st.integers(1, 4)),
    st.builds(Period, st.integers(1990, 2050), st.just("month"), st.integers(1, 12)),
)
_rows = st.lists(
    st.tuples(_text.filter(bool), _text.filter(bool), _periods, _values),
    min_size=1,
    max_size=30,
    unique_by=lambda r: (r[0], r[1], r[2]),
)


def nordic(value: Decimal, grouped: bool) -> str:
    """Format like a Nordic spreadsheet: decimal comma, optional NBSP groups."""
    text = f"{value:,f}" if grouped else f"{value:f}"
    return text.replace(",", "\xa0").replace(".", ",")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_rows, st.booleans(), st.sampled_from([";", "\t"]))
def test_generated_rows_round_trip_through_decimal_comma_csv(
    rows: list[tuple[str, str, Period, Decimal]], grouped: bool, delimiter: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["Nyckeltal", "Enhet", "Period", "Värde"])
    for indicator, unit, period, value in rows:
        writer.writerow([indicator, unit, str(period), nordic(value, grouped)])
    result = parse_table_file(buffer.getvalue().encode("utf-8"), "generated.csv")
    assert result.errors == []
    assert [(o.indicator, o.unit, o.period, o.value, o.row) for o in result.observations] == [
        (indicator, unit, period, value, row)
        for row, (indicator, unit, period, value) in enumerate(rows, start=2)
    ]


@settings(max_examples=100)
@given(_values)
def test_any_decimal_round_trips_through_english_formatting(value: Decimal) -> None:
    assert parse_decimal(f"{value:,f}", decimal_comma=False) == value
    assert parse_decimal(f"{value:f}", decimal_comma=False) == value
