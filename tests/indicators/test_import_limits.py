"""The limits of a KPI file (``imports/limits.py``): the upload cut off while it streams in,
and every other limit checked in one streaming pass before parsing, refused with the same
message on the page, in the API and by ``pejling import-kpi``."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http.multipartparser import MultiPartParser
from django.test import Client
from django.urls import reverse
from django.utils import translation

from pejling.api.tokens import token_create
from pejling.indicators import imports
from pejling.indicators.imports import limits
from pejling.indicators.models import ImportBatch, ImportStatus, IndicatorValue
from pejling.indicators.uploads import LimitedUploadHandler
from tests.api.helpers import BASE, ApiClient, assert_error
from tests.factories import IndicatorFactory

HEADER = "Indikator;Enhet;Period;Värde\n"
GOOD = (HEADER + "SICK;unit-a1a;2019-03;4,5\nSICK;unit-a1b;2019-03;2\n").encode()


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages compared in English (the command and the limits' check alike)."""
    with translation.override("en"):
        yield


@pytest.fixture
def sick(db: None) -> Any:
    return IndicatorFactory(code="SICK")


@pytest.fixture
def api(db: None) -> Any:
    def make(user: Any) -> ApiClient:
        return ApiClient(
            token_create(user=user, name="t", scope="read_write", expires_in_days=1).secret
        )

    return make


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_bomb(unpacked: int) -> bytes:
    """A small xlsx workbook whose sheet unpacks to ``unpacked`` bytes of the same text."""
    good = zipfile.ZipFile(io.BytesIO(xlsx([["Indikator", "Enhet", "Period", "Värde"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bomb:
        for info in good.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with bomb.open(info.filename, "w", force_zip64=True) as sheet:
                    chunk = b"<!-- " + b"0" * (1024 * 1024 - 9) + b" -->"
                    for _ in range(unpacked // len(chunk)):
                        sheet.write(chunk)
            else:
                bomb.writestr(info, good.read(info.filename))
    return out.getvalue()


# The upload handler ---------------------------------------------------------------------------


class CountingStream(io.BytesIO):
    """A request body that counts how much of it was read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def multipart(data: bytes, name: str = "values.csv") -> tuple[bytes, str]:
    boundary = "pejlingboundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\nabc\r\n'
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def parse(body: bytes, content_type: str, handler: LimitedUploadHandler, length: int) -> Any:
    stream = CountingStream(body)
    meta = {"CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(length)}
    post, files = MultiPartParser(meta, stream, [handler]).parse()
    return post, files, stream.consumed


@pytest.mark.django_db
def test_the_upload_handler_stops_reading_at_the_limit_and_keeps_nothing() -> None:
    limit = 1024 * 1024
    body, content_type = multipart(b"x;" * (8 * limit))  # 16 MB
    # A client that says less than it sends (or sends chunked): counted while streaming.
    handler = LimitedUploadHandler(limit=limit)
    tracemalloc.start()
    post, files, consumed = parse(body, content_type, handler, length=limit)
    _size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert post["csrfmiddlewaretoken"] == "abc"  # the fields before the file were read
    assert "file" not in files
    assert handler.refused is not None and handler.refused.code == "file_too_large"
    assert "At most 1 MB can be uploaded." in handler.refused.message
    # Reading stopped just past the limit: the other 15 MB were never read, nor held.
    assert consumed < 2 * limit
    assert peak < 4 * limit
    assert handler.upload is None


@pytest.mark.django_db
def test_a_content_length_over_the_limit_is_refused_at_the_files_first_byte() -> None:
    body, content_type = multipart(b"x" * 3_000_000)
    handler = LimitedUploadHandler(limit=100_000)
    _post, files, consumed = parse(body, content_type, handler, length=len(body))
    assert "file" not in files and handler.refused is not None
    assert consumed <= LimitedUploadHandler.chunk_size  # the parser's first read, no more


@pytest.mark.django_db
def test_a_file_within_the_limit_is_streamed_to_disk(tmp_path: Path) -> None:
    body, content_type = multipart(GOOD)
    handler = LimitedUploadHandler(limit=1000)
    _post, files, _consumed = parse(body, content_type, handler, length=len(body))
    upload = files["file"]
    assert upload.read() == GOOD and handler.refused is None
    assert Path(upload.temporary_file_path()).parent == Path(imports.stored.incoming_dir() or "")


def test_the_upload_page_refuses_a_file_over_the_limit_naming_it(
    org: Any, sick: Any, settings: Any
) -> None:
    settings.PEJLING_IMPORT_LIMITS = {"upload_bytes": 64 * 1024}
    client = Client(headers={"accept-language": "en"})
    client.force_login(org.office)
    big = SimpleUploadedFile("big.csv", GOOD * 10_000, content_type="text/csv")  # 640 kB
    response = client.post(reverse("indicators:import_new"), {"file": big, "indicator": ""})
    assert response.status_code == 413
    [message] = response.context["form"].errors["file"]
    # What was read before the cut is a lower bound of the file's size.
    assert message.startswith(
        "The file is too large. At most 64 kB can be uploaded. Found: at least "
    )
    assert message.endswith(" kB.")
    assert "At most 64 kB can be uploaded." in response.content.decode()
    assert ImportBatch.objects.count() == 0
    assert not any(Path(imports.stored.incoming_dir() or "/nowhere").iterdir())
    sv = Client(headers={"accept-language": "sv"})
    sv.force_login(org.office)
    big.seek(0)
    page = sv.post(reverse("indicators:import_new"), {"file": big}).content.decode()
    assert "64 kB" in page and "The file is too large" not in page


def test_the_api_refuses_a_file_over_the_limit_with_413(
    api: Any, org: Any, sick: Any, settings: Any
) -> None:
    settings.PEJLING_IMPORT_LIMITS = {"upload_bytes": 64 * 1024}
    client = api(org.office).client
    big = SimpleUploadedFile("big.csv", GOOD * 10_000, content_type="text/csv")
    body = assert_error(client.post(BASE + "/imports", {"file": big}), 413, "file_too_large")
    assert "64 kB" in body["message"]
    assert ImportBatch.objects.count() == 0


# Every limit, the same way everywhere -----------------------------------------------------------

LOW = {"rows": 3, "columns": 6, "cell_chars": 20, "xlsx_unpacked_bytes": 3 * 1024 * 1024}
CASES = {
    "rows": ("rows.csv", (HEADER + "SICK;unit-a1a;2019-03;1\n" * 5).encode(), (5, None)),
    "columns": (
        "wide.csv",
        (HEADER + "SICK;unit-a1a;2019-03;1" + ";x" * 6 + "\n").encode(),
        (2, None),
    ),
    "cell": ("cell.csv", (HEADER + "SICK;unit-a1a;2019-03;" + "9" * 30 + "\n").encode(), (2, "4")),
    "xlsx": ("bomb.xlsx", None, (None, None)),
}
CODES = {
    "rows": "too_many_rows",
    "columns": "too_many_columns",
    "cell": "cell_too_long",
    "xlsx": "xlsx_too_large",
}
SENTENCES = {
    "rows": "At most 3 rows can be imported at once.",
    "columns": "At most 6 columns are read.",
    "cell": "A cell may hold at most 20 characters.",
    "xlsx": "At most 3 MB unpacked is read.",
}


@pytest.fixture
def low_limits(settings: Any) -> None:
    settings.PEJLING_IMPORT_LIMITS = LOW


def case(which: str) -> tuple[str, bytes, tuple[int | None, str | None]]:
    name, data, place = CASES[which]
    return name, data if data is not None else xlsx_bomb(8 * 1024 * 1024), place


@pytest.mark.parametrize("which", list(CASES))
def test_each_limit_is_refused_alike_on_the_page_in_the_api_and_by_the_command(
    org: Any, sick: Any, low_limits: None, run_jobs: None, tmp_path: Path, api: Any, which: str
) -> None:
    name, data, place = case(which)
    code = CODES[which]
    path = tmp_path / name
    path.write_bytes(data)
    refused = imports.check_limits(path, name)
    assert refused is not None
    assert ((refused.row, refused.column), refused.code) == (place, code)
    assert refused.message.endswith(SENTENCES[which])

    # The page: uploaded, refused by the worker's check, the batch says why.
    client = Client(headers={"accept-language": "en"})
    client.force_login(org.office)
    client.post(reverse("indicators:import_new"), {"file": SimpleUploadedFile(name, data)})
    batch = ImportBatch.objects.get(filename=name)
    assert batch.status == ImportStatus.FAILED
    assert imports.batch_errors(batch) == [refused]
    page = client.get(reverse("indicators:import_detail", args=[batch.pk])).content.decode()
    assert SENTENCES[which] in page

    # The API: the same.
    answer = api(org.office).client.post(
        BASE + "/imports",
        {"file": SimpleUploadedFile(name, data)},
        headers={"accept-language": "en"},
    )
    assert answer.status_code == 202, answer.content
    status = answer.json()
    assert status["status"] == "failed"
    assert [(e["row"], e["code"], e["message"]) for e in status["errors"]] == [
        (refused.row, code, refused.message_with_found)
    ]
    assert refused.message_with_found.startswith(refused.message + " Found: ")
    # The machine-readable figures stay numbers.
    [error] = status["errors"]
    assert (error["found"], error["limit"]) == (refused.found_number, refused.limit_number)
    assert isinstance(error["found"], int) and isinstance(error["limit"], int)

    # The command: the same check, the same message.
    err = StringIO()
    with pytest.raises(CommandError, match="refused"):
        call_command("import-kpi", str(path), stdout=StringIO(), stderr=err)
    assert refused.message in err.getvalue()
    assert IndicatorValue.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused_by_the_command_too(
    org: Any, sick: Any, settings: Any, tmp_path: Path
) -> None:
    settings.PEJLING_IMPORT_LIMITS = {"upload_bytes": 10}
    path = tmp_path / "values.csv"
    path.write_bytes(GOOD)
    err = StringIO()
    with pytest.raises(CommandError, match="refused"):
        call_command("import-kpi", str(path), stdout=StringIO(), stderr=err)
    assert "At most 10 B can be uploaded." in err.getvalue()
    batch = ImportBatch.objects.get()
    assert [e.code for e in imports.batch_errors(batch)] == ["file_too_large"]


# Hostile files, refused early -------------------------------------------------------------------


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many bytes the limits' check read of each file it opened."""
    counted: list[int] = []
    original = Path.open

    def counting_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        f = original(self, mode, *args, **kwargs)
        if "b" not in mode:
            return f
        read = f.read

        def counting_read(size: int = -1) -> bytes:
            chunk = read(size)
            counted.append(len(chunk))
            return chunk

        f.read = counting_read
        return f

    monkeypatch.setattr(limits.Path, "open", counting_open)
    yield counted


def test_a_csv_line_of_a_million_columns_is_refused_at_its_first_megabyte(
    tmp_path: Path, reads: list[int]
) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes((";" * 10_000_000 + "\n" + "SICK;unit-a1a;2019-03;4\n").encode())  # 10 MB
    refused = imports.check_limits(path, "wide.csv")
    assert refused is not None and (refused.row, refused.code) == (1, "too_many_columns")
    assert sum(reads) <= 2 * 1024 * 1024  # not the other 8 MB


def test_an_xlsx_zip_bomb_is_refused_by_its_directory_before_it_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.PEJLING_IMPORT_LIMITS = {"xlsx_unpacked_bytes": 2 * 1024 * 1024}
    bomb = xlsx_bomb(20 * 1024 * 1024)
    assert len(bomb) < 100_000  # a small file that unpacks to 20 MB
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb)

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    refused = imports.check_limits(path, "bomb.xlsx")
    assert refused is not None and refused.code == "xlsx_too_large"
    # The bytes the archive unpacks to (the sheet and the workbook's other parts), a number.
    assert 20 * 1024 * 1024 <= int(refused.detail) < 21 * 1024 * 1024
    assert refused.limit == str(2 * 1024 * 1024)
    assert refused.found_text == "20 MB"
    with translation.override("en"):
        assert refused.message.endswith("At most 2 MB unpacked is read.")


@pytest.mark.parametrize(
    ("language", "shown"),
    [("sv", "10\xa0000\xa0000"), ("en", "10,000,000"), ("da", "10.000.000")],
)
def test_a_limit_is_written_as_the_reader_writes_numbers(language: str, shown: str) -> None:
    error = imports.RowError(None, None, "too_many_rows", "", limit="10000000")
    with translation.override(language):
        assert shown in error.message
    stored = imports.RowError.from_dict(error.as_dict())  # kept on the batch as a number
    with translation.override(language):
        assert stored.message == error.message


def test_an_xlsx_sheet_declaring_too_many_columns_is_refused_before_its_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wide.xlsx"
    path.write_bytes(xlsx([["Indikator", "Enhet", "Period", "Värde", *range(300)]]))
    refused = imports.check_limits(path, "wide.xlsx")
    assert refused is not None and (refused.row, refused.code) == (1, "too_many_columns")


def test_files_within_the_limits_pass(tmp_path: Path) -> None:
    cases = {
        "good.csv": GOOD,
        "good.xlsx": xlsx([["Indikator", "Enhet", "Period", "Värde"], ["SICK", "a", "2019", 1]]),
        "utf16.csv": (HEADER + "SICK;unit-a1a;2019-03;4\n").encode("utf-16"),
        # 900 letters of two bytes each: 1,800 bytes, within 1,000 characters.
        "letters.csv": (HEADER + "SICK;" + "å" * 900 + ";2019-03;4\n").encode(),
        "sep.csv": b"sep=,\nIndikator,Enhet,Period,Varde\nSICK,unit-a1a,2019-03,4\n",
        "empty.csv": b"",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert imports.check_limits(path, name) is None, name


# What was found, written as the reader writes numbers ------------------------------------------


@pytest.mark.parametrize(
    ("code", "detail", "texts"),
    [
        ("too_many_rows", "10000001", {"sv": "10\xa0000\xa0001", "en": "10,000,001"}),
        ("too_many_columns", "201+", {"sv": "minst 201", "en": "at least 201"}),
        ("cell_too_long", "12345", {"sv": "12\xa0345", "en": "12,345"}),
        ("file_too_large", str(250 * 1024 * 1024), {"sv": "250 MB", "en": "250 MB"}),
        ("xlsx_too_large", str(1536 * 1024), {"sv": "1,5 MB", "en": "1.5 MB"}),
        ("file_too_large", "900+", {"sv": "minst 900 B", "en": "at least 900 B"}),
    ],
)
def test_the_figure_found_is_written_as_the_reader_writes_numbers_and_sizes(
    code: str, detail: str, texts: dict[str, str]
) -> None:
    error = imports.RowError(2, None, code, detail, limit="200")
    for language, shown in texts.items():
        with translation.override(language):
            assert error.found_text == shown
            assert error.message_with_found.endswith(
                {"sv": f"Hittat: {shown}.", "en": f"Found: {shown}."}[language]
            )
    assert error.found_number == int(detail.rstrip("+"))  # for the API, a number
    # A cell's text is no figure: shown as it is, never grouped.
    cell = imports.RowError(2, "value", "not_a_number", "10000001")
    with translation.override("sv"):
        assert (cell.found_text, cell.found_number) == ("10000001", None)
        assert cell.message_with_found == cell.message


@pytest.mark.parametrize(
    ("language", "found", "limit"),
    [("sv", "12\xa0345", "20"), ("en", "12,345", "20")],
)
def test_the_page_and_the_api_write_the_figure_found_in_the_readers_language(
    org: Any,
    sick: Any,
    low_limits: None,
    run_jobs: None,
    api: Any,
    language: str,
    found: str,
    limit: str,
) -> None:
    data = (HEADER + "SICK;unit-a1a;2019-03;" + "9" * 12_345 + "\n").encode()
    client = Client(headers={"accept-language": language})
    client.force_login(org.office)
    client.post(reverse("indicators:import_new"), {"file": SimpleUploadedFile("long.csv", data)})
    batch = ImportBatch.objects.get()
    assert batch.errors[0]["detail"] == "12345"  # kept as a number, in no language
    page = client.get(reverse("indicators:import_detail", args=[batch.pk])).content.decode()
    assert f"<td>{found}</td>" in page
    assert "12345" not in page

    answer = api(org.office).client.post(
        BASE + "/imports",
        {"file": SimpleUploadedFile("long.csv", data)},
        headers={"accept-language": language},
    )
    [error] = answer.json()["errors"]
    word = {"sv": "Hittat", "en": "Found"}[language]
    assert error["message"].endswith(f"{word}: {found}.")
    assert (error["found"], error["limit"], error["detail"]) == (12_345, int(limit), "12345")
