"""Syncing the organisation from a CSV or Excel file: upsert by code, all or nothing."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest
from django.utils import timezone, translation

from pejling.agreements.models import Agreement
from pejling.organisation.models import Unit, UnitLevel
from pejling.organisation.sync import SyncReport, sync_from_file
from tests.conftest import Org
from tests.factories import AgreementFactory, UserFactory

pytestmark = pytest.mark.django_db

# Children before their parents, a level by name or by depth, no decimals anywhere.
SWEDISH = """\ufeffEnhetskod;Namn;Överordnad;Nivå;Stängd
BUF;Barn- och utbildningsförvaltningen;KS;Förvaltning;
BUF-FSK;Förskoleavdelningen;BUF;3;
KS;Kommunstyrelsen;;1;
SBF;Samhällsbyggnadsförvaltningen;KS;2;
SBF-GATA;Gatuavdelningen;SBF;Avdelning;2026-12-31
"""


@pytest.fixture
def levels() -> None:
    for depth, name, plural in (
        (1, "Kommunledning", "Kommunledningar"),
        (2, "Förvaltning", "Förvaltningar"),
        (3, "Avdelning", "Avdelningar"),
    ):
        UnitLevel.objects.create(depth=depth, name=name, name_plural=plural)


def tree() -> dict[str, tuple[str | None, str, str]]:
    """code -> (parent code, name, level name)."""
    units = {u.path: u for u in Unit.objects.select_related("level")}
    return {
        u.code: (
            units[u.path[: -Unit.steplen]].code if u.depth > 1 else None,
            u.name,
            u.level.name,
        )
        for u in units.values()
    }


def tree_is_sound() -> None:
    assert all(not problems for problems in Unit.objects.find_problems())


def sync(text: str, name: str = "units.csv", **kwargs: Any) -> SyncReport:
    return sync_from_file(data=text.encode("utf-8"), filename=name, **kwargs)


def test_a_swedish_semicolon_file_builds_the_tree(levels: None) -> None:
    office = UserFactory(username="office")

    report = sync_from_file(data=SWEDISH.encode("utf-8"), filename="enheter.csv", by=office)

    assert report.ok, report.errors
    assert (report.created, report.history_rows) == (5, 5)
    assert tree() == {
        "KS": (None, "Kommunstyrelsen", "Kommunledning"),
        "BUF": ("KS", "Barn- och utbildningsförvaltningen", "Förvaltning"),
        "BUF-FSK": ("BUF", "Förskoleavdelningen", "Avdelning"),
        "SBF": ("KS", "Samhällsbyggnadsförvaltningen", "Förvaltning"),
        "SBF-GATA": ("SBF", "Gatuavdelningen", "Avdelning"),
    }
    assert Unit.objects.get(code="SBF-GATA").closed_on == date(2026, 12, 31)
    assert Unit.history.filter(code="KS").get().history_user == office
    tree_is_sound()


def test_the_same_file_again_changes_nothing(levels: None) -> None:
    sync(SWEDISH)
    history = Unit.history.count()

    report = sync(SWEDISH)

    assert (report.created, report.updated, report.moved, report.unchanged) == (0, 0, 0, 5)
    assert Unit.history.count() == history


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (
            "Kode;Navn;Overordnet;Niveau\nKOM;Kommunen;;1\nSKOLE;Skole og Børn;KOM;2\n",
            "cp1252",
        ),
        (
            "Kode,Navn,Overordnet enhet,Nivå,Nedlagt\nKOM,Kommunen,,1,\n"
            "SKOLE,Skole og Børn,KOM,2,31.12.2026\n",
            "utf-8",
        ),
        (
            "Unit code\tName\tParent code\tLevel\tClosed on\nKOM\tKommunen\t\t1\t\n"
            "SKOLE\tSkole og Børn\tKOM\t2\t\n",
            "utf-16",
        ),
    ],
    ids=["danish-cp1252", "norwegian-comma", "english-tab-utf16"],
)
def test_danish_norwegian_and_english_headers_are_read(
    levels: None, text: str, encoding: str
) -> None:
    report = sync_from_file(data=text.encode(encoding), filename="units.csv")

    assert report.ok, report.errors
    assert tree() == {
        "KOM": (None, "Kommunen", "Kommunledning"),
        "SKOLE": ("KOM", "Skole og Børn", "Förvaltning"),
    }


def test_an_excel_file_with_numbers_and_dates_is_read(levels: None) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Enhetskod", "Namn", "Överordnad enhet", "Nivå", "Stängd"])
    sheet.append([100, "Kommunstyrelsen", None, 1, None])
    sheet.append([110, "Kultur", 100, 2, datetime(2026, 6, 30)])  # noqa: DTZ001 - Excel is naive
    buffer = io.BytesIO()
    workbook.save(buffer)

    report = sync_from_file(data=buffer.getvalue(), filename="enheter.xlsx")

    assert report.ok, report.errors
    assert tree() == {
        "100": (None, "Kommunstyrelsen", "Kommunledning"),
        "110": ("100", "Kultur", "Förvaltning"),
    }
    assert Unit.objects.get(code="110").closed_on == date(2026, 6, 30)


def test_a_second_file_renames_moves_and_closes_by_code_and_leaves_other_units(
    levels: None,
) -> None:
    sync(SWEDISH)
    moved = Unit.objects.get(code="BUF-FSK")
    agreement = AgreementFactory(unit=moved)

    report = sync(
        "Enhetskod;Namn;Överordnad;Nivå;Stängd\n"
        "BUF;Utbildningsförvaltningen;KS;2;\n"
        "BUF-FSK;Förskoleavdelningen;SBF;3;\n"
        "SBF-GATA;Gatuavdelningen;SBF;3;\n"
    )

    assert report.ok, report.errors
    assert (report.updated, report.moved, report.unchanged, report.closed) == (2, 1, 0, 0)
    assert tree()["BUF"][1] == "Utbildningsförvaltningen"
    assert tree()["BUF-FSK"][0] == "SBF"
    assert Unit.objects.get(code="SBF-GATA").closed_on is None  # an empty cell reopens
    assert Agreement.objects.get(pk=agreement.pk).unit_id == moved.pk
    assert Unit.objects.filter(closed_on__isnull=True).count() == 5  # KS and SBF untouched
    tree_is_sound()


def test_close_missing_end_dates_units_not_in_the_file(levels: None) -> None:
    sync(SWEDISH)
    agreement = AgreementFactory(unit=Unit.objects.get(code="BUF-FSK"))

    report = sync(
        "Enhetskod;Namn;Överordnad;Nivå\nKS;Kommunstyrelsen;;1\nSBF;Samhällsbyggnad;KS;2\n",
        close_missing=True,
    )

    assert report.ok, report.errors
    today = timezone.localdate()
    closed = dict(Unit.objects.values_list("code", "closed_on"))
    assert closed == {
        "KS": None,
        "SBF": None,
        "BUF": today,
        "BUF-FSK": today,
        "SBF-GATA": date(2026, 12, 31),  # already had its date
    }
    assert report.closed == 2
    assert Agreement.objects.get(pk=agreement.pk).unit.code == "BUF-FSK"


def test_a_parent_may_be_a_unit_already_in_pejling(org: Org) -> None:
    report = sync("code;name;parent;level\nunit-a1c;Unit A1c;dept-a1;4\n")

    assert report.ok, report.errors
    assert tree()["unit-a1c"] == ("dept-a1", "Unit A1c", "Unit")
    assert Unit.objects.filter(closed_on__isnull=False).count() == 0


def test_a_dry_run_writes_nothing(levels: None) -> None:
    report = sync(SWEDISH, dry_run=True)

    assert report.ok and report.created == 5 and report.dry_run
    assert Unit.objects.count() == 0 and Unit.history.count() == 0


BAD_FILES = {
    "missing parent": (
        "Enhetskod;Namn;Överordnad;Nivå\nKS;Kommunstyrelsen;;1\nBUF;Barn;XX;2\n",
        [(3, "Överordnad", "missing_parent")],
    ),
    "cycle": (
        "Enhetskod;Namn;Överordnad;Nivå\nKS;Kommunstyrelsen;;1\nA;A;B;2\nB;B;C;2\nC;C;A;2\n",
        [(3, "Överordnad", "cycle"), (4, "Överordnad", "cycle"), (5, "Överordnad", "cycle")],
    ),
    "own parent": (
        "Enhetskod;Namn;Överordnad;Nivå\nKS;Kommunstyrelsen;KS;1\n",
        [(2, "Överordnad", "cycle")],
    ),
    "duplicate code": (
        "Enhetskod;Namn;Överordnad;Nivå\nKS;Kommunstyrelsen;;1\nBUF;Barn;KS;2\nbuf;Bygg;KS;2\n",
        [(4, "Enhetskod", "duplicate_code")],
    ),
    "unknown level": (
        "Enhetskod;Namn;Överordnad;Nivå\nKS;Kommunstyrelsen;;1\nBUF;Barn;KS;Sektor\nSBF;Bygg;KS;9\n",
        [(3, "Nivå", "unknown_level"), (4, "Nivå", "unknown_level")],
    ),
    "empty cells and a bad date": (
        "Enhetskod;Namn;Överordnad;Nivå;Stängd\n;Utan kod;;1;\nKS;;;;31 december\n",
        [
            (2, "Enhetskod", "missing_value"),
            (3, "Namn", "missing_value"),
            (3, "Nivå", "missing_value"),
            (3, "Stängd", "bad_date"),
        ],
    ),
    "missing column": (
        "Enhetskod;Namn;Nivå\nKS;Kommunstyrelsen;1\n",
        [(1, "parent", "missing_column")],
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_a_bad_file_is_rejected_with_row_and_column_and_nothing_written(
    levels: None, case: str
) -> None:
    sync(SWEDISH)
    before = Unit.history.count()
    text, expected = BAD_FILES[case]

    report = sync(text, close_missing=True)

    assert [(e.row, e.column, e.code) for e in report.errors] == expected
    assert all(e.message and e.message != e.code for e in report.errors)
    assert Unit.history.count() == before
    assert Unit.objects.count() == 5 and not Unit.objects.filter(code__in=["A", "B", "C"]).exists()
    assert Unit.objects.filter(closed_on__isnull=True).count() == 4


def test_every_bad_row_is_reported_at_once(levels: None) -> None:
    report = sync(
        "Enhetskod;Namn;Överordnad;Nivå\n"
        "KS;Kommunstyrelsen;;1\n"
        "BUF;Barn;NOPE;2\n"
        "KS;Igen;;1\n"
        "SBF;Bygg;KS;Sektor\n"
        "X;X;Y;2\n"
        "Y;Y;X;2\n"
    )

    assert [(e.row, e.code) for e in report.errors] == [
        (3, "missing_parent"),
        (4, "duplicate_code"),
        (5, "unknown_level"),
        (6, "cycle"),
        (7, "cycle"),
    ]
    assert report.errors[-1].detail in ("X → Y → X", "Y → X → Y")
    assert Unit.objects.count() == 0


def test_a_cycle_through_units_already_in_pejling_is_found(org: Org) -> None:
    # centre-a would move under its own department.
    report = sync("code;name;parent;level\ncentre-a;Centre A;dept-a1;2\n")

    assert [(e.row, e.code) for e in report.errors] == [(2, "cycle")]
    assert tree()["centre-a"][0] == "exec"


def test_with_close_missing_a_parent_must_be_in_the_file(org: Org) -> None:
    report = sync("code;name;parent;level\nnew;New unit;dept-a1;4\n", close_missing=True)

    [error] = report.errors
    assert (error.row, error.column, error.code) == (2, "parent", "parent_not_in_file")
    with translation.override("en"):
        assert str(error) == (
            "row 2, column parent: This parent unit is not in the file, and units missing from"
            " the file are being closed. ('dept-a1')"
        )
    assert not Unit.objects.filter(closed_on__isnull=False).exists()


def test_unsupported_and_empty_files_are_errors(levels: None) -> None:
    assert [e.code for e in sync("", name="units.csv").errors] == ["empty_file"]
    assert [e.code for e in sync("x", name="units.xls").errors] == ["unsupported_format"]
    assert [e.code for e in sync("Kod;Namn;Överordnad;Nivå\n").errors] == ["empty_file"]
    # Not a workbook at all: our own words, the reader's (zipfile's English kept as the detail).
    [broken] = sync("not a zip", name="units.xlsx").errors
    assert (broken.code, broken.detail) == ("broken_workbook", "File is not a zip file")
    with translation.override("sv"):
        assert str(broken) == (
            "Filen kunde inte läsas som en Excelarbetsbok: den är skadad eller inte en xlsx-fil."
            " (File is not a zip file)"
        )
    [xls] = sync("x", name="units.xls").errors
    with translation.override("da"):
        assert str(xls) == (
            "Kun CSV- og Excel-filer (xlsx) kan læses: gem arket som CSV eller XLSX. ('units.xls')"
        )


def test_a_missing_column_names_the_headers_accepted_in_the_readers_language(
    levels: None,
) -> None:
    [error] = sync("Enhetskod;Namn;Nivå\nKS;Kommunstyrelsen;1\n").errors
    assert error.params["accepted"].startswith("parent: parent code, parent, parent unit")
    with translation.override("en"):
        assert "(unit code, name, parent code and level). Accepted headers include parent:" in (
            str(error)
        )
    with translation.override("nb"):
        assert "Godtatte overskrifter er blant andre parent: parent code" in str(error)


def test_the_changes_listed_are_in_the_active_language(levels: None) -> None:
    """What a dry run lists (``Change.detail``): written in the command's language, never kept."""
    sync(SWEDISH)
    moved = SWEDISH.replace(
        "SBF;Samhällsbyggnadsförvaltningen;KS;2;", "SBF;Samhällsbyggnad;BUF;2;"
    ).replace("2026-12-31", "")
    with translation.override("sv"):
        report = sync(moved, dry_run=True)
    details = {c.code: c.detail for c in report.changes}
    assert (
        details["SBF"]
        == "överordnad KS → BUF; namn Samhällsbyggnadsförvaltningen → Samhällsbyggnad"
    )
    assert details["SBF-GATA"] == "återöppnad"
    with translation.override("en"):
        report = sync(moved, dry_run=True)
    assert {c.code: c.detail for c in report.changes}["SBF-GATA"] == "reopened"
