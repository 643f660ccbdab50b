"""Every table of the product as a download: Excel (xlsx) and CSV, from one description.

The one home of table downloads (and the only writer of table workbooks). A table reaches it
in one of two ways:

* A view builds a :class:`Table` (headers and rows of plain values) from the selector that
  feeds its HTML table and returns ``table_download(request, table)`` when the request asks for
  a format (``?format=xlsx`` or ``?format=csv``; see :func:`requested_format`). Lists that page
  (the agreements list, the audit trail) do this, so that the download holds every row, not the
  page on screen.
* A page's own HTML table is marked ``data-export="<key>"`` and shows the
  ``{% download_links "<key>" %}`` links (``core/templatetags/downloads.py``). For
  ``?format=xlsx|csv&table=<key>`` :class:`TableDownloadMiddleware` lets the view render the page
  as it would (same permission checks, same filters), reads that table out of the HTML
  (:func:`tables_from_html`) and answers the download instead. A cell that is a number or a date
  carries it in ``data-value`` (``{{ value|unlocalize }}``, ``{{ day|date:"Y-m-d" }}``), so the
  workbook gets the typed value, not the localised text (a cell of plain digits, a year or a
  count, is a number without it); what a screen reader is told to skip
  (``aria-hidden="true"``) and what is marked ``data-export-skip`` stays out.

Numbers stay numbers and dates stay dates in Excel; CSV follows the reader's language (a
semicolon and a decimal comma for the Nordic languages, so that Excel opens it in columns). Text
that a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``) is written as text. No
domain knowledge here.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import slugify
from django.utils.translation import get_language

FORMATS = ("xlsx", "csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SPACE = re.compile(r"\s+")
_PLAIN_INTEGER = re.compile(r"-?[1-9]\d{0,14}|0")
# Rows read to size the columns of a workbook (the rest are streamed).
_SIZING_ROWS = 200

Cell = str | int | float | Decimal | date | datetime | bool | None


@dataclass
class Table:
    """A table to download: a title (the sheet's and the file's name), headers and rows.

    ``stream``: answer CSV as a stream (for long lists such as the audit trail)."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Cell]] = field(default_factory=list)
    stream: bool = False


def requested_format(request: HttpRequest) -> str | None:
    """``"xlsx"`` or ``"csv"`` when the request asks to download the table, else ``None``."""
    value = request.GET.get("format", "")
    return value if value in FORMATS else None


def file_name(table: Table, fmt: str) -> str:
    return (slugify(table.title) or "table") + "-" + timezone.localdate().isoformat() + "." + fmt


