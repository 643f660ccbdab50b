"""An xlsx workbook is judged by what its first sheet holds, read as a stream
(``core/xlsx_scan.py``), never by the ``<dimension>`` it declares: a sheet that says
``A1:B3`` over a million columns is refused at the first cell past the limit, and one that says
``A1:XFD1048576`` over three rows is read as the three rows it is."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pejling.core.xlsx_scan import SheetLimits, SheetProblem, scan_first_sheet
from pejling.indicators import imports
from pejling.indicators.imports.reading import parse_upload
from pejling.indicators.models import ImportBatch, ImportStatus, IndicatorValue
from tests.factories import IndicatorFactory
from tests.indicators import xlsx_crafted as crafted
from tests.indicators.files import import_bytes


def check(tmp_path: Path, data: bytes, settings: Any = None) -> imports.RowError | None:
    path = tmp_path / "crafted.xlsx"
    path.write_bytes(data)
    return imports.check_limits(path, "crafted.xlsx")


def test_a_million_columns_under_a_small_dimension_are_refused_at_the_first_one_past_the_limit(
    tmp_path: Path,
) -> None:
    data = crafted.million_columns()
    assert len(data) < 200_000  # about 16 MB of XML, small on disk
    tracemalloc.start()
    try:
        refused = check(tmp_path, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused is not None
    place = (refused.row, refused.column, refused.code)
    assert place == (2, str(imports.MAX_COLUMNS + 1), "too_many_columns")
    assert refused.detail == f"{imports.MAX_COLUMNS + 1}+"  # at least that many: it stopped
    # Streamed: nothing near the sheet's 16 MB (let alone a cell object per cell) is held.
    assert peak < 4 * 1024 * 1024


def test_a_huge_declared_dimension_over_a_small_sheet_passes_and_is_read_as_it_is(
    tmp_path: Path, org: Any
) -> None:
    IndicatorFactory(code="SICK")
    data = crafted.declares_huge()
    assert check(tmp_path, data) is None  # the dimension says 16,384 columns; none is used
    result = parse_upload(data, "crafted.xlsx")
    assert not result.errors
    assert [(o.row, o.unit) for o in result.observations] == [(2, "unit-a1a"), (3, "unit-a1b")]
    batch = import_bytes(data=data, filename="crafted.xlsx", by=org.office)
    assert batch.status == ImportStatus.DONE, batch.errors
    assert IndicatorValue.objects.count() == 2


def test_a_value_past_the_limit_under_a_small_dimension_is_refused_where_it_is(
    tmp_path: Path,
) -> None:
    row = f'<row r="2">{crafted.number("A2", 1)}{crafted.number("KN2", 7)}</row>'  # column 300
    refused = check(tmp_path, crafted.workbook([crafted.header_row(), row], dimension="A1:D2"))
    assert refused is not None
    assert (refused.row, refused.column, refused.code, refused.detail) == (
        2,
        "300",
        "too_many_columns",
        "300+",
    )


def test_formatted_empty_cells_past_the_limit_are_tolerated_up_to_excels_width(
    tmp_path: Path,
) -> None:
    styled = "".join(f'<c r="{c}2" s="1"/>' for c in ("KN", "XFD"))
    ok = crafted.workbook([crafted.header_row(), crafted.value_row(2)[:-6] + styled + "</row>"])
    assert check(tmp_path, ok) is None
    # A cell past column XFD, or a row of more cells than Excel has columns: no sheet Excel
    # writes, and a parser would build every one of them.
    past = '<row r="2"><c r="XFE2" s="1"/></row>'
    refused = check(tmp_path, crafted.workbook([crafted.header_row(), past]))
    assert refused is not None and (refused.row, refused.code) == (2, "too_many_columns")
    empties = "<row>" + "<c/>" * 20_000 + "</row>"
    refused = check(tmp_path, crafted.workbook([crafted.header_row(), empties]))
    assert refused is not None and (refused.row, refused.code, refused.detail) == (
        2,
        "too_many_columns",
        "16385+",
    )


def test_a_row_numbered_past_excels_last_row_is_refused(tmp_path: Path) -> None:
    far = crafted.value_row(2).replace('r="2"', 'r="999999999999"', 1)
    refused = check(tmp_path, crafted.workbook([crafted.header_row(), far]))
    assert refused is not None and refused.code == "unreadable_file"


def test_rows_are_counted_as_they_hold_values_whatever_the_dimension_says(
    tmp_path: Path, settings: Any
) -> None:
    settings.PEJLING_IMPORT_LIMITS = {"rows": 3}
    rows = [crafted.header_row(), *(crafted.value_row(n) for n in range(2, 7))]
    refused = check(tmp_path, crafted.workbook(rows, dimension="A1:D2"))
    assert refused is not None
    assert (refused.row, refused.code, refused.detail) == (5, "too_many_rows", "4+")
    # Empty rows (formatted only) are no rows of values.
    blank = [f'<row r="{n}"><c r="A{n}" s="1"/></row>' for n in range(2, 40)]
    assert check(tmp_path, crafted.workbook([crafted.header_row(), *blank])) is None


def test_a_long_text_is_found_in_the_shared_strings_and_inline(
    tmp_path: Path, settings: Any
) -> None:
    settings.PEJLING_IMPORT_LIMITS = {"cell_chars": 20}
    long = "x" * 30
    shared = '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>'
    refused = check(
        tmp_path, crafted.workbook([crafted.header_row(), shared], shared=["short", long])
    )
    assert refused is not None
    assert (refused.row, refused.column, refused.code, refused.detail) == (
        2,
        "2",
        "cell_too_long",
        "30",
    )
    inline = f'<row r="3">{crafted.inline("C3", long)}</row>'
    refused = check(tmp_path, crafted.workbook([crafted.header_row(), inline]))
    assert refused is not None and (refused.row, refused.column, refused.code) == (
        3,
        "3",
        "cell_too_long",
    )
    # Numbers are not texts: a long number is the parser's to judge.
    assert check(tmp_path, crafted.workbook([crafted.header_row(), crafted.value_row(2)])) is None


def test_a_doctype_in_a_sheet_is_refused_as_unreadable(tmp_path: Path) -> None:
    laughs = '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    data = crafted.workbook([crafted.header_row()], prolog=laughs)
    refused = check(tmp_path, data)
    assert refused is not None and refused.code == "unreadable_file"


def test_the_sheet_found_is_the_first_worksheet_of_the_workbook(tmp_path: Path) -> None:
    """The sheet openpyxl reads (the workbook's first worksheet, wherever its part is)."""
    data = crafted.million_columns(1_000)
    path = tmp_path / "moved.xlsx"
    with (
        zipfile.ZipFile(tmp_path / "in.xlsx", "w") as out,
        zipfile.ZipFile(__import__("io").BytesIO(data)) as source,
    ):
        for info in source.infolist():
            body = source.read(info.filename)
            name = info.filename
            if name == "xl/worksheets/sheet1.xml":
                name = "xl/worksheets/other.xml"
            elif name == "xl/_rels/workbook.xml.rels":
                body = body.replace(b"worksheets/sheet1.xml", b"worksheets/other.xml")
            out.writestr(name, body)
    path.write_bytes((tmp_path / "in.xlsx").read_bytes())
    with zipfile.ZipFile(path) as archive:
        problem = scan_first_sheet(archive, SheetLimits(columns=200, rows=10, cell_chars=100))
    assert problem == SheetProblem("too_many_columns", 2, 201, 201, at_least=True)


def test_a_crafted_workbook_past_a_limit_writes_nothing(org: Any, run_jobs: None) -> None:
    IndicatorFactory(code="SICK")
    batch = import_bytes(data=crafted.million_columns(), filename="wide.xlsx", by=org.office)
    assert batch.status == ImportStatus.FAILED
    assert [(e.row, e.code) for e in imports.batch_errors(batch)] == [(2, "too_many_columns")]
    assert IndicatorValue.objects.count() == 0
    assert ImportBatch.objects.count() == 1


@pytest.mark.parametrize("columns", [1_000_000])
def test_the_scan_never_reads_the_dimension(tmp_path: Path, columns: int) -> None:
    """With every cell referenced (``r="ALL2"``…): the same refusal at the same place."""
    data = crafted.workbook([crafted.header_row(), *crafted.wide_row(columns)], dimension="A1:A1")
    refused = check(tmp_path, data)
    assert refused is not None and (refused.row, refused.column) == (2, "201")
