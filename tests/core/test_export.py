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


PAGE = """<html><head><title>Dashboard · Pejling</title></head><body>
<table class="ds-table" data-export="goals"><caption>Goals <span aria-hidden="true">✓</span></caption>
<thead><tr><th scope="col">Goal</th><th scope="col">Value</th><th scope="col">Since</th></tr></thead>
<tbody>
<tr><th scope="row"><a href="/g/1">M1 Fewer&nbsp;sick days</a></th><td data-value="14.9">14,9 %</td>
<td data-value="2026-05-12">12 maj 2026</td></tr>
<tr><td><span aria-hidden="true">⚠</span> =SUM(A1)<br>second line<details data-export-skip>x</details></td>
<td data-value="3">3</td><td data-value="">–</td></tr>
<tr><td colspan="3">Nothing more.</td></tr>
</tbody></table>
<table data-export="goals"><thead><tr><th>Goal</th><th>Value</th><th>Since</th></tr></thead>
<tbody><tr><td>M2</td><td data-value="-1.5">−1,5</td><td></td></tr></tbody></table>
<table data-export="units" data-export-title="Units"><tr><th>Unit</th></tr><tr><td>Norr</td></tr></table>
<table><tr><td>not exported</td></tr></table>
</body></html>"""


def test_a_page_table_is_read_with_typed_values_and_without_hidden_text() -> None:
    from pejling.core.export import page_table, tables_from_html

    keys = [key for key, _table in tables_from_html(PAGE)]
    assert keys == ["goals", "goals", "units"]
    goals = page_table(PAGE, "goals")
    assert goals is not None
    assert goals.title == "Goals"
    assert list(goals.headers) == ["Goal", "Value", "Since"]
    assert list(goals.rows) == [
        ["M1 Fewer sick days", Decimal("14.9"), date(2026, 5, 12)],
        ["=SUM(A1) second line", 3, None],
        ["M2", Decimal("-1.5"), ""],
    ]
    units = page_table(PAGE, "units")
    assert units is not None and units.title == "Units" and list(units.rows) == [["Norr"]]
    assert page_table(PAGE, "nothing") is None
    first = page_table(PAGE, "")
    assert first is not None and len(list(first.rows)) == 2  # the first table only


def test_the_middleware_answers_the_download_of_a_rendered_page() -> None:
    from django.http import HttpResponse

    from pejling.core.export import TableDownloadMiddleware

    middleware = TableDownloadMiddleware(lambda request: HttpResponse(PAGE))
    request = RequestFactory().get("/dashboard/", {"format": "xlsx", "table": "goals"})
    response = middleware(request)
    assert (
        response["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == 14.9 and rows[2][1] == 3 and rows[1][2].date() == date(2026, 5, 12)
    with translation.override("sv"):
        csv_response = middleware(RequestFactory().get("/x/", {"format": "csv", "table": "units"}))
    assert csv_response.content.decode() == "\ufeffUnit\r\nNorr\r\n"
    # Not asked for, or no such table: the page itself.
    assert middleware(RequestFactory().get("/x/"))["Content-Type"].startswith("text/html")
    assert middleware(RequestFactory().get("/x/", {"format": "csv", "table": "no"})).content == (
        PAGE.encode()
    )
