"""A NUL byte or another control character in a cell of a KPI file or an organisation file is
that cell's error (row and column), never a server error; the failed KPI import is kept with
its errors, as docs/security.md says."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from pejling.indicators import imports
from pejling.indicators.models import ImportBatch, ImportStatus, IndicatorValue
from pejling.organisation.models import Unit, UnitLevel
from tests.factories import IndicatorFactory
from tests.indicators.files import import_bytes

pytestmark = pytest.mark.django_db

HEADER = "Indikator;Enhet;Period;Värde\n"


@pytest.fixture
def sick(org: Any) -> Any:
    return IndicatorFactory(code="SICK")


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("SICK;unit-a1a\x00;2019-03;4,5\n", "Enhet"),
        ("SICK;unit-a1a;2019-03;4\x00,5\n", "Värde"),
        ("SI\x1bCK;unit-a1a;2019-03;4,5\n", "Indikator"),
        ("SICK;unit-a1a;2019\x00-03;4,5\n", "Period"),
    ],
)
def test_a_control_character_in_a_cell_is_that_cells_error_and_the_batch_is_kept(
    sick: Any, org: Any, row: str, column: str
) -> None:
    data = (HEADER + "SICK;unit-a1b;2019-03;2\n" + row).encode()
    batch = import_bytes(data=data, filename="sjuk.csv", by=org.office)
    batch = ImportBatch.objects.get(pk=batch.pk)  # stored, errors and all
    assert batch.status == ImportStatus.FAILED
    assert [(e.row, e.column, e.code) for e in imports.batch_errors(batch)] == [
        (3, column, "control_character")
    ]
    assert "\\x" in batch.errors[0]["detail"] and "\x00" not in batch.errors[0]["detail"]
    assert IndicatorValue.objects.count() == 0


def test_a_web_upload_with_a_nul_byte_shows_the_row_and_column(
    sick: Any, org: Any, run_jobs: None
) -> None:
    client = Client()
    client.force_login(org.office)
    data = (HEADER + "SICK;unit-a1a\x00;2019-03;4,5\n").encode()
    response = client.post(
        reverse("indicators:import_new"),
        {"file": SimpleUploadedFile("nul\x00.csv", data, content_type="text/csv"), "indicator": ""},
        follow=True,
    )
    assert response.status_code == 200
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.FAILED
    assert "\x00" not in batch.filename
    page = client.get(
        reverse("indicators:import_detail", args=[batch.pk]), headers={"accept-language": "sv"}
    ).content.decode()
    assert "Cellen innehåller ett styrtecken" in page


def test_import_kpi_names_the_cell_and_keeps_the_failed_batch(
    sick: Any, org: Any, tmp_path: Path
) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes((HEADER + "SICK;unit-a1a;2019-03;4\x00\n").encode())
    err = StringIO()
    with pytest.raises(CommandError, match="1 bad row"):
        call_command("import-kpi", str(path), stdout=StringIO(), stderr=err)
    # In the installation's language (Swedish here), the place as the message.
    assert err.getvalue().startswith("rad 2, kolumn Värde: Cellen innehåller ett styrtecken")
    assert ImportBatch.objects.get().status == ImportStatus.FAILED


def test_sync_org_from_a_file_with_a_nul_byte_names_the_cell_and_changes_nothing(
    tmp_path: Path,
) -> None:
    UnitLevel.objects.create(depth=1, name="Kommun", name_plural="Kommuner")
    path = tmp_path / "enheter.csv"
    path.write_bytes("Kod;Namn;Överordnad;Nivå\nKS;Kommun\x00styrelsen;;1\n".encode())
    err = StringIO()
    with (
        override_settings(LANGUAGE_CODE="en"),
        pytest.raises(CommandError, match="Nothing was changed"),
    ):
        call_command("sync-org", "--source", "file", str(path), stderr=err)
    assert "row 2, column Namn: The cell holds a control character" in err.getvalue()
    assert Unit.objects.count() == 0


# Hostile shape ------------------------------------------------------------------------------


def test_a_csv_file_with_a_million_columns_is_refused_before_parsing_naming_the_limit(
    sick: Any, org: Any, tmp_path: Path
) -> None:
    wide = (";".join([""] * 1_000_000) + "\n" + "SICK;unit-a1a;2019-03;4\n").encode()
    assert len(wide) < 1_048_576  # the whole header line is looked at and counted
    refused = import_bytes(data=wide, filename="bred.csv", by=org.office).errors[0]
    # The line's separators counted (never split into cells): the figure found, as a number.
    assert (refused["code"], refused["detail"]) == ("too_many_columns", "1000000")
    wide = (";".join(["x"] * 1_000_000) + "\n" + "SICK;unit-a1a;2019-03;4\n").encode()
    batch = import_bytes(data=wide, filename="bred.csv", by=org.office)
    assert batch.status == ImportStatus.FAILED
    assert [(e.row, e.code) for e in imports.batch_errors(batch)] == [(1, "too_many_columns")]
    # The limits' check (before any parsing, in the worker and the command) names the limit.
    path = tmp_path / "bred.csv"
    path.write_bytes(wide)
    refused = imports.check_limits(path, "bred.csv")
    assert refused is not None and (refused.row, refused.code) == (1, "too_many_columns")
    with translation.override("en"):
        assert f"At most {imports.MAX_COLUMNS} columns are read." in refused.message
    # The command refuses the same file the same way.
    err = StringIO()
    with pytest.raises(CommandError, match="refused"):
        call_command("import-kpi", str(path), "--dry-run", stdout=StringIO(), stderr=err)
    assert err.getvalue().startswith("rad 1: ") and refused.message in err.getvalue()


def test_a_header_line_longer_than_a_megabyte_is_refused(sick: Any, org: Any) -> None:
    data = ("Enhet;" + "x" * 2_000_000 + "\nunit-a1a;1\n").encode()
    batch = import_bytes(data=data, filename="lang.csv", by=org.office)
    # The limits' one pass names what it breaks first: a cell of the header line too long.
    assert [(e.row, e.code) for e in imports.batch_errors(batch)] == [(1, "cell_too_long")]


def test_a_file_with_some_extra_columns_is_still_read(sick: Any, org: Any) -> None:
    extra = ";".join(f"x{i}" for i in range(50))
    data = (f"Indikator;Enhet;Period;Värde;{extra}\nSICK;unit-a1a;2019-03;4;{extra}\n").encode()
    batch = import_bytes(data=data, filename="extra.csv", by=org.office)
    assert (batch.status, batch.created) == (ImportStatus.DONE, 1)
