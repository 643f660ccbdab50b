"""``pejling sync-org --source file`` given hostile or broken files: each refused with a
translated message naming the row and column (and, for a limit, the limit and what was found
as the reader writes numbers), no traceback, nothing written."""

from __future__ import annotations

import io
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from pejling.organisation.models import Unit, UnitLevel
from pejling.organisation.sync import files as unit_files
from tests.indicators import xlsx_crafted as crafted

pytestmark = pytest.mark.django_db

HEADER = "Kod;Namn;Överordnad;Nivå\n"
GOOD = HEADER + "KS;Kommunstyrelsen;;1\nBUF;Barn;KS;2\n"


@pytest.fixture(autouse=True)
def levels() -> None:
    UnitLevel.objects.create(depth=1, name="Kommun", name_plural="Kommuner")
    UnitLevel.objects.create(depth=2, name="Förvaltning", name_plural="Förvaltningar")


def refused(path: Path, language: str) -> str:
    """What the command says on stderr; it must end in a CommandError, not a traceback."""
    err = StringIO()
    history = Unit.history.count()
    # The command speaks the installation's language (PEJLING_LANGUAGE).
    with override_settings(LANGUAGE_CODE=language), pytest.raises(CommandError):
        call_command("sync-org", "--source", "file", str(path), stdout=StringIO(), stderr=err)
    assert Unit.objects.count() == 0 and Unit.history.count() == history
    return err.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def bomb(unpacked: int) -> bytes:
    """An xlsx workbook of a few kB whose sheet unpacks to ``unpacked`` bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        source = zipfile.ZipFile(io.BytesIO(crafted.workbook([crafted.header_row()])))
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(info.filename, source.read(info.filename))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b" " * (1024 * 1024)
            for _ in range(unpacked // len(chunk)):
                sheet.write(chunk)
    return out.getvalue()


def test_a_nul_byte_in_a_cell_names_its_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "enheter.csv", (GOOD + "X;Ett\x00namn;KS;2\n").encode())
    assert "row 4, column Namn: The cell holds a control character" in refused(path, "en")
    said = refused(path, "sv")
    assert "rad 4, kolumn Namn: Cellen innehåller ett styrtecken" in said
    assert "\\x00" in said  # shown, never written as a NUL


def test_a_million_columns_in_a_csv_row_are_refused_at_that_row(tmp_path: Path) -> None:
    wide = GOOD + "X;Y;KS;2" + ";" * 1_000_000 + "\n"
    path = write(tmp_path, "enheter.csv", wide.encode())
    limit = unit_files.MAX_COLUMNS
    said = refused(path, "en")
    assert (
        f"row 4, column {limit + 1}: The file has too many columns. At most {limit} columns"
        " are read. Found: 1,000,004." in said
    )
    assert "Found: 1\xa0000\xa0004." not in said
    assert "Hittat: 1\xa0000\xa0004." in refused(path, "sv")
    # A header that wide is refused before any column is looked for.
    path = write(tmp_path, "enheter.csv", (HEADER[:-1] + ";" * 1_000_000 + "\n").encode())
    assert "row 1, column 201: The file has too many columns." in refused(path, "en")


def test_a_wide_xlsx_under_a_small_dimension_is_refused_where_it_passes_the_limit(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "enheter.xlsx", crafted.million_columns())
    said = refused(path, "en")
    assert "row 2, column 201: The file has too many columns." in said
    assert "Found: at least 201." in said
    assert "rad 2, kolumn 201:" in refused(path, "sv")


def test_a_zip_bomb_is_refused_by_its_unpacked_size(tmp_path: Path) -> None:
    data = bomb(unit_files.MAX_XLSX_UNCOMPRESSED + 1024 * 1024)
    assert len(data) < 500_000
    path = write(tmp_path, "enheter.xlsx", data)
    said = refused(path, "en")
    assert "The Excel file unpacks to too much data" in said
    assert "At most 100 MB unpacked is read. Found: 101 MB." in said
    assert "Högst 100 MB uppackat läses. Hittat: 101 MB." in refused(path, "sv")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unit_files, "MAX_FILE_BYTES", 1024)
    path = write(tmp_path, "enheter.csv", (GOOD * 100).encode())
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the file was read"))
    said = refused(path, "en")
    assert "The file is too large. At most 1 kB can be read. Found: 6.2 kB." in said


def test_a_duplicate_code_names_both_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "enheter.csv", (GOOD + "ks;Igen;;1\n").encode())
    said = refused(path, "en")
    assert (
        "row 4, column Kod: The same unit code occurs more than once in the file."
        " It first occurs in row 2. ('ks')" in said
    )
    assert "rad 4, kolumn Kod:" in refused(path, "sv")


def test_a_cycle_in_the_parents_names_each_row_on_it(tmp_path: Path) -> None:
    path = write(tmp_path, "enheter.csv", (GOOD + "X;X;Y;2\nY;Y;X;2\n").encode())
    said = refused(path, "en")
    assert "row 4, column Överordnad: The parent codes form a cycle" in said
    assert "row 5, column Överordnad: The parent codes form a cycle" in said
    assert "Traceback" not in said


def test_a_code_or_name_too_long_names_the_limit_and_the_length_in_the_readers_language(
    tmp_path: Path,
) -> None:
    code_max, name_max = unit_files.CODE_MAX, unit_files.NAME_MAX
    rows = f"{'K' * (code_max + 1)};Lång kod;KS;2\nLN;{'n' * (name_max + 5)};KS;2\n"
    path = write(tmp_path, "enheter.csv", (GOOD + rows).encode())
    said = refused(path, "en")
    assert (
        f"row 4, column Kod: The text is too long. At most {code_max} characters are allowed"
        f" here. Found: {code_max + 1}." in said
    )
    assert f"row 5, column Namn: The text is too long. At most {name_max}" in said
    said = refused(path, "sv")
    assert (
        f"rad 4, kolumn Kod: Texten är för lång. Högst {code_max} tecken är tillåtna här."
        f" Hittat: {code_max + 1}." in said
    )
    assert "characters" not in said


def test_a_broken_csv_is_refused_in_the_readers_language(tmp_path: Path) -> None:
    """Python's csv module refuses a field over its limit; the sentence around its words is
    ours, translated."""
    path = write(tmp_path, "enheter.csv", (GOOD + 'X;"' + "x" * 140_000 + '";KS;2\n').encode())
    assert "row 4: The file could not be read: its CSV text is broken. (field" in refused(
        path, "en"
    )
    assert "rad 4: Filen kunde inte läsas: CSV-texten är trasig. (field" in refused(path, "sv")
