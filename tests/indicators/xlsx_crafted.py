"""Workbooks written by hand (zipfile and raw XML), to say what no spreadsheet program would:
a sheet dimension that misstates its width or height, rows of a million cells, a DOCTYPE.
Small on disk however large they claim or unpack to."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

from openpyxl.utils import get_column_letter

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{RELS}">'
    '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)


def inline(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def number(reference: str, value: object) -> str:
    return f'<c r="{reference}"><v>{value}</v></c>'


def header_row(names: Iterable[str] = ("Indikator", "Enhet", "Period", "Värde")) -> str:
    cells = "".join(inline(f"{chr(65 + i)}1", name) for i, name in enumerate(names))
    return f'<row r="1">{cells}</row>'


def value_row(row: int, indicator: str = "SICK", unit: str = "unit-a1a") -> str:
    return (
        f'<row r="{row}">{inline(f"A{row}", indicator)}{inline(f"B{row}", unit)}'
        f"{inline(f'C{row}', '2019-03')}{number(f'D{row}', 4.5)}</row>"
    )


def workbook(
    rows: Iterable[str] | bytes,
    *,
    dimension: str | None = None,
    shared: Iterable[str] = (),
    prolog: str = "",
) -> bytes:
    """A workbook of one sheet whose ``<sheetData>`` holds ``rows`` (XML text, streamed into
    the archive piece by piece, so a million cells never sit in memory as one string)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        strings = list(shared)
        items = "".join(f"<si><t>{s}</t></si>" for s in strings)
        archive.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}" count="{len(strings)}"'
            f' uniqueCount="{len(strings)}">{items}</sst>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'.encode())
            sheet.write(f'<worksheet xmlns="{NS}" xmlns:r="{RELS}">'.encode())
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            if isinstance(rows, bytes):
                sheet.write(rows)
            else:
                for row in rows:
                    sheet.write(row.encode())
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def wide_row(columns: int, *, row: int = 2, references: bool = True) -> Iterable[str]:
    """One row of ``columns`` numeric cells, in pieces of 10,000 cells."""
    yield f'<row r="{row}">'
    piece: list[str] = []
    for i in range(1, columns + 1):
        if references and i <= 18_278:  # three letters at most
            piece.append(f'<c r="{get_column_letter(i)}{row}"><v>1</v></c>')
        else:
            piece.append("<c><v>1</v></c>")
        if len(piece) == 10_000:
            yield "".join(piece)
            piece = []
    yield "".join(piece)
    yield "</row>"


def million_columns(columns: int = 1_000_000) -> bytes:
    """A small workbook that says ``A1:B3`` and whose second row holds ``columns`` cells
    (with no references: each cell's place is its position)."""
    return workbook(
        [header_row(), *wide_row(columns, references=False)],
        dimension="A1:B3",
    )


def declares_huge() -> bytes:
    """Three rows of values in a sheet that says it is A1:XFD1048576."""
    return workbook(
        [header_row(), value_row(2), value_row(3, unit="unit-a1b")], dimension="A1:XFD1048576"
    )
