"""Importing KPI files through ``imports``: every bad file is refused whole, good files come in.

A bad file names each bad row and column and writes nothing at all: every test of a bad file
counts the stored values before and after (one value is stored beforehand, so "nothing" is
not just an empty table), and each bad file also has good rows that must not slip in.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pejling.indicators import imports
from pejling.indicators.models import (
    Aggregation,
    ImportBatch,
    ImportStatus,
    Indicator,
    IndicatorValue,
    Periodicity,
)
from tests.factories import IndicatorFactory, IndicatorValueFactory, UnitFactory
from tests.indicators.files import checked_upload, import_bytes, stored_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["fast", "exact", "fast-chunked", "exact-chunked"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs four times: with clean CSV files read by the fast reader, and with every
    file read the exact way (as files under ``FAST_CSV_MIN_BYTES`` are); each with the file read
    whole and cut into chunks of a line or two (so every row boundary is a chunk's, and the
    chunked engine must come to the same values, errors and row numbers)."""
    if request.param.startswith("exact"):
        monkeypatch.setattr(imports.reading, "FAST_CSV_MIN_BYTES", 1 << 62)
    if request.param.endswith("chunked"):
        monkeypatch.setattr(imports.chunks, "CHUNK_BYTES", 24)
    return str(request.param)


@pytest.fixture
def kpis(org: Any) -> dict[str, Indicator]:
    days = IndicatorFactory(code="SICK", measure_unit="days")
    fte = IndicatorFactory(code="FTE", measure_unit="fte", aggregation=Aggregation.LATEST)
    kpis = {
        "days": days,
        "fte": fte,
        "ratio": IndicatorFactory(
            code="SICK_PER_FTE", aggregation=Aggregation.RATIO, numerator=days, denominator=fte
        ),
        "quarter": IndicatorFactory(code="ESERV", periodicity=Periodicity.QUARTER),
        "tertial": IndicatorFactory(code="VISITS", periodicity=Periodicity.TERTIAL),
        "year": IndicatorFactory(code="COST", periodicity=Periodicity.YEAR, measure_unit="sek"),
        "result": IndicatorFactory(code="RESULT", measure_unit="sek", allow_negative=True),
    }
    # Names with Nordic letters, and one name shared by two units.
    UnitFactory(parent=org.centre_a, code="aso", name="Äldreomsorg Åsa")
    UnitFactory(parent=org.centre_b, code="aero", name="Børnehave Ærø")
    UnitFactory(parent=org.centre_a, code="kok-a", name="Kök")
    UnitFactory(parent=org.centre_b, code="kok-b", name="Kök")
    IndicatorValueFactory(indicator=days, unit=org.root, period="2018-12", value=1)
    return kpis


def run(
    text: str | bytes,
    *,
    filename: str = "values.csv",
    indicator: Indicator | None = None,
    by: Any = None,
    encoding: str = "utf-8",
) -> ImportBatch:
    data = text if isinstance(text, bytes) else text.encode(encoding)
    return import_bytes(data=data, filename=filename, by=by, indicator=indicator)


def problems(batch: ImportBatch) -> list[tuple[int | None, str | None, str]]:
    return [(e.row, e.column, e.code) for e in imports.batch_errors(batch)]


def stored(indicator: str) -> dict[tuple[str, str], Decimal]:
    return {
        (unit, period): value
        for unit, period, value in IndicatorValue.objects.filter(
            indicator__code=indicator
        ).values_list("unit__code", "period", "value")
    }


