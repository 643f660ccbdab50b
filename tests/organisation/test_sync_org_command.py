"""`pejling sync-org` and the scheduled OS2mo sync task."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import translation

from pejling.organisation.models import Unit, UnitLevel
from pejling.organisation.sync.tasks import sync_os2mo
from tests.factories import UserFactory
from tests.organisation.fake_os2mo import TOKEN, FakeOS2mo

pytestmark = pytest.mark.django_db


def run(*args: str, **settings: Any) -> tuple[str, str]:
    """The command's output; it speaks the installation's language (English unless given)."""
    settings.setdefault("LANGUAGE_CODE", "en")
    out, err = StringIO(), StringIO()
    with override_settings(**settings):
        call_command("sync-org", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_sync_org_from_os2mo_reads_the_url_and_token_from_the_settings(kolding: FakeOS2mo) -> None:
    UserFactory(username="office")

    out, _ = run(
        "--source",
        "os2mo",
        "--page-size",
        "25",
        "--user",
        "office",
        PEJLING_OS2MO_URL=kolding.url,
        PEJLING_OS2MO_TOKEN=TOKEN,
    )

    assert "84 created, 0 updated, 0 moved, 0 closed, 0 unchanged" in out
    assert Unit.objects.count() == 84
    assert Unit.history.filter(history_user__username="office").count() == 84


def test_sync_org_dry_run_lists_the_changes_and_writes_nothing(kolding: FakeOS2mo) -> None:
    out, _ = run(
        "--source",
        "os2mo",
        "--url",
        kolding.url,
        "--page-size",
        "25",
        "--date",
        "2027-01-01",
        "--dry-run",
        PEJLING_OS2MO_TOKEN=TOKEN,
    )

    assert "Dry run, nothing written: would be 84 created" in out
    assert "created  Kolding Kommune (Kolding Kommune)" in out
    assert kolding.requests[0]["body"]["variables"]["at"].startswith("2027-01-01")
    assert Unit.objects.count() == 0 and UnitLevel.objects.count() == 0


def test_sync_org_stops_on_the_unauthenticated_error(kolding: FakeOS2mo) -> None:
    with pytest.raises(CommandError, match=r"Nothing was changed: .*User is not authenticated"):
        run("--source", "os2mo", "--url", kolding.url, "--page-size", "25")
    assert Unit.objects.count() == 0


def test_sync_org_needs_an_os2mo_url() -> None:
    with pytest.raises(CommandError, match="PEJLING_OS2MO_URL"):
        run("--source", "os2mo", PEJLING_OS2MO_URL="")


def test_sync_org_takes_a_level_map(kolding: FakeOS2mo) -> None:
    run(
        "--source",
        "os2mo",
        "--url",
        kolding.url,
        "--page-size",
        "25",
        "--level",
        "N7=6",
        PEJLING_OS2MO_TOKEN=TOKEN,
    )
    assert not UnitLevel.objects.filter(depth=7).exists()
    with pytest.raises(CommandError, match="--level"):
        run("--source", "os2mo", "--url", kolding.url, "--level", "N7")


def test_sync_org_from_a_file(tmp_path: Path) -> None:
    UnitLevel.objects.create(depth=1, name="Kommun", name_plural="Kommuner")
    UnitLevel.objects.create(depth=2, name="Förvaltning", name_plural="Förvaltningar")
    good = tmp_path / "enheter.csv"
    good.write_text("Kod;Namn;Överordnad;Nivå\nKS;Kommunstyrelsen;;1\nBUF;Barn;KS;2\n")

    out, _ = run("--source", "file", str(good))

    assert "2 created" in out
    good.write_text("Kod;Namn;Överordnad;Nivå\nKS;Kommunstyrelsen;;1\n")
    out, _ = run("--source", "file", str(good), "--close-missing", "--dry-run")
    assert "would be 0 created, 0 updated, 0 moved, 1 closed, 1 unchanged" in out
    assert not Unit.objects.filter(closed_on__isnull=False).exists()


def test_sync_org_from_a_bad_file_lists_the_rows_and_changes_nothing(tmp_path: Path) -> None:
    UnitLevel.objects.create(depth=1, name="Kommun", name_plural="Kommuner")
    bad = tmp_path / "enheter.csv"
    bad.write_text("Kod;Namn;Överordnad;Nivå\nKS;Kommunstyrelsen;;1\nBUF;Barn;XX;7\n")
    err = StringIO()

    with (
        override_settings(LANGUAGE_CODE="en"),
        pytest.raises(CommandError, match=r"Nothing was changed: 2 errors in enheter\.csv"),
    ):
        call_command("sync-org", "--source", "file", str(bad), stderr=err)

    assert "row 3, column Nivå: No unit level has this depth or name. (7)" in err.getvalue()
    assert "row 3, column Överordnad:" in err.getvalue()
    assert Unit.objects.count() == 0


def test_sync_org_checks_its_arguments(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="needs the FILE"):
        run("--source", "file")
    with pytest.raises(CommandError, match="No such file"):
        run("--source", "file", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="go with --source file"):
        run("--source", "os2mo", "--close-missing")


def test_the_task_syncs_from_os2mo_when_it_is_configured(kolding: FakeOS2mo) -> None:
    with override_settings(PEJLING_OS2MO_URL=""):
        assert sync_os2mo.call() is None
    assert kolding.requests == []

    with override_settings(PEJLING_OS2MO_URL=kolding.url, PEJLING_OS2MO_TOKEN=TOKEN):
        # The recordings are pages of 25; the task uses the default page size, so serve one
        # page with every unit, as OS2mo does when the limit is larger than the organisation.
        everything = kolding.objects()
        first = kolding.pages[None]
        first["body"]["data"]["org_units"] = {
            "objects": everything,
            "page_info": {"next_cursor": None},
        }
        kolding.limits[None] = 100
        counts = sync_os2mo.call()

    assert counts is not None and counts["created"] == 84
    assert Unit.objects.count() == 84


def test_sync_org_speaks_the_installations_language(tmp_path: Path) -> None:
    """Whatever language the caller has active, the command writes PEJLING_LANGUAGE's."""
    UnitLevel.objects.create(depth=1, name="Kommun", name_plural="Kommuner")
    good = tmp_path / "enheter.csv"
    good.write_text("Kod;Namn;Överordnad;Nivå\nKS;Kommunstyrelsen;;1\n")

    with translation.override("en"):
        out, _ = run("--source", "file", str(good), "--dry-run", LANGUAGE_CODE="sv")
    assert re.search(r"^skapad +KS \(Kommunstyrelsen\)$", out, re.MULTILINE)
    assert (
        "Provkörning, inget skrivet. Det skulle bli: skapade: 1, uppdaterade: 0, flyttade: 0,"
        " nedlagda: 0, oförändrade: 0; 1 historikrad." in out
    )
    out, _ = run("--source", "file", str(good), LANGUAGE_CODE="da")
    assert "1 oprettet, 0 opdateret" in out and "; 1 historikrække" in out
    with pytest.raises(CommandError, match="Filen finnes ikke"):
        run("--source", "file", str(tmp_path / "mangler.csv"), LANGUAGE_CODE="nb")
    bad = tmp_path / "feil.csv"
    bad.write_text("Kod;Namn;Överordnad;Nivå\nKS;Kommunstyrelsen;;9\n")
    with pytest.raises(CommandError, match=r"Ingenting ble endret: 1 feil i feil\.csv"):
        run("--source", "file", str(bad), LANGUAGE_CODE="nb")


def test_the_summary_counts_history_rows_and_unit_levels_in_the_right_number() -> None:
    from pejling.organisation.sync.report import SyncReport

    report = SyncReport(source="file", created=1, history_rows=1)
    with translation.override("en"):
        assert report.summary() == (
            "1 created, 0 updated, 0 moved, 0 closed, 0 unchanged; 1 history row"
        )
        report.history_rows, report.levels_created = 2, 1
        assert report.summary().endswith("0 unchanged, 1 unit level created; 2 history rows")
    with translation.override("nb"):
        assert report.summary().endswith("1 enhetsnivå opprettet; 2 historikkrader")
