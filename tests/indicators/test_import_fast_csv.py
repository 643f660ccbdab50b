"""The fast CSV reader (``sources/fast_csv.py``) reads exactly what the exact parser reads.

It may decline any file (the exact parser then reads it), but a file it accepts must be one the
exact parser reads without an error (a duplicate is left to the import's own check), into the
same values, rows and periods. Generated files mix what real exports do (separators, quotes,
line ends, encodings, blank rows, number forms) with what breaks them.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pejling.indicators.sources.fast_csv import CleanCsv, read_clean_csv
from pejling.indicators.sources.files import parse_table_file
from pejling.indicators.sources.records import ParseResult


def assert_same(data: bytes, *, filename: str = "values.csv", indicator: str | None = None) -> bool:
    """Read ``data`` both ways and compare; True when the fast reader accepted it."""
    fast = read_clean_csv(data, filename, default_indicator=indicator)
    exact = parse_table_file(data, filename, default_indicator=indicator)
    if fast is None:
        return False
    assert {e.code for e in exact.errors} <= {"duplicate_row"}, exact.errors[:3]
    if exact.errors:
        return True  # the import's duplicate check refuses it, and then reads it the exact way
    assert_values(fast, exact)
    return True


def assert_values(fast: CleanCsv, exact: ParseResult) -> None:
    assert fast.frame.height == len(exact.observations)
    rows = fast.frame.select(
        "row", "indicator", "unit", "period", "value", "negative", "int_digits"
    ).rows()
    assert len(rows) == len(exact.observations)
    for (row, indicator, unit, period, value, negative, int_digits), obs in zip(
        rows, exact.observations, strict=True
    ):
        assert (row, indicator, unit, fast.periods[period]) == (
            obs.row,
            obs.indicator,
            obs.unit,
            obs.period,
        )
        stored = Decimal(value)
        assert stored == obs.value and "E" not in value and "e" not in value
        assert negative == (obs.value < 0)
        assert int_digits == (max(obs.value.adjusted() + 1, 0) if obs.value else 0)


# Files people export ----------------------------------------------------------------------------

CLEAN = {
    "semicolon, decimal comma": "Nyckeltal;Enhet;Period;Värde\nSICK;unit-a1a;2019-03;4,5\nSICK;unit-a1b;2019-03;1 234,25\n",
    "comma, decimal point": "indicator,unit,period,value\nSICK,unit-a1a,2019-03,4.5\nSICK,unit-a1b,2019-03,1234.25\n",
    "comma, quoted decimal comma": 'indicator,unit,period,value\nSICK,unit-a1a,2019-03,"4,5"\nSICK,unit-a1b,2019-03,"1234,25"\n',
    "every cell quoted": '"Nøgletal";"Enhed";"Periode";"Værdi"\n"SICK";"unit a;b";"2019K1";"-3"\n',
    "BOM and CRLF": "\ufeffindicator;unit;period;value\r\nSICK;unit-a1a;2019-03;4,5\r\nSICK;unit-a1b;2019-03;1234,25\r\n",
    "tab": "indicator\tunit\tperiod\tvalue\nSICK\tunit-a1a\t2019-03\t4,5\n",
    "sep= line, blank rows": "sep=;\nindicator;unit;period;value\n\nSICK;unit-a1a;2019-03;1.234,5\n;;;\nSICK;x;2019-03;-1E+3\n",
    "no final line end": "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4",
    "padded cells": "indicator;unit;period;value\n sick ; Unit A1a \u00a0; 2019M03 ;\u2212 1 500,50 \n",
    "thousands forms": "indicator;unit;period;value\nS;a;2019;1.234\nS;b;2019;1,234\nS;c;2019;0,5\nS;d;2019;007\n",
    "extra columns": "indicator;comment;unit;period;value;x\nSICK;hi;u;2019-03;4;\n",
}  # fmt: skip


@pytest.mark.parametrize("case", CLEAN, ids=list(CLEAN))
def test_clean_files_are_read_fast_and_the_same(case: str) -> None:
    assert assert_same(CLEAN[case].encode())


def test_a_windows_1252_file_is_read_fast_and_the_same() -> None:
    text = "Nyckeltal;Enhet;Period;Värde\nSICK;Äldreomsorg Åsa;2019-03;7,5\nSICK;Børnehave Ærø;2019-03;2\n"
    assert assert_same(text.encode("cp1252"))
    assert assert_same(text.encode("utf-16"))


def test_a_file_without_indicator_column_takes_the_chosen_one() -> None:
    assert assert_same(b"Enhet;Period;Varde\nunit-a1a;2019-03;4\n", indicator=" FTE ")
    assert read_clean_csv(b"Enhet;Period;Varde\nunit-a1a;2019-03;4\n", "v.csv") is None


DECLINED = {
    "an empty value": "indicator;unit;period;value\nSICK;u;2019-03;\n",
    "not a number": "indicator;unit;period;value\nSICK;u;2019-03;four\n",
    "an unknown period": "indicator;unit;period;value\nSICK;u;2019-13;4\n",
    "an empty unit": "indicator;unit;period;value\nSICK; ;2019-03;4\n",
    "a short row": "indicator;unit;period;value\nSICK;u;2019-03\n",
    "a long row": "indicator;unit;period;value\nSICK;u;2019-03;4;5\n",
    "a missing column": "indicator;unit;value\nSICK;u;4\n",
    "a blank first line": "\nindicator;unit;period;value\nSICK;u;2019-03;4\n",
    "a lone carriage return": "indicator;unit;period;value\rSICK;u;2019-03;4\r",
    "a quote inside a cell": 'indicator;unit;period;value\nSICK;u"x;2019-03;4\n',
    "text after a quoted cell": 'indicator;unit;period;value\nSICK;"u"x;2019-03;4\n',
    "a line break in a quoted cell": 'indicator;unit;period;value\nSICK;"u\nx";2019-03;4\n',
    "a huge exponent": "indicator;unit;period;value\nSICK;u;2019-03;1E+999999\n",
    "header only": "indicator;unit;period;value\n",
    "only blank rows": "indicator;unit;period;value\n;;;\n",
}  # fmt: skip


@pytest.mark.parametrize("case", DECLINED, ids=list(DECLINED))
def test_files_with_a_problem_are_left_to_the_exact_parser(case: str) -> None:
    assert read_clean_csv(DECLINED[case].encode(), "values.csv") is None


def test_excel_files_are_left_to_the_exact_parser() -> None:
    assert read_clean_csv(b"PK\x03\x04rest", "values.xlsx") is None
    assert read_clean_csv(b"PK\x03\x04rest", "values") is None
    assert read_clean_csv(b"a;b", "values.xls") is None


def test_a_large_file_is_read_fast() -> None:
    rows = 200_000
    lines = ["Nyckeltal;Enhet;Period;Värde"]
    lines += [
        f"SICK;U{n % 2500:05d};{1990 + n // 30000}-{n % 12 + 1:02d};{n},5" for n in range(rows)
    ]
    data = ("\n".join(lines) + "\n").encode()
    start = time.perf_counter()
    clean = read_clean_csv(data, "big.csv")
    seconds = time.perf_counter() - start
    assert clean is not None and clean.frame.height == rows
    assert clean.frame.row(rows - 1)[:2] == (rows + 1, "SICK")
    assert seconds < 10  # about 0.15 s; the exact parser takes about 0.6 s


# Generated files --------------------------------------------------------------------------------

INDICATORS = ["SICK", " sick ", "", "S;K", 'S"K', "FTE\u00a0"]
UNITS = ["unit-a1a", " Unit A1a ", "", "x;y", 'a"b', "Kök", "a\tb", "\x1cz"]
PERIODS = ["2019-03", "2019M03", " 2019-03 ", "2019-13", "", "2019", "2019Q1", "2019k4", "x"]
NUMBERS = st.one_of(
    st.from_regex(r"[+\-\u2212]?[0-9]{1,16}([.,][0-9]{1,8})?", fullmatch=True),
    st.from_regex(r"-?[0-9]{1,3}([ .,\u00a0][0-9]{3}){0,4}([.,][0-9]{1,3})?", fullmatch=True),
    st.from_regex(r"[0-9]\.?[0-9]*[eE][+-]?[0-9]{1,3}", fullmatch=True),
    st.sampled_from(["", " ", "n/a", "-0", "0,000", "1_000", "NaN", "Infinity", "٣", "1 2 3", "+"]),
    st.text(alphabet="0123456789,.- \u2212\u2013\t", max_size=8),
)
HEADERS = [
    ["indicator", "unit", "period", "value"],
    ["Nyckeltal", "Enhet", "Period", "Värde"],
    ["unit", "value", "x", "period", "kpi"],
    ["Enhet", "Period", "Värde"],
]


def quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, str | None]:
    header = draw(st.sampled_from(HEADERS))
    delimiter = draw(st.sampled_from([";", ",", "\t"]))
    quoting = draw(st.sampled_from(["never", "needed", "all", "sloppy"]))
    line_end = draw(st.sampled_from(["\n", "\r\n"]))

    def render(cells: list[str]) -> str:
        out = []
        for cell in cells:
            if quoting == "all" or (
                quoting == "needed" and any(c in cell for c in (delimiter, '"', "\n", "\r"))
            ):
                out.append(quote(cell))
            else:
                out.append(cell)
        return delimiter.join(out)

    fields = {
        "indicator": st.sampled_from(INDICATORS),
        "kpi": st.sampled_from(INDICATORS),
        "unit": st.sampled_from(UNITS),
        "enhet": st.sampled_from(UNITS),
        "period": st.sampled_from(PERIODS),
        "value": NUMBERS,
        "värde": NUMBERS,
        "nyckeltal": st.sampled_from(INDICATORS),
        "x": st.sampled_from(["", "note", 'say "hi"']),
    }
    lines = [render(header)]
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["row"] * 8 + ["blank", "empty cells", "short", "long"]))
        if kind == "blank":
            lines.append(draw(st.sampled_from(["", " ", "\t"])))
            continue
        if kind == "empty cells":
            lines.append(delimiter * (len(header) - 1))
            continue
        cells = [draw(fields[name.lower()]) for name in header]
        if kind == "short":
            cells = cells[: draw(st.integers(1, len(cells) - 1))]
        elif kind == "long":
            cells.append("extra")
        lines.append(render(cells))
    text = line_end.join(lines) + draw(st.sampled_from([line_end, ""]))
    if draw(st.booleans()):
        text = f"sep={delimiter}{line_end}" + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    indicator = None if "indicator" in header or "kpi" in header else "SICK"
    return data, indicator


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files())
def test_whatever_the_fast_reader_accepts_the_exact_parser_reads_the_same(
    case: tuple[bytes, str | None],
) -> None:
    data, indicator = case
    assert_same(data, indicator=indicator)


@settings(max_examples=300, deadline=None)
@given(st.lists(NUMBERS, min_size=1, max_size=6), st.sampled_from([";", ","]))
def test_numbers_are_read_as_parse_decimal_reads_them(values: list[str], delimiter: str) -> None:
    lines = [f"indicator{delimiter}unit{delimiter}period{delimiter}value"]
    lines += [
        f"SICK{delimiter}u{n}{delimiter}2019-03{delimiter}{quote(v)}" for n, v in enumerate(values)
    ]
    assert_same(("\n".join(lines) + "\n").encode())