BAD_FILES = {
    "a duplicate row": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1a;2019-03;5\n",
        [(3, "period", "duplicate_row")],
    ),
    "the same row written as 2019-03 and 2019M03": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1a;2019M03;5\n",
        [(3, "period", "duplicate_row")],
    ),
    "the same unit given by code and by name": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;Unit A1a;2019-03;5\n",
        [(3, "unit", "duplicate_row")],
    ),
    "an unknown unit code": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-zz;2019-03;5\n",
        [(3, "unit", "unknown_unit")],
    ),
    "an unknown unit name": (
        "indicator;unit;period;value\nSICK;Unit A1a;2019-03;4\nSICK;Unit Nowhere;2019-03;5\n",
        [(3, "unit", "unknown_unit")],
    ),
    "an ambiguous unit name": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;Kök;2019-03;5\n",
        [(3, "unit", "ambiguous_unit")],
    ),
    "an unknown period": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1b;2019-13;5\n"
        "SICK;unit-a2a;March 2019;5\n",
        [(3, "period", "unknown_period"), (4, "period", "unknown_period")],
    ),
    "a period of the wrong kind for the indicator": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1b;2019Q1;5\n"
        "ESERV;unit-a1b;2019-03;5\nCOST;unit-a1b;2019T1;5\n",
        [(3, "period", "wrong_periodicity"), (4, "period", "wrong_periodicity"),
         (5, "period", "wrong_periodicity")],
    ),
    "values that are not numbers": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1b;2019-03;four\n"
        "SICK;unit-a2a;2019-03;n/a\nSICK;unit-b1a;2019-03;\n",
        [(3, "value", "not_a_number"), (4, "value", "not_a_number"),
         (5, "value", "missing_value")],
    ),
    "a negative count": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1b;2019-03;-1\n"
        "RESULT;unit-a1b;2019-03;-1\n",
        [(3, "value", "negative_count")],
    ),
    "a number too large to store": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1b;2019-03;123456789012345\n"
        "RESULT;unit-a1b;2019-03;-1E+20\nSICK;unit-a2a;2019-03;99999999999999,5\n",
        [(3, "value", "out_of_range"), (4, "value", "out_of_range")],
    ),
    "an unknown indicator": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nNOPE;unit-a1b;2019-03;5\n",
        [(3, "indicator", "unknown_indicator")],
    ),
    "a ratio indicator": (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK_PER_FTE;unit-a1b;2019-03;5\n",
        [(3, "indicator", "derived_indicator")],
    ),
    "a missing column": (
        "indicator;unit;value\nSICK;unit-a1a;4\n",
        [(1, "period", "missing_column")],
    ),
    "several problems at once": (
        "indicator;unit;period;value\nNOPE;unit-a1a;2019-03;4\nSICK;unit-zz;2019-03;x\n"
        "SICK;unit-a1a;2019-03;1\n",
        [(2, "indicator", "unknown_indicator"), (3, "value", "not_a_number")],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_file_with_any_bad_row_is_refused_whole_naming_row_and_column(
    kpis: dict[str, Indicator], case: str
) -> None:
    text, expected = BAD_FILES[case]
    before = IndicatorValue.objects.count()
    batch = run(text)
    assert IndicatorValue.objects.count() == before == 1
    assert batch.status == ImportStatus.FAILED
    assert problems(batch) == expected
    assert batch.created == batch.updated == batch.rows_done == 0
    saved = ImportBatch.objects.get(pk=batch.pk)
    assert saved.status == ImportStatus.FAILED
    assert [(e["row"], e["column"], e["code"]) for e in saved.errors] == expected
    assert all(imports.RowError.from_dict(e).message for e in saved.errors)


def test_the_errors_name_the_column_as_the_file_heads_it(kpis: dict[str, Indicator]) -> None:
    batch = run("Nyckeltal;Enhet;Period;Värde\nSICK;unit-a1a;2019-03;fyra\n")
    assert problems(batch) == [(2, "Värde", "not_a_number")]
    assert batch.errors[0]["detail"]


def test_an_empty_file_is_refused(kpis: dict[str, Indicator]) -> None:
    batch = run("indicator;unit;period;value\n")
    assert problems(batch) == [(None, None, "empty_file")]
    assert IndicatorValue.objects.count() == 1


def test_an_unsupported_file_type_is_refused(kpis: dict[str, Indicator]) -> None:
    batch = run(b"\xd0\xcf\x11\xe0", filename="values.xls")
    assert problems(batch) == [(None, None, "unsupported_format")]


# Good files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("indicator;unit;period;value\nSICK;unit-a1a;2019-03;4,5\nSICK;unit-a1b;2019-03;1 234,25\n", "utf-8"),
        ("indicator,unit,period,value\nSICK,unit-a1a,2019-03,4.5\nSICK,unit-a1b,2019-03,1234.25\n", "utf-8"),
        ('indicator,unit,period,value\nSICK,unit-a1a,2019-03,"4,5"\nSICK,unit-a1b,2019-03,"1234,25"\n', "utf-8"),
        ("\ufeffindicator;unit;period;value\r\nSICK;unit-a1a;2019-03;4,5\r\nSICK;unit-a1b;2019-03;1234,25\r\n", "utf-8"),
        ("indicator\tunit\tperiod\tvalue\nSICK\tunit-a1a\t2019-03\t4,5\nSICK\tunit-a1b\t2019-03\t1234,25\n", "utf-8"),
    ],
    ids=["semicolon-decimal-comma", "comma-decimal-point", "comma-quoted-decimal-comma", "utf8-bom-crlf", "tab"],
)  # fmt: skip
def test_separators_and_decimal_marks_are_read(
    kpis: dict[str, Indicator], text: str, encoding: str
) -> None:
    batch = run(text, encoding=encoding)
    assert problems(batch) == []
    assert (batch.status, batch.created, batch.updated) == (ImportStatus.DONE, 2, 0)
    assert stored("SICK") == {
        ("exec", "2018-12"): Decimal(1),
        ("unit-a1a", "2019-03"): Decimal("4.5"),
        ("unit-a1b", "2019-03"): Decimal("1234.25"),
    }


