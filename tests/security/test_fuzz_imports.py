"""The file parsers and loaders take any bytes without an unexpected exception, and write
nothing when they report an error."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
import yaml
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pejling.indicators.models import ImportStatus, IndicatorValue
from pejling.indicators.sources.files import parse_csv_text, parse_table_file
from pejling.organisation.models import Unit
from pejling.organisation.sync.files import parse_unit_file
from pejling.organisation.sync.from_sources import sync_from_file
from pejling.packages.formats import PackageError, parse
from pejling.packages.loading import load_package
from pejling.strategy.models import Element, Strategy
from tests.indicators.files import import_bytes
from tests.security.test_fuzz_forms import row_counts

FUZZ = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NAMES = st.sampled_from(
    ["values.csv", "values.txt", "values.tsv", "values.xlsx", "values.xls", "values", "v.ods"]
)
SEPARATORS = st.sampled_from([";", ",", "\t", "|", " ", '"', "sep=;\n", ""])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])
CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["unit", "enhet", "period", "år", "value", "värde", "indicator", "2024"]),
    st.sampled_from(["14,9", "1 234,5", "1e400", "-3", "NaN", "2024M13", "2024Q4", '"', "\x00"]),
)


def _csv_text(draw: Any) -> str:
    sep = draw(SEPARATORS)
    rows = draw(st.lists(st.lists(CELLS, max_size=6), max_size=8))
    header = draw(st.sampled_from(["unit;period;value;indicator", "unit,period,value", ""]))
    return header + "\n" + "\n".join(sep.join(row) for row in rows)


@st.composite
def csv_files(draw: Any) -> bytes:
    text = _csv_text(draw)
    return text.encode(draw(ENCODINGS), errors="replace")


def xlsx_bomb(declared: int) -> bytes:
    """A tiny XLSX whose sheet XML declares ``declared`` bytes uncompressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    data = bytearray(buffer.getvalue())
    # Patch the declared uncompressed size of the sheet in its central directory entry.
    name = b"xl/worksheets/sheet1.xml"
    position = 0
    while (position := data.find(b"PK\x01\x02", position)) != -1:
        name_length = int.from_bytes(data[position + 28 : position + 30], "little")
        if bytes(data[position + 46 : position + 46 + name_length]) == name:
            data[position + 24 : position + 28] = declared.to_bytes(4, "little")
            break
        position += 4
    return bytes(data)


# KPI files ---------------------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=3000), name=NAMES)
@example(data=b"PK\x03\x04" + b"\x00" * 40, name="values")
@example(data=b"\xff\xfe\x00", name="values.csv")
def test_parse_table_file_takes_any_bytes(data: bytes, name: str) -> None:
    result = parse_table_file(data, name)
    for error in result.errors:
        assert error.code


@FUZZ
@given(data=csv_files(), name=st.sampled_from(["values.csv", "values.txt", "values"]))
def test_parse_table_file_takes_any_csv(data: bytes, name: str) -> None:
    result = parse_table_file(data, name, default_indicator="KPI")
    assert all(error.code for error in result.errors)


@FUZZ
@given(text=st.text(max_size=2000))
def test_parse_csv_text_takes_any_text(text: str) -> None:
    parse_csv_text(text)


def test_an_xlsx_declared_huge_is_refused_before_it_is_opened() -> None:
    bomb = xlsx_bomb(4_000_000_000)
    assert len(bomb) < 1000
    result = parse_table_file(bomb, "values.xlsx", max_uncompressed_bytes=100 * 1024 * 1024)
    assert [e.code for e in result.errors] == ["file_too_large"]
    assert not result.observations


@pytest.mark.django_db
def test_an_imported_xlsx_bomb_writes_no_values(org: Any) -> None:
    batch = import_bytes(data=xlsx_bomb(4_000_000_000), filename="values.xlsx", by=org.office)
    assert batch.status == ImportStatus.FAILED
    assert [e["code"] for e in batch.errors] == ["xlsx_too_large"]
    assert IndicatorValue.objects.count() == 0


@pytest.mark.django_db
def test_a_random_import_writes_all_or_nothing(org: Any) -> None:
    from tests.factories import IndicatorFactory

    IndicatorFactory(code="KPI")

    @FUZZ
    @given(data=st.one_of(csv_files(), st.binary(max_size=500)), name=NAMES)
    def run(data: bytes, name: str) -> None:
        with transaction.atomic():
            before = IndicatorValue.objects.count()
            batch = import_bytes(data=data, filename=name, by=org.office)
            if batch.status == ImportStatus.FAILED:
                assert IndicatorValue.objects.count() == before
            transaction.set_rollback(True)

    run()


# Organisation files -------------------------------------------------------------------------


@FUZZ
@given(data=st.one_of(st.binary(max_size=2000), csv_files()), name=NAMES)
def test_parse_unit_file_takes_any_bytes(data: bytes, name: str) -> None:
    result = parse_unit_file(data, name)
    assert all(error.code for error in result.errors)


def test_a_unit_file_declared_huge_is_refused() -> None:
    result = parse_unit_file(xlsx_bomb(4_000_000_000), "units.xlsx")
    assert [e.code for e in result.errors] == ["xlsx_too_large"]


UNIT_CELLS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["code", "name", "parent", "level", "closed_on", "exec", "unit-a1a", "1", "/"]),
)


@st.composite
def unit_files(draw: Any) -> bytes:
    header = draw(st.sampled_from(["code;name;parent;level", "kod;namn;överordnad;nivå", ""]))
    rows = draw(st.lists(st.lists(UNIT_CELLS, max_size=5), max_size=8))
    return (header + "\n" + "\n".join(";".join(r) for r in rows)).encode()


@pytest.mark.django_db
def test_a_random_unit_file_writes_nothing_when_it_has_errors(org: Any) -> None:
    @FUZZ
    @given(data=st.one_of(unit_files(), st.binary(max_size=500)), name=NAMES)
    def run(data: bytes, name: str) -> None:
        with transaction.atomic():
            before = row_counts()
            report = sync_from_file(data=data, filename=name, by=org.office)
            if report.errors:
                after = row_counts()
                # Only the record of the run, as failed (organisation/sync/runs.py).
                runs = after.pop("organisation.SyncRun") - before.pop("organisation.SyncRun")
                assert runs == 1 and after == before
            transaction.set_rollback(True)

    run()


# Packages ---------------------------------------------------------------------------------


yaml_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.floats(allow_nan=True)
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["format", "strategies", "units", "code", "title", "elements", "levels", "x"]
            ),
            children,
            max_size=4,
        ),
    ),
    max_leaves=20,
)


@pytest.mark.django_db
def test_a_random_package_is_refused_with_problems_and_writes_nothing(org: Any) -> None:
    @FUZZ
    @given(
        text=st.one_of(
            st.text(max_size=400),
            yaml_values.map(lambda v: yaml.safe_dump({"format": "pejling-package/1", "data": v})),
            yaml_values.map(yaml.safe_dump),
            st.sampled_from(["&a [*a, *a]", "!!python/object:os.system ls", "a: 1\na: 2", "{"]),
        ),
        fmt=st.sampled_from(["yaml", "json"]),
    )
    def run(text: str, fmt: str) -> None:
        with transaction.atomic():
            before = row_counts()
            try:
                load_package(parse(text, fmt=fmt))
            except PackageError as exc:
                assert exc.problems
                assert row_counts() == before
            transaction.set_rollback(True)

    run()
    assert Strategy.objects.count() == 0
    assert Element.objects.count() == 0
    assert Unit.objects.filter(code="exec").exists()
