"""``pejling import-kpi``: dry runs write nothing, bad files fail listing their rows, good files
print what they created and updated."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from pejling.indicators.models import (
    Aggregation,
    ImportBatch,
    ImportStatus,
    Indicator,
    IndicatorValue,
)
from tests.factories import IndicatorFactory

pytestmark = pytest.mark.django_db

GOOD = "Enhet;Period;Värde\nunit-a1a;2019-03;4,5\nunit-a1b;2019-03;2\nUnit A2a;2019-03;0\n"
BAD = "Enhet;Period;Värde\nunit-a1a;2019-03;4,5\nunit-zz;2019-03;2\nunit-a1b;2019-03;-1\nunit-a2a;2019Q1;1\n"


@pytest.fixture
def days(org: Any) -> Indicator:
    IndicatorFactory(code="FTE", aggregation=Aggregation.LATEST)
    return IndicatorFactory(code="SICK")


def write(tmp_path: Path, text: str, name: str = "sick.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: Any, **options: Any) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import-kpi", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_a_dry_run_checks_the_file_and_writes_nothing(days: Indicator, tmp_path: Path) -> None:
    out, _err = run(str(write(tmp_path, GOOD)), indicator="SICK", dry_run=True)
    assert "sick.csv" in out and "3 rows" in out and "dry run" in out
    assert IndicatorValue.objects.count() == 0
    assert ImportBatch.objects.count() == 0


def test_a_good_file_is_imported_and_the_counts_are_printed(
    days: Indicator, tmp_path: Path
) -> None:
    path = write(tmp_path, GOOD)
    out, _err = run(str(path), indicator="SICK")
    assert "Imported sick.csv: 3 values created, 0 updated." in out
    assert dict(IndicatorValue.objects.values_list("unit__code", "value")) == {
        "unit-a1a": Decimal("4.5"),
        "unit-a1b": Decimal(2),
        "unit-a2a": Decimal(0),
    }
    path.write_text(GOOD.replace("4,5", "5"), encoding="utf-8")
    out, _err = run(str(path), "--indicator", "SICK")
    assert "0 values created, 1 updated." in out
    assert IndicatorValue.objects.get(unit__code="unit-a1a").value == Decimal(5)
    assert ImportBatch.objects.filter(status=ImportStatus.DONE).count() == 2


def test_a_bad_file_fails_listing_every_bad_row_and_writes_nothing(
    days: Indicator, tmp_path: Path
) -> None:
    err = StringIO()
    with pytest.raises(CommandError, match=r"Nothing was imported: 3 bad rows in sick\.csv"):
        call_command(
            "import-kpi", str(write(tmp_path, BAD)), indicator="SICK", stdout=StringIO(), stderr=err
        )
    lines = err.getvalue().splitlines()
    # Places in the installation's language (Swedish), as the messages themselves.
    assert [line.split(":")[0] for line in lines] == [
        "rad 3, kolumn unit",
        "rad 4, kolumn value",
        "rad 5, kolumn period",
    ]
    assert "unit-zz" in lines[0]
    assert IndicatorValue.objects.count() == 0
    assert ImportBatch.objects.get().status == ImportStatus.FAILED


def test_a_bad_file_in_a_dry_run_fails_the_same_way(days: Indicator, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="3 bad rows"):
        run(str(write(tmp_path, BAD)), indicator="SICK", dry_run=True)
    assert IndicatorValue.objects.count() == 0


def test_the_file_may_name_the_indicator_in_a_column(days: Indicator, tmp_path: Path) -> None:
    text = "indicator,unit,period,value\nSICK,unit-a1a,2019-03,4.5\nFTE,unit-a1a,2019-03,2\n"
    out, _err = run(str(write(tmp_path, text)))
    assert "2 values created" in out
    assert IndicatorValue.objects.count() == 2


def test_the_importer_is_recorded(days: Indicator, org: Any, tmp_path: Path) -> None:
    run(str(write(tmp_path, GOOD)), indicator="SICK", user="office")
    assert ImportBatch.objects.get().created_by == org.office


def test_an_unknown_indicator_or_a_missing_file_is_an_error(
    days: Indicator, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="NOPE"):
        run(str(write(tmp_path, GOOD)), indicator="NOPE")
    with pytest.raises(CommandError, match="No such file"):
        run(str(tmp_path / "missing.csv"), indicator="SICK")
    assert IndicatorValue.objects.count() == 0
