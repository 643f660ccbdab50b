"""Excel with openpyxl: one sheet per table, numbers as numbers, dates as dates, frozen
header rows, the document's title and language in its properties."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pejling.reports.documents.model import Document, Table, is_numeric

HEADER_FILL = PatternFill("solid", fgColor="0B3B60")
HEADER_FONT = Font(bold=True, color="FFFFFF")
NUMBER_FORMAT = "#,##0.0##"
DATE_FORMAT = "yyyy-mm-dd"


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]\*\?/\\:]", "-", name).strip()[:28] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in used:
        candidate = f"{base[:25]} {n}"
        n += 1
    used.add(candidate.lower())
    return candidate


def render_xlsx(doc: Document) -> bytes:
    with translation.override(doc.language):
        tables = list(doc.tables)
        for f in doc.figures:
            tables.append(
                Table(
                    _("Table A%(number)s. %(title)s") % {"number": f.number, "title": f.title},
                    [_("Period"), f.value_label or _("Value")],
                    [[p, v] for p, v in f.rows],
                    sheet=f"A{f.number}",
                )
            )
        book = Workbook()
        book.remove(book.active)
        book.properties.title = doc.title
        book.properties.subject = doc.subtitle
        book.properties.creator = doc.organisation
        book.properties.language = doc.language
        used: set[str] = set()
        about = book.create_sheet(_sheet_name(_("About"), used))
        about.append([doc.title])
        about["A1"].font = Font(bold=True, size=14)
        about.append([doc.subtitle])
        about.append([_("Produced"), doc.generated_at.replace(tzinfo=None)])
        about["B3"].number_format = "yyyy-mm-dd hh:mm"
        if doc.frozen_at:
            about.append([_("Finalised"), doc.frozen_at.replace(tzinfo=None)])
            about["B4"].number_format = "yyyy-mm-dd hh:mm"
        about.column_dimensions["A"].width = 24
        about.column_dimensions["B"].width = 60
        for table in tables:
            sheet = book.create_sheet(_sheet_name(table.sheet or table.title, used))
            sheet.append(table.columns)
            for cell in sheet[1]:
                cell.fill, cell.font = HEADER_FILL, HEADER_FONT
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for row in table.rows:
                sheet.append([v if v != "" else None for v in row])
            widths = [len(str(c)) for c in table.columns]
            for r in sheet.iter_rows(min_row=2):
                for i, cell in enumerate(r):
                    value = cell.value
                    if isinstance(value, date):
                        cell.number_format = DATE_FORMAT
                    elif is_numeric(value) and isinstance(value, float):
                        cell.number_format = NUMBER_FORMAT
                    widths[i] = max(widths[i], min(60, len(str(value or ""))))
            for i, width in enumerate(widths, 1):
                sheet.column_dimensions[get_column_letter(i)].width = max(10, width + 2)
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = sheet.dimensions
            sheet.title = sheet.title  # keep
            sheet.sheet_properties.tabColor = "0B3B60"
            sheet.oddHeader.center.text = table.title
        out = BytesIO()
        book.save(out)
        return out.getvalue()