def test_a_windows_1252_file_with_nordic_unit_names_is_read(kpis: dict[str, Indicator]) -> None:
    text = "Nyckeltal;Enhet;Period;Värde\nSICK;Äldreomsorg Åsa;2019-03;7,5\nSICK;Børnehave Ærø;2019-03;2\n"
    data = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    batch = run(data)
    assert problems(batch) == []
    assert stored("SICK")[("aso", "2019-03")] == Decimal("7.5")
    assert stored("SICK")[("aero", "2019-03")] == Decimal(2)


def test_unit_names_match_whatever_their_case(kpis: dict[str, Indicator]) -> None:
    batch = run(
        "indicator;unit;period;value\nsick;ÄLDREOMSORG ÅSA;2019-03;3\nSICK;UNIT-A1A;2019-03;1\n"
    )
    assert problems(batch) == []
    assert set(stored("SICK")) == {("exec", "2018-12"), ("aso", "2019-03"), ("unit-a1a", "2019-03")}


@pytest.mark.parametrize(
    "header",
    [
        "Indicator;Unit;Period;Value",
        "Nyckeltal;Enhet;Period;Värde",
        "Nøgletal;Enhed;Periode;Værdi",
        "Nøkkeltall;Enhet;Periode;Verdi",
        "KPI;Unit code;Tid;Utfall",
    ],
)
def test_headers_in_swedish_danish_norwegian_and_english_are_understood(
    kpis: dict[str, Indicator], header: str
) -> None:
    batch = run(f"{header}\nSICK;unit-a1a;2019-03;4\n")
    assert problems(batch) == []
    assert stored("SICK")[("unit-a1a", "2019-03")] == Decimal(4)


@pytest.mark.parametrize(
    ("code", "written", "canonical", "start", "end"),
    [
        ("SICK", "2019-03", "2019-03", "2019-03-01", "2019-03-31"),
        ("SICK", "2019M03", "2019-03", "2019-03-01", "2019-03-31"),
        ("SICK", "2020-02", "2020-02", "2020-02-01", "2020-02-29"),
        ("VISITS", "2019T1", "2019T1", "2019-01-01", "2019-04-30"),
        ("VISITS", "2019T3", "2019T3", "2019-09-01", "2019-12-31"),
        ("ESERV", "2019Q1", "2019Q1", "2019-01-01", "2019-03-31"),
        ("ESERV", "2019K4", "2019Q4", "2019-10-01", "2019-12-31"),
        ("COST", "2019", "2019", "2019-01-01", "2019-12-31"),
    ],
)
def test_every_period_form_is_stored_canonically_with_its_dates(
    kpis: dict[str, Indicator], code: str, written: str, canonical: str, start: str, end: str
) -> None:
    batch = run(f"indicator;unit;period;value\n{code};unit-a1a;{written};4\n")
    assert problems(batch) == []
    value = IndicatorValue.objects.get(indicator__code=code, unit__code="unit-a1a")
    assert (value.period, value.period_start.isoformat(), value.period_end.isoformat()) == (
        canonical,
        start,
        end,
    )
    assert value.batch_id == batch.pk


