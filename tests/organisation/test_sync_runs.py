"""Every organisation sync run is recorded (``organisation/sync/runs.py``): from where, by
whom, when, how it ended, its counts and its first errors, whether it succeeded or not."""

from __future__ import annotations

import socket
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from pejling.organisation.models import SyncRun, SyncRunStatus, Unit, UnitLevel
from pejling.organisation.sync import runs as sync_runs
from pejling.organisation.sync import sync_from_file, sync_from_os2mo
from pejling.organisation.sync.os2mo import OS2moClient
from tests.factories import UserFactory
from tests.organisation.fake_os2mo import TOKEN, FakeOS2mo

pytestmark = pytest.mark.django_db

HEADER = "Kod;Namn;Överordnad;Nivå\n"
FIRST = HEADER + "KS;Kommunstyrelsen;;1\nBUF;Barn;KS;2\nSBF;Bygg;KS;2\n"
# BUF renamed, SBF moved under BUF, KS kept; a new unit; with --close-missing nothing closed.
SECOND = HEADER + "KS;Kommunstyrelsen;;1\nBUF;Barn och skola;KS;2\nSBF;Bygg;BUF;2\nNY;Ny;KS;2\n"


@pytest.fixture(autouse=True)
def levels() -> None:
    UnitLevel.objects.create(depth=1, name="Kommun", name_plural="Kommuner")
    UnitLevel.objects.create(depth=2, name="Förvaltning", name_plural="Förvaltningar")


def run_file(tmp_path: Path, text: str, *args: str) -> None:
    path = tmp_path / "enheter.csv"
    path.write_text(text)
    call_command("sync-org", "--source", "file", str(path), *args, stdout=StringIO())


def test_a_file_run_is_recorded_with_who_when_and_its_counts(tmp_path: Path) -> None:
    person = UserFactory(username="it-drift")
    run_file(tmp_path, FIRST, "--user", "it-drift")
    run_file(tmp_path, SECOND)
    run_file(tmp_path, HEADER + "KS;Kommunstyrelsen;;1\n", "--close-missing")
    third, second, first = SyncRun.objects.all()
    assert (first.source, first.filename, first.by, first.status) == (
        "file",
        "enheter.csv",
        person,
        SyncRunStatus.SUCCEEDED,
    )
    assert first.started_at <= first.finished_at
    counts = lambda run: (run.created, run.updated, run.moved, run.closed, run.unchanged)  # noqa: E731
    assert counts(first) == (3, 0, 0, 0, 0)
    assert counts(second) == (1, 1, 1, 0, 1)
    assert counts(third) == (0, 0, 0, 3, 1)
    assert second.by is None and not second.errors and second.error_count == 0


def test_a_refused_file_is_recorded_as_failed_with_its_first_errors(tmp_path: Path) -> None:
    bad = HEADER + "".join(f"X{n};X;NOPE;2\n" for n in range(30))
    with pytest.raises(CommandError):
        run_file(tmp_path, bad)
    run = SyncRun.objects.get()
    assert run.status == SyncRunStatus.FAILED
    assert run.error_count == 30 and len(run.errors) == SyncRun.FIRST_ERRORS
    first = sync_runs.run_errors(run)[0]
    assert (first.row, first.column, first.code) == (2, "Överordnad", "missing_parent")
    assert Unit.objects.count() == 0  # the run is kept, the units are not written


def test_a_dry_run_is_recorded_as_one(tmp_path: Path) -> None:
    run_file(tmp_path, FIRST, "--dry-run")
    run = SyncRun.objects.get()
    assert run.dry_run and run.created == 3 and Unit.objects.count() == 0


def test_a_file_over_the_size_limit_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pejling.organisation.sync import files

    monkeypatch.setattr(files, "MAX_FILE_BYTES", 10)
    with pytest.raises(CommandError):
        run_file(tmp_path, FIRST)
    run = SyncRun.objects.get()
    assert (run.status, [e.code for e in sync_runs.run_errors(run)]) == (
        SyncRunStatus.FAILED,
        ["file_too_large"],
    )


