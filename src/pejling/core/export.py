"""Every table of the product as a download: Excel (xlsx) and CSV, from one description.

A view builds a :class:`Table` (headers and rows of plain values) from the same selector that
feeds its HTML table and returns ``table_download(request, table)`` when the request asks for a
format (``?format=xlsx`` or ``?format=csv``; see :func:`requested_format`). Numbers stay numbers
and dates stay dates in Excel; CSV follows the reader's language (a semicolon and a decimal comma
for the Nordic languages, so that Excel opens it in columns). Text that a spreadsheet would take
for a formula (``=``, ``+``, ``-``, ``@``) is written as text. No domain knowledge here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import get_language

FORMATS = ("xlsx", "csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Cell = str | int | float | Decimal | date | datetime | bool | None


@dataclass
class Table:
    """A table to download: a title (the sheet's and the file's name), headers and rows."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Cell]] = field(default_factory=list)


def requested_format(request: HttpRequest) -> str | None:
    """``"xlsx"`` or ``"csv"`` when the request asks to download the table, else ``None``."""
    value = request.GET.get("format", "")
    return value if value in FORMATS else None


def table_download(request: HttpRequest, table: Table, fmt: str | None = None) -> HttpResponse:
    """The table as an attachment in ``fmt`` (default: the requested format)."""
    fmt = fmt or requested_format(request) or "csv"
    name = (slugify(table.title) or "table") + "-" + timezone.localdate().isoformat()
    if fmt == "xlsx":
        response = HttpResponse(xlsx_bytes(table), content_type=XLSX_TYPE)
    else:
        response = HttpResponse(csv_text(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _text(value: str) -> str:
    value = _CONTROL.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def xlsx_bytes(table: Table) -> bytes:
    """An Excel workbook with one sheet: a bold header row, frozen, numbers and dates typed."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Font

    workbook = Workbook(write_only=False)
    sheet = workbook.active
    assert sheet is not None
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", table.title)[:31] or "Table"
    sheet.append([str(h) for h in table.headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = [len(str(h)) for h in table.headers]
    for row_number, row in enumerate(table.rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column)
            if isinstance(value, datetime):
                cell.value = (
                    timezone.localtime(value).replace(tzinfo=None)
                    if timezone.is_aware(value)
                    else value
                )
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.value = value
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, bool | int | float | Decimal) or value is None:
                cell.value = value
            else:
                # Set as text explicitly: openpyxl would read "=…" as a formula.
                cell.value = _CONTROL.sub("", str(value))
                cell.data_type = TYPE_STRING
            if column <= len(widths):
                widths[column - 1] = max(widths[column - 1], min(60, len(str(value or ""))))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width + 2
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _decimal_comma() -> bool:
    return formats.get_format("DECIMAL_SEPARATOR", get_language()) == ","


def _csv_cell(value: Cell, comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | Decimal):
        text = str(value)
        return text.replace(".", ",") if comma else text
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            if timezone.is_aware(value)
            else value.strftime("%Y-%m-%d %H:%M")
        )
    if isinstance(value, date):
        return value.isoformat()
    return _text(str(value))


def csv_text(table: Table) -> str:
    """CSV with a BOM (Excel reads it as UTF-8): ``;`` and decimal commas where the reader's
    language writes decimals with a comma, else ``,`` and points; ISO dates."""
    comma = _decimal_comma()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";" if comma else ",", lineterminator="\r\n")
    writer.writerow([_text(str(h)) for h in table.headers])
    for row in table.rows:
        writer.writerow([_csv_cell(v, comma) for v in row])
    return out.getvalue()


def download_links(request: HttpRequest) -> dict[str, Any]:
    """The current address with ``format=xlsx`` and ``format=csv`` (filters kept), for the
    ``core/_download.html`` links."""
    query = request.GET.copy()
    query.pop("page", None)
    links = {}
    for fmt in FORMATS:
        query["format"] = fmt
        links[fmt] = f"{request.path}?{query.urlencode()}"
    return links