def test_a_negative_value_is_accepted_where_the_indicator_allows_it(
    kpis: dict[str, Indicator],
) -> None:
    batch = run("indicator;unit;period;value\nRESULT;unit-a1a;2019-03;-1 500,5\n")
    assert problems(batch) == []
    assert stored("RESULT") == {("unit-a1a", "2019-03"): Decimal("-1500.5")}


def test_a_file_without_indicator_column_takes_the_chosen_indicator(
    kpis: dict[str, Indicator],
) -> None:
    batch = run("Enhet;Period;Värde\nunit-a1a;2019-03;4\n", indicator=kpis["fte"])
    assert problems(batch) == []
    assert batch.default_indicator == kpis["fte"]
    assert stored("FTE") == {("unit-a1a", "2019-03"): Decimal(4)}


def test_an_excel_file_is_read(kpis: dict[str, Indicator], org: Any) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Nyckeltal", "Enhet", "Period", "Värde"])
    sheet.append(["SICK", "unit-a1a", "2019-03", 4.5])
    sheet.append(["SICK", "Äldreomsorg Åsa", "2019M04", 12])
    sheet.append(["ESERV", "unit-a1a", "2019Q1", "1 234,5"])
    sheet.append(["COST", "unit-a1a", 2019, 1500000])
    sheet.append([None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    batch = run(buffer.getvalue(), filename="values.xlsx", by=org.office)
    assert problems(batch) == []
    assert (batch.created, batch.updated) == (4, 0)
    assert batch.created_by == org.office
    assert stored("SICK")[("unit-a1a", "2019-03")] == Decimal("4.5")
    assert stored("SICK")[("aso", "2019-04")] == Decimal(12)
    assert stored("ESERV") == {("unit-a1a", "2019Q1"): Decimal("1234.5")}
    assert stored("COST") == {("unit-a1a", "2019"): Decimal(1500000)}


def test_a_bad_row_in_an_excel_file_is_named(kpis: dict[str, Indicator]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Indicator", "Unit", "Period", "Value"])
    sheet.append(["SICK", "unit-a1a", "2019-03", 4.5])
    sheet.append(["SICK", "unit-a1b", "2019-03", "n/a"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    batch = run(buffer.getvalue(), filename="values.xlsx")
    assert problems(batch) == [(3, "Value", "not_a_number")]
    assert IndicatorValue.objects.count() == 1


# Re-importing -------------------------------------------------------------------------------------

FIRST = "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1b;2019-03;5\nFTE;unit-a1a;2019-03;2\n"
EDITED = (
    "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1b;2019-03;6,5\n"
    "FTE;unit-a1a;2019-03;2\nSICK;unit-a2a;2019-03;1\n"
)


def test_re_importing_an_edited_file_updates_values_and_counts_created_and_updated(
    kpis: dict[str, Indicator],
) -> None:
    first = run(FIRST)
    assert (first.status, first.created, first.updated, first.rows_done) == ("done", 3, 0, 3)
    second = run(EDITED)
    # one value changed (5 → 6,5), one is new, two are as they were
    assert (second.status, second.created, second.updated, second.rows_done) == ("done", 1, 1, 4)
    assert stored("SICK") == {
        ("exec", "2018-12"): Decimal(1),
        ("unit-a1a", "2019-03"): Decimal(4),
        ("unit-a1b", "2019-03"): Decimal("6.5"),
        ("unit-a2a", "2019-03"): Decimal(1),
    }
    # Each value remembers the import that last set it.
    batches = dict(
        IndicatorValue.objects.filter(period="2019-03").values_list("unit__code", "batch")
    )
    assert batches == {"unit-a1a": first.pk, "unit-a1b": second.pk, "unit-a2a": second.pk}


def test_importing_the_same_file_twice_changes_nothing(kpis: dict[str, Indicator]) -> None:
    first = run(EDITED)
    snapshot = set(
        IndicatorValue.objects.values_list("indicator", "unit", "period", "value", "batch")
    )
    again = run(EDITED)
    assert (again.status, again.created, again.updated, again.rows_done) == ("done", 0, 0, 4)
    assert IndicatorValue.objects.count() == 5
    after = set(IndicatorValue.objects.values_list("indicator", "unit", "period", "value", "batch"))
    assert after == snapshot
    assert {batch for *_rest, batch in after} == {first.pk, None}


def test_more_decimals_than_stored_do_not_count_as_a_change(kpis: dict[str, Indicator]) -> None:
    text = "indicator;unit;period;value\nSICK;unit-a1a;2019-03;1,23456789\n"
    assert run(text).created == 1
    assert stored("SICK")[("unit-a1a", "2019-03")] == Decimal("1.234568")
    assert (run(text).created, run(text).updated) == (0, 0)


# Preview and confirmation -------------------------------------------------------------------------


def test_a_checked_upload_writes_nothing_and_keeps_the_file_for_confirmation(
    kpis: dict[str, Indicator], org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    batch = checked_upload(data=EDITED.encode(), filename="edited.csv", by=org.office)
    assert IndicatorValue.objects.count() == 1
    assert batch.status == ImportStatus.PREVIEW
    assert batch.rows_total == 4
    assert stored_file(batch).read_bytes() == EDITED.encode()
    assert [(r["unit_code"], r["value"]) for r in batch.preview] == [
        ("unit-a1a", "4"),
        ("unit-a1b", "6.5"),
        ("unit-a1a", "2"),
        ("unit-a2a", "1"),
    ]
    # The engine's check of the same file: the first rows as the file has them, with row numbers.
    checked = imports.check_file(path=stored_file(batch), filename="edited.csv", indicator=None)
    assert [(r["row"], r["unit"], r["value"]) for r in checked.preview_rows] == [
        (2, "unit-a1a", "4"),
        (3, "unit-a1b", "6.5"),
        (4, "unit-a1a", "2"),
        (5, "unit-a2a", "1"),
    ]
    done = imports.confirm_import(batch=batch, by=org.office)
    assert (done.pk, done.status, done.created, done.updated) == (batch.pk, "done", 4, 0)
    # The file stays with the import it was; deleting the import deletes it.
    path = stored_file(done)
    assert path.read_bytes() == EDITED.encode()
    assert IndicatorValue.objects.count() == 5
    with pytest.raises(ValueError):
        imports.confirm_import(batch=done, by=org.office)
    with django_capture_on_commit_callbacks(execute=True):
        ImportBatch.objects.filter(pk=batch.pk).delete()
    assert not path.exists()


def test_a_bad_upload_is_rejected_and_keeps_its_problems(
    kpis: dict[str, Indicator], org: Any
) -> None:
    batch = checked_upload(
        data=b"indicator;unit;period;value\nSICK;unit-zz;2019-03;4\n",
        filename="bad.csv",
        by=org.office,
    )
    assert batch.status == ImportStatus.FAILED
    assert (batch.errors_total, batch.preview) == (1, [])
    assert problems(batch) == [(2, "unit", "unknown_unit")]
    with pytest.raises(ValueError):
        imports.confirm_import(batch=batch, by=org.office)
    assert IndicatorValue.objects.count() == 1


def test_only_the_first_problems_are_kept_with_the_count_of_all(
    kpis: dict[str, Indicator], org: Any
) -> None:
    lines = "".join(f"SICK;unit-zz;2019-03;{n}\n" for n in range(imports.ERRORS_KEPT + 5))
    batch = checked_upload(
        data=f"indicator;unit;period;value\n{lines}".encode(), filename="bad.csv", by=org.office
    )
    assert batch.status == ImportStatus.FAILED
    assert (len(batch.errors), batch.errors_total) == (imports.ERRORS_KEPT, imports.ERRORS_KEPT + 5)


def test_a_confirmation_checks_the_file_again_against_the_database(
    kpis: dict[str, Indicator], org: Any
) -> None:
    batch = checked_upload(data=FIRST.encode(), filename="f.csv", by=org.office)
    Indicator.objects.filter(code="FTE").update(periodicity=Periodicity.QUARTER)
    done = imports.confirm_import(batch=batch, by=org.office)
    assert done.status == ImportStatus.FAILED
    assert [(e.row, e.code) for e in imports.batch_errors(done)] == [(4, "wrong_periodicity")]
    assert IndicatorValue.objects.count() == 1


def test_a_dry_run_checks_and_writes_nothing(kpis: dict[str, Indicator]) -> None:
    batch = import_bytes(data=FIRST.encode(), filename="f.csv", by=None, dry_run=True)
    assert batch.status == ImportStatus.PREVIEW
    assert batch.errors == []
    assert IndicatorValue.objects.count() == 1


def test_national_codes_are_mapped_to_our_units(kpis: dict[str, Indicator]) -> None:
    from pejling.indicators.sources.records import Observation, ParseResult, Period

    result = ParseResult(
        observations=[
            Observation("COST", "0180", Period(2023), Decimal("6.5"), 1),
            Observation("COST", "1480", Period(2023), Decimal("7.25"), 2),
        ]
    )
    batch = imports.import_observations(
        result=result, source="kolada", by=None, unit_codes={"0180": "centre-a", "1480": "Centre B"}
    )
    assert problems(batch) == []
    assert stored("COST") == {
        ("centre-a", "2023"): Decimal("6.5"),
        ("centre-b", "2023"): Decimal("7.25"),
    }
    unmapped = imports.import_observations(
        result=ParseResult(observations=[Observation("COST", "9999", Period(2023), Decimal(1), 7)]),
        source="kolada",
        by=None,
        unit_codes={"0180": "centre-a"},
    )
    assert problems(unmapped) == [(7, "unit", "unknown_unit")]


def test_repeated_observations_from_a_source_without_its_own_check_are_refused(
    kpis: dict[str, Indicator],
) -> None:
    from pejling.indicators.sources.records import Observation, ParseResult, Period

    march = Period(2019, "month", 3)
    result = ParseResult(
        observations=[
            Observation("SICK", "unit-a1a", march, Decimal(1), 1),
            Observation("sick", "unit-a1a", Period(2019, "month", 3), Decimal(2), 2),
            Observation("SICK", "unit-a1a", march, Decimal(3), 3),
        ]
    )
    batch = imports.import_observations(result=result, source="api", by=None)
    assert problems(batch) == [(2, "indicator", "duplicate_row"), (3, "period", "duplicate_row")]
    assert IndicatorValue.objects.count() == 1


# The fast reader and the ways values are written -------------------------------------------------


def test_a_clean_csv_file_is_not_parsed_row_by_row(
    kpis: dict[str, Indicator], reader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    exact = imports.parse_upload
    monkeypatch.setattr(
        imports.reading, "parse_upload", lambda *a, **kw: calls.append("exact") or exact(*a, **kw)
    )
    batch = run(FIRST)
    assert (batch.status, batch.created) == (ImportStatus.DONE, 3)
    # Read whole: once; in chunks: once a chunk.
    if reader.startswith("fast"):
        assert calls == []
    else:
        assert calls and set(calls) == {"exact"}
        assert len(calls) == 1 or reader == "exact-chunked"
    # A bad file is read the exact way, whichever reader was tried first.
    assert problems(run(FIRST + "SICK;unit-zz;2019-03;1\n")) == [(5, "unit", "unknown_unit")]
    assert calls[-1] == "exact"


def test_new_values_beside_stored_ones_of_the_same_periods_are_all_created(
    kpis: dict[str, Indicator],
) -> None:
    run("indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\n")
    batch = run("indicator;unit;period;value\nSICK;unit-a1b;2019-03;5\nSICK;unit-a2a;2019-03;6\n")
    assert (batch.created, batch.updated) == (2, 0)
    assert stored("SICK") == {
        ("exec", "2018-12"): Decimal(1),
        ("unit-a1a", "2019-03"): Decimal(4),
        ("unit-a1b", "2019-03"): Decimal(5),
        ("unit-a2a", "2019-03"): Decimal(6),
    }


def test_a_re_import_of_changed_values_only_updates(kpis: dict[str, Indicator]) -> None:
    run(FIRST)
    batch = run(FIRST.replace(";4\n", ";4,25\n").replace(";5\n", ";-0\n"))
    assert (batch.created, batch.updated) == (0, 2)
    assert stored("SICK")[("unit-a1a", "2019-03")] == Decimal("4.25")
    assert stored("SICK")[("unit-a1b", "2019-03")] == Decimal(0)


def test_a_failure_while_writing_leaves_nothing_behind(
    kpis: dict[str, Indicator], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(FIRST)
    before = set(IndicatorValue.objects.values_list("indicator", "unit", "period", "value"))
    real_save_as = imports.batches.save_as

    def failing(obj: Any, by: Any, *, reason: str = "") -> Any:
        if reason == "imported":
            raise RuntimeError("disk full")
        return real_save_as(obj, by, reason=reason)

    monkeypatch.setattr(imports.batches, "save_as", failing)
    for text in (EDITED, "indicator;unit;period;value\nSICK;unit-a1a;2020-01;1\n"):
        with pytest.raises(RuntimeError):
            run(text)
        after = set(IndicatorValue.objects.values_list("indicator", "unit", "period", "value"))
        assert after == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY paths are PostgreSQL's")
def test_postgresql_writes_no_more_than_it_must(kpis: dict[str, Indicator]) -> None:
    def statements(text: str) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            run(text)
        return [
            q["sql"].split(" (")[0]
            for q in ctx.captured_queries
            if "pejling_import" in q["sql"] or "indicatorvalue" in q["sql"]
        ]

    # Nothing of these indicators and periods is stored: straight into the table.
    first = statements(FIRST)
    assert not any("pejling_import" in sql for sql in first)
    # The same file again: one join finds nothing to write, and nothing is written.
    again = statements(FIRST)
    assert not any(sql.startswith(("UPDATE", "INSERT")) for sql in again)
    assert any(sql.startswith("SELECT count(*)") for sql in again)


def test_the_same_value_in_two_chunks_is_found_and_nothing_is_written(
    kpis: dict[str, Indicator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports.chunks, "CHUNK_BYTES", 24)  # a line or two a chunk
    text = (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1b;2019-03;5\n"
        "SICK;unit-a2a;2019-03;6\nsick;UNIT-A1A;2019M03;7\n"
    )
    batch = run(text)
    assert batch.status == ImportStatus.FAILED
    errors = imports.batch_errors(batch)
    assert [(e.row, e.column, e.code, e.other_row) for e in errors] == [
        (5, "unit", "duplicate_row", 2)
    ]
    assert errors[0].detail == "UNIT-A1A = unit-a1a"
    assert IndicatorValue.objects.count() == 1


def test_a_bad_row_in_the_last_chunk_writes_nothing_of_the_first(
    kpis: dict[str, Indicator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports.chunks, "CHUNK_BYTES", 40)
    good = "".join(f"SICK;unit-a1a;20{year}-03;{year}\n" for year in range(10, 30))
    history = IndicatorValue.history.model.objects.count()  # the stored value's creation
    batch = run("indicator;unit;period;value\n" + good + "SICK;unit-a1a;2030-03;x\n")
    assert batch.status == ImportStatus.FAILED
    assert problems(batch) == [(22, "value", "not_a_number")]
    assert IndicatorValue.objects.count() == 1
    assert IndicatorValue.history.model.objects.count() == history


def test_a_chunked_import_counts_its_rows_and_reports_each_chunk(
    kpis: dict[str, Indicator], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setattr(imports.chunks, "CHUNK_BYTES", 60)
    path = tmp_path / "values.csv"
    path.write_text(
        "indicator;unit;period;value\n"
        + "".join(f"SICK;unit-a1a;20{year}-03;{year}\n" for year in range(10, 30))
    )
    seen: list[tuple[str, int, int]] = []
    batch = imports.import_file(
        path=path,
        filename="values.csv",
        by=None,
        progress=lambda phase, done, total: seen.append((phase, done, total)),
    )
    assert (batch.status, batch.rows_total, batch.created) == (ImportStatus.DONE, 20, 20)
    # Progress in bytes of the file, a chunk at a time, named for what is done with them.
    size = path.stat().st_size
    writing = [done for phase, done, total in seen if phase == "writing" and total == size]
    assert len(writing) > 3 and writing == sorted(writing) and writing[-1] == size
    assert seen[-1] == ("written", 20, 20)
    found = imports.check_file(path=path, filename="values.csv", indicator=None)
    assert (found.rows_total, found.errors_total, len(found.preview)) == (20, 0, 10)
    assert found.incoming == {
        (kpis["days"].pk, f"20{y}-03"): {batch_unit(kpis)} for y in range(10, 30)
    }


def batch_unit(kpis: dict[str, Indicator]) -> int:
    return IndicatorValue.objects.filter(indicator=kpis["days"], period="2010-03").get().unit_id


def test_an_import_s_queries_do_not_grow_with_its_rows(
    kpis: dict[str, Indicator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports.chunks, "CHUNK_BYTES", 1 << 30)  # one chunk (a chunk: its queries)

    def queries(first_year: int, rows: int, value: int) -> int:
        text = "indicator;unit;period;value\n" + "".join(
            f"SICK;{unit};{year}-03;{value}\n"
            for unit in ("unit-a1a", "unit-a1b", "unit-a2a")
            for year in range(first_year, first_year + rows)
        )
        with CaptureQueriesContext(connection) as ctx:
            batch = run(text)
        assert batch.status == ImportStatus.DONE
        return len(ctx.captured_queries)

    # New values, then every one of them changed: the same statements for 3 or 60 rows.
    small = queries(2000, 1, 1), queries(2000, 1, 2)
    large = queries(2100, 20, 1), queries(2100, 20, 2)
    assert large == small


def test_a_value_repeated_in_later_chunks_names_its_first_row_and_every_repeat_is_counted(
    kpis: dict[str, Indicator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports.chunks, "CHUNK_BYTES", 24)  # a line or two a chunk
    monkeypatch.setattr(imports.checking, "ERRORS_KEPT", 2)
    text = (
        "indicator;unit;period;value\nSICK;unit-a1a;2019-03;4\nSICK;unit-a1b;2019-03;5\n"
        "SICK;unit-a2a;2019-03;6\nSICK;unit-a1b;2019-03;7\nsick;UNIT-A1A;2019M03;8\n"
        "SICK;unit-a1a;2019-03;9\n"
    )
    batch = run(text)
    assert batch.status == ImportStatus.FAILED
    # The first repeats kept (by row), each naming the first row of its value; all counted.
    errors = imports.batch_errors(batch)
    assert [(e.row, e.column, e.code, e.other_row) for e in errors] == [
        (5, "period", "duplicate_row", 3),
        (6, "unit", "duplicate_row", 2),
    ]
    assert batch.errors_total == 3
    assert IndicatorValue.objects.count() == 1


def test_the_repeat_finder_keeps_eight_bytes_a_value_and_no_python_object_per_value(
    kpis: dict[str, Indicator],
) -> None:
    """The memory shape of a large import: what is kept across chunks to find a value written
    twice is one 64-bit number a value (in arrays, not Python objects), whatever reader read
    the chunk; nothing else grows with the rows."""
    from pejling.indicators.imports.checking import KeySet

    keys = KeySet()
    units = ("unit-a1a", "unit-a1b", "unit-a2a")
    values = 0
    for year in range(2000, 2010):  # ten chunks of 3 × 12 values
        text = "indicator;unit;period;value\n" + "".join(
            f"SICK;{unit};{year}-{month:02d};{month}\n" for unit in units for month in range(1, 13)
        )
        _rows, checked = imports.read_and_check(text.encode(), "values.csv")
        assert not checked.errors
        keys.add(checked)
        values += checked.count
    assert values == 360
    assert keys.stored_bytes == 8 * values
    assert (keys.repeats, keys.repeats_total) == ([], 0)
    # Python objects only per distinct period, never per value.
    assert len(keys._periods) == 120
    assert all(type(part).__module__.startswith("polars") for part in keys._parts)


def test_a_chunked_import_s_queries_are_the_same_for_every_chunk(
    kpis: dict[str, Indicator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk costs the same statements whatever its rows (nothing per row), so the
    queries of an import grow by a constant a chunk."""
    monkeypatch.setattr(imports.chunks, "CHUNK_BYTES", 24)  # a line a chunk

    def queries(chunks: int, first_year: int, value: int) -> int:
        text = "indicator;unit;period;value\n" + "".join(
            f"SICK;unit-a1a;{year}-03;{value}\n" for year in range(first_year, first_year + chunks)
        )
        with CaptureQueriesContext(connection) as ctx:
            batch = run(text)
        assert batch.status == ImportStatus.DONE and batch.rows_done == chunks
        return len(ctx.captured_queries)

    # New values, then every one of them changed.
    for value in (1, 2):
        counts = [queries(n, year, value) for n, year in ((2, 2000), (3, 2100), (4, 2200))]
        assert counts[2] - counts[1] == counts[1] - counts[0]
