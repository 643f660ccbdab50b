"""The shared table download: xlsx with typed cells, CSV in the reader's language, no formulas."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
from django.test import RequestFactory
from django.utils import translation

from pejling.core.export import Table, csv_text, download_links, table_download, xlsx_bytes

TABLE = Table(
    title="Annual agreements",
    headers=["Unit", "Initiatives", "Share", "Deadline"],
    rows=[
        ["Hemtjänst norr", 3, Decimal("14.5"), date(2026, 3, 1)],
        ["=HYPERLINK(1)", 0, 1.25, None],
    ],
)


def test_xlsx_keeps_numbers_and_dates_typed_and_formulas_as_text() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(TABLE))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Unit", "Initiatives", "Share", "Deadline")
    assert rows[1][1] == 3 and isinstance(rows[1][1], int)
    assert rows[1][2] == 14.5
    assert rows[1][3].date() == date(2026, 3, 1)
    assert rows[2][0] == "=HYPERLINK(1)"
    assert sheet["A3"].data_type == "s"


def test_csv_follows_the_readers_language() -> None:
    with translation.override("sv"):
        text = csv_text(TABLE)
    assert text.startswith("\ufeffUnit;Initiatives;Share;Deadline\r\n")
    assert "Hemtjänst norr;3;14,5;2026-03-01" in text
    assert "'=HYPERLINK(1);0;1,25;" in text
    with translation.override("en"):
        assert "Hemtjänst norr,3,14.5,2026-03-01" in csv_text(TABLE)


def test_download_response_and_links_keep_the_filters() -> None:
    request = RequestFactory().get(
        "/agreements/", {"state": "draft", "page": "3", "format": "xlsx"}
    )
    response = table_download(request, TABLE)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="annual-agreements-' in response["Content-Disposition"]
    links = download_links(request)
    assert links["csv"] == "/agreements/?state=draft&format=csv"