def table_download(request: HttpRequest, table: Table, fmt: str | None = None) -> HttpResponse:
    """The table as an attachment in ``fmt`` (default: the requested format)."""
    fmt = fmt or requested_format(request) or "csv"
    response: HttpResponse | StreamingHttpResponse
    if fmt == "xlsx":
        response = HttpResponse(xlsx_bytes(table), content_type=XLSX_TYPE)
    elif table.stream:
        response = StreamingHttpResponse(csv_lines(table), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(csv_text(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name(table, fmt)}"'
    return response  # type: ignore[return-value]


def _text(value: str) -> str:
    value = _CONTROL.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _local(value: datetime) -> datetime:
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def xlsx_bytes(table: Table) -> bytes:
    """An Excel workbook with one sheet: a bold header row, frozen, numbers and dates typed.

    Written in openpyxl's write-only mode, so a long table is streamed into the file rather
    than held as cell objects; the first rows size the columns."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", table.title)[:31] or "Table")
    rows = iter(table.rows)
    first = list(itertools.islice(rows, _SIZING_ROWS))
    widths = [len(str(h)) for h in table.headers]
    for row in first:
        for index, value in enumerate(row[: len(widths)]):
            shown = value.isoformat() if isinstance(value, date) else str(value or "")
            widths[index] = max(widths[index], min(60, len(shown)))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width + 2
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def header(text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=_CONTROL.sub("", str(text)))
        cell.font = bold
        return cell

    def typed(value: Cell) -> Any:
        if isinstance(value, datetime):
            cell = WriteOnlyCell(sheet, value=_local(value))
            cell.number_format = "yyyy-mm-dd hh:mm"
            return cell
        if isinstance(value, date):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = "yyyy-mm-dd"
            return cell
        if isinstance(value, bool | int | float) or value is None:
            return value
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        # Set as text explicitly: openpyxl would read "=…" as a formula.
        cell = WriteOnlyCell(sheet, value=_CONTROL.sub("", str(value)))
        cell.data_type = TYPE_STRING
        return cell

    sheet.append([header(h) for h in table.headers])
    for row in itertools.chain(first, rows):
        sheet.append([typed(v) for v in row])
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
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return _text(str(value))


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(table: Table) -> Iterator[str]:
    """The CSV of :func:`csv_text`, line by line (for a streamed answer)."""
    comma = _decimal_comma()
    writer = csv.writer(_Echo(), delimiter=";" if comma else ",", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([_text(str(h)) for h in table.headers])
    for row in table.rows:
        yield writer.writerow([_csv_cell(v, comma) for v in row])


def csv_text(table: Table) -> str:
    """CSV with a BOM (Excel reads it as UTF-8): ``;`` and decimal commas where the reader's
    language writes decimals with a comma, else ``,`` and points; ISO dates."""
    return "".join(csv_lines(table))


def download_links(request: HttpRequest, table: str = "") -> dict[str, Any]:
    """The current address with ``format=xlsx`` and ``format=csv`` (filters kept; ``table``
    names a ``data-export`` table of the page), for the ``core/_download.html`` links."""
    query = request.GET.copy()
    for name in ("page", "after", "format", "table"):
        query.pop(name, None)
    if table:
        query["table"] = table
    links = {}
    for fmt in FORMATS:
        query["format"] = fmt
        links[fmt] = f"{request.path}?{query.urlencode()}"
    return links


# --- Tables read from the page's HTML -------------------------------------------------------

_SKIPPED_TAGS = {"script", "style", "template", "select", "button", "textarea"}
_VOID = {"br", "hr", "img", "input", "wbr", "meta", "link", "source", "col"}


def typed_value(text: str) -> Cell:
    """A ``data-value``: an integer, a decimal number, an ISO date or date-time, or else text."""
    text = text.strip()
    if text == "":
        return None
    if re.fullmatch(r"-?\d{1,15}", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+(E[-+]?\d+)?", text, flags=re.IGNORECASE):
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            return text
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return parse_date(text) or text
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", text):
        return parse_datetime(text) or text
    return text


class _TableReader(HTMLParser):
    """Collects the ``table[data-export]`` of a page: caption, header row, body rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[str, str, list[str], list[list[Cell]]]] = []
        self.page_title = ""
        self._in_title = False
        self._table: tuple[str, str, list[str], list[list[Cell]]] | None = None
        self._depth = 0  # open elements inside the current table
        self._skip_depth: int | None = None  # depth where a skipped subtree started
        self._in_caption = False
        self._caption: list[str] = []
        self._titled = False
        self._in_head = False
        self._row: list[Cell] | None = None
        self._row_spans = False
        self._cell: list[str] | None = None
        self._cell_value: str | None = None
        self._cell_omit = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "title" and self._table is None:
            self._in_title = True
        if self._table is None:
            if tag == "table" and attributes.get("data-export"):
                self._table = (attributes["data-export"] or "", "", [], [])
                self._depth = 0
                self._caption = [attributes.get("data-export-title") or ""]
                self._titled = bool(attributes.get("data-export-title"))
            return
        if tag in _VOID:
            if tag == "br" and self._cell is not None and self._skip_depth is None:
                self._cell.append(" ")
            return
        self._depth += 1
        if self._skip_depth is None and (
            tag in _SKIPPED_TAGS
            or attributes.get("aria-hidden") == "true"
            or "data-export-skip" in attributes
        ):
            self._skip_depth = self._depth
        if tag == "caption":
            self._in_caption = True
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr":
            self._row, self._row_spans = [], False
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._cell_value = attributes.get("data-value")
            self._cell_omit = "data-export-skip" in attributes  # an actions column
            if (attributes.get("colspan") or "1") != "1":
                self._row_spans = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._table is None or tag in _VOID:
            return
        if tag == "table" and self._depth == 0:
            key, _title, headers, rows = self._table
            caption = _SPACE.sub(" ", "".join(self._caption)).strip()
            self.tables.append((key, caption, headers, rows))
            self._table = None
            return
        if self._skip_depth is not None and self._depth <= self._skip_depth:
            self._skip_depth = None
        self._depth -= 1
        if tag == "caption":
            self._in_caption = False
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._end_cell(self._row, self._cell)
        elif tag == "tr" and self._row is not None:
            self._end_row(self._row)

    def _end_cell(self, row: list[Cell], parts: list[str]) -> None:
        text = _SPACE.sub(" ", "".join(parts)).strip()
        value: Cell = text
        if self._cell_value is not None:
            value = typed_value(self._cell_value)
        elif _PLAIN_INTEGER.fullmatch(text):
            value = int(text)  # a year, a count: a number without data-value
        if not self._cell_omit:
            row.append(value)
        self._cell = None

    def _end_row(self, row: list[Cell]) -> None:
        assert self._table is not None
        headers, rows = self._table[2], self._table[3]
        if self._in_head or not headers:
            if not headers:
                headers.extend(str(v or "") for v in row)
        elif not (self._row_spans and len(row) < len(headers)):
            rows.append(row)  # a "nothing here" row spanning the table is left out
        self._row = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.page_title += data
        if self._table is None or self._skip_depth is not None:
            return
        if self._cell is not None:
            self._cell.append(data)
        elif self._in_caption and not self._titled:
            self._caption.append(data)


def tables_from_html(html: str) -> list[tuple[str, Table]]:
    """The ``data-export`` tables of a page, each with its key, in the page's order. A table's
    title is its ``data-export-title``, else its caption, else the page's title."""
    reader = _TableReader()
    reader.feed(html)
    reader.close()
    page_title = _SPACE.sub(" ", reader.page_title).split(" · ")[0].strip()
    return [
        (key, Table(title=caption or page_title or key, headers=headers, rows=rows))
        for key, caption, headers, rows in reader.tables
    ]


def page_table(html: str, key: str, title: str = "") -> Table | None:
    """The page's table ``key`` (the first ``data-export`` table when ``key`` is empty). Tables
    that share a key (one per theme, say) become one: their rows follow each other."""
    found = [t for k, t in tables_from_html(html) if not key or k == key]
    if not found:
        return None
    if not key:
        found = found[:1]
    first = found[0]
    rows = [row for table in found for row in table.rows]
    return Table(title=title or first.title, headers=first.headers, rows=rows)


class TableDownloadMiddleware:
    """Answers ``?format=xlsx|csv`` on a page whose view rendered a ``data-export`` table: the
    download of that table (``?table=<key>``), read from the page the view just rendered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        fmt = requested_format(request) if request.method == "GET" else None
        if (
            fmt is None
            or response.status_code != 200
            or response.streaming
            or not response.get("Content-Type", "").startswith("text/html")
        ):
            return response
        html = response.content.decode(response.charset or "utf-8")
        if "data-export=" not in html:
            return response
        table = page_table(html, request.GET.get("table", ""))
        if table is None:
            return response
        download = table_download(request, table, fmt)
        for header in ("Cache-Control", "Vary"):
            if header in response:
                download[header] = response[header]
        return download