def test_an_os2mo_run_is_recorded_and_so_is_its_failure(kolding: FakeOS2mo) -> None:
    client = OS2moClient(kolding.url, token=TOKEN, page_size=25)
    report = sync_from_os2mo(client=client)
    run = SyncRun.objects.get()
    assert (run.source, run.status, run.created) == ("os2mo", SyncRunStatus.SUCCEEDED, 84)
    assert report.created == 84
    with translation.override("en"), pytest.raises(Exception, match="hierarchy label"):
        sync_from_os2mo(client=client, hierarchy="No such hierarchy")
    failed = SyncRun.objects.first()
    assert failed is not None and failed.status == SyncRunStatus.FAILED
    # Kept in no language: the code and what the message names.
    assert failed.errors == [
        {
            "row": None,
            "column": None,
            "code": "os2mo_unknown_hierarchy",
            "detail": "",
            "params": {"label": "'No such hierarchy'"},
        }
    ]


def test_an_unexpected_failure_is_recorded_and_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from pejling.organisation.sync import engine

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "apply", broken)
    with pytest.raises(RuntimeError):
        sync_from_file(data=FIRST.encode(), filename="enheter.csv")
    run = SyncRun.objects.get()
    assert run.status == SyncRunStatus.FAILED
    assert [(e.code, e.detail) for e in sync_runs.run_errors(run)] == [
        ("sync_failed", "RuntimeError")
    ]
    assert Unit.objects.count() == 0


def test_the_page_shows_the_runs_to_the_strategy_office_only(
    org: Any, tmp_path: Path, django_assert_max_num_queries: Any
) -> None:
    run_file(tmp_path, HEADER + "NY;Ny enhet;;1\n", "--dry-run")
    with pytest.raises(CommandError):
        run_file(tmp_path, HEADER + "".join(f"A{n};A;NOPE;2\n" for n in range(5)))
    client = Client(headers={"accept-language": "sv"})
    client.force_login(org.office)
    url = reverse("organisation:sync_runs")
    with django_assert_max_num_queries(8):
        page = client.get(url).content.decode()
    assert "enheter.csv" in page and "Misslyckades" in page and "Lyckades" in page
    # The first errors, translated, naming row and column.
    assert "rad 2, kolumn Överordnad:" in page
    assert "rad 4, kolumn Överordnad:" in page and "rad 5, kolumn Överordnad" not in page
    assert "5 fel totalt" in page  # the first three shown, all five counted
    # Units of the organisation's own list link to the page for the office only.
    assert url in client.get(reverse("organisation:unit_list")).content.decode()
    for person in (org.employee, org.executive):
        other = Client()
        other.force_login(person)
        assert other.get(url).status_code == 403
        assert url not in other.get(reverse("organisation:unit_list")).content.decode()


def test_a_failed_runs_errors_are_written_in_each_readers_language(
    org: Any, kolding: FakeOS2mo, tmp_path: Path
) -> None:
    """A run recorded in English (the nightly task, say) reads in Swedish to a Swedish reader
    and in Danish to a Danish one: the errors are kept in no language and written when shown."""
    with socket.socket() as sock:  # bound, never listening: nothing answers on its port
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with translation.override("en"), pytest.raises(Exception, match="Could not reach OS2mo"):
            sync_from_os2mo(client=OS2moClient(url, timeout=5))
    with translation.override("en"), pytest.raises(CommandError):
        run_file(tmp_path, HEADER + "A;A;NOPE;2\n")
    pages = {}
    for language in ("sv", "da"):
        client = Client(headers={"accept-language": language})
        client.force_login(org.office)
        pages[language] = client.get(reverse("organisation:sync_runs")).content.decode()
    endpoint = f"{url}/graphql/v29"
    assert f"Det gick inte att nå OS2mo på {endpoint}:" in pages["sv"]
    assert f"OS2mo på {endpoint} kunne ikke nås:" in pages["da"]
    assert "rad 2, kolumn Överordnad: Ingen enhet i filen eller i Pejling" in pages["sv"]
    assert "række 2, kolonne Överordnad: Ingen enhed i filen eller i Pejling" in pages["da"]
    for page in pages.values():
        assert "Could not reach" not in page and "No unit in the file" not in page


def test_a_run_recorded_before_os2mo_errors_had_codes_still_reads(org: Any) -> None:
    SyncRun.objects.create(
        source="os2mo",
        status=SyncRunStatus.FAILED,
        error_count=1,
        errors=[{"row": None, "column": None, "code": "os2mo_failed", "detail": "HTTP 502"}],
    )
    client = Client(headers={"accept-language": "sv"})
    client.force_login(org.office)
    page = client.get(reverse("organisation:sync_runs")).content.decode()
    assert "OS2mo kunde inte läsas; inget ändrades. (HTTP 502)" in page
