"""The JSON-stat reader against every recorded json-stat.org sample (no database).

Expected values were read off the raw files by hand: flat index = sum of
category position x stride, last dimension fastest.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from pejling.indicators.sources.dataset_observations import observations_from_dataset
from pejling.indicators.sources.jsonstat import (
    JsonStatError,
    collection_links,
    iter_values,
    read_dataset,
    read_datasets,
)
from pejling.indicators.sources.records import Period

FIXTURES = Path(
    os.environ.get("PEJLING_FIXTURES", Path(__file__).resolve().parents[3] / "shared" / "fixtures")
)
SAMPLES = FIXTURES / "jsonstat"

# The recorded fixtures live in shared/ beside the repository; a missing folder is an error.
assert SAMPLES.is_dir(), f"recorded fixtures not found in {FIXTURES}"


def needs_fixtures(test):
    return test


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@needs_fixtures
def test_every_sample_file_is_read_or_listed() -> None:
    names = sorted(p.name for p in SAMPLES.glob("*.json"))
    assert names == [
        "canada.json",
        "collection.json",
        "galicia.json",
        "hierarchy.json",
        "oecd-canada-col.json",
        "oecd.json",
        "order.json",
        "us-gsp.json",
    ]
    for name in names:
        datasets = read_datasets(sample(name))
        for dataset in datasets:
            assert sum(1 for _ in dataset.cells()) == len(dataset)


@needs_fixtures
def test_it_reads_oecd_with_dict_indexes_and_sparse_status() -> None:
    dataset = read_dataset(sample("oecd.json"))
    assert dataset.ids == ("concept", "area", "year")
    assert dataset.sizes == (1, 36, 12)
    assert dataset.get(area="AU", year="2003") == Decimal("5.943826289")
    assert dataset.get(concept="UNR", area="AT", year="2004") == Decimal("4.939707755")
    assert dataset.get(area="AU", year="2013") == Decimal("5.50415003")
    assert dataset.status_at(10) == "e"
    assert dataset.status_at(0) is None
    assert dataset.dimensions["concept"].categories == ("UNR",)  # no index: one label
    assert dataset.dimensions["concept"].units["UNR"]["decimals"] == 9
    assert dataset.dimensions_with_role("geo") == ("area",)


@needs_fixtures
def test_it_orders_canada_by_id_not_by_the_dimension_object() -> None:
    dataset = read_dataset(sample("canada.json"))
    assert dataset.ids == ("country", "year", "age", "concept", "sex")
    assert dataset.get(age="T", concept="POP", sex="T") == Decimal("34880.5")
    assert dataset.get(age="4", concept="PERCENT", sex="F") == Decimal("5.3")
    assert dataset.get(age="older", concept="POP", sex="M") == Decimal("73.2")
    assert dataset.status_at(0) == dataset.status_at(119) == "a"  # one status for all


@needs_fixtures
def test_it_reads_galicia_list_indexes() -> None:
    dataset = read_dataset(sample("galicia.json"))
    common = {"birth": "T", "age": "T", "gender": "T"}
    assert dataset.get(**common, time="2001", residence="T") == 2695880
    assert dataset.get(**common, time="2001", residence="15") == 1096027
    assert dataset.get(**common, time="2011", residence="T") == 2772928
    assert dataset.dimensions["residence"].label_of("15") == "A Coruña"


@needs_fixtures
def test_it_reads_a_sparse_value_object() -> None:
    dataset = read_dataset(sample("hierarchy.json"))
    assert len(dataset) == 132
    assert dataset.get(commodity="T") is None
    assert all(cell.value is None for cell in dataset.cells())


@needs_fixtures
def test_order_sample_proves_row_major_order() -> None:
    dataset = read_dataset(sample("order.json"))
    mismatches = [
        (categories, value)
        for categories, value in iter_values(dataset)
        if value != f"A{categories['A']}B{categories['B']}C{categories['C']}"
    ]
    # The published sample has one typo: cell 11 (A2 B1 C4) reads "A1B1C4".
    assert mismatches == [({"A": "2", "B": "1", "C": "4"}, "A1B1C4")]
    assert dataset.get(A="2", B="1", C="3") == "A2B1C3"


@needs_fixtures
def test_it_reads_us_gsp() -> None:
    dataset = read_dataset(sample("us-gsp.json"))
    assert dataset.get(state="01", concept="gsp") == 174400
    assert dataset.get(state="01", concept="pop") == Decimal("4.8")
    assert dataset.get(state="02", concept="pop") == Decimal("0.7")


@needs_fixtures
def test_a_collection_of_links_has_no_embedded_dataset() -> None:
    assert read_datasets(sample("collection.json")) == []
    links = collection_links(sample("collection.json"))
    assert len(links) == 8
    assert links[0] == "http://json-stat.org/samples/oecd.json"


@needs_fixtures
def test_a_collection_can_embed_datasets() -> None:
    oecd, canada = read_datasets(sample("oecd-canada-col.json"))
    assert oecd.name == "https://json-stat.org/samples/oecd.json"
    assert oecd.get(area="AU", year="2003") == Decimal("5.943826289")
    assert canada.get(age="older", concept="POP", sex="M") == Decimal("73.2")


@needs_fixtures
def test_iter_values_yields_category_dicts_and_values() -> None:
    first = next(iter_values(sample("us-gsp.json")))
    assert first == ({"year": "2013", "state": "01", "concept": "gsp"}, 174400)


@needs_fixtures
def test_decoded_json_floats_become_exact_decimals() -> None:
    data = json.loads(sample("oecd.json"))
    dataset = read_dataset(data)
    assert dataset.get(area="AU", year="2003") == 5.943826289
    result = observations_from_dataset(
        dataset, indicator="unr", time="year", region="area", filters={"concept": "UNR"}
    )
    assert result.observations[0].value == Decimal("5.943826289")


@needs_fixtures
def test_observations_from_oecd() -> None:
    result = observations_from_dataset(
        read_dataset(sample("oecd.json")), indicator="unr", time="year", region="area"
    )
    assert result.ok
    assert len(result.observations) == 432
    se_2010 = next(o for o in result.observations if o.unit == "SE" and o.period == Period(2010))
    assert se_2010.value == Decimal(read_dataset(sample("oecd.json")).get(area="SE", year="2010"))


@needs_fixtures
def test_an_unfiltered_dimension_with_several_categories_is_ambiguous() -> None:
    result = observations_from_dataset(
        read_dataset(sample("canada.json")), indicator="pop", time="year", unit="CA"
    )
    assert [(e.column, e.code) for e in result.errors] == [
        ("age", "ambiguous_dimension"),
        ("concept", "ambiguous_dimension"),
        ("sex", "ambiguous_dimension"),
    ]


@needs_fixtures
def test_filters_pick_one_cell_per_period() -> None:
    result = observations_from_dataset(
        read_dataset(sample("canada.json")),
        indicator="pop",
        time="year",
        unit="CA",
        filters={"age": "T", "concept": "POP", "sex": "F"},
    )
    assert [(o.unit, o.period, o.value) for o in result.observations] == [
        ("CA", Period(2012), Decimal("17571.3"))
    ]


@needs_fixtures
def test_unknown_dimensions_and_categories_name_the_dimension() -> None:
    dataset = read_dataset(sample("canada.json"))
    missing = observations_from_dataset(dataset, indicator="p", time="Tid", unit="CA")
    assert [(e.row, e.column, e.code) for e in missing.errors] == [(None, "Tid", "missing_column")]
    unknown = observations_from_dataset(
        dataset,
        indicator="p",
        time="year",
        unit="CA",
        filters={"age": "T", "concept": "POP", "sex": "X"},
    )
    assert [(e.column, e.code) for e in unknown.errors] == [("sex", "unknown_category")]


@needs_fixtures
def test_non_numeric_values_are_errors_and_non_periods_too() -> None:
    result = observations_from_dataset(
        read_dataset(sample("order.json")),
        indicator="x",
        time="C",
        region="A",
        filters={"B": "1"},
    )
    assert {e.code for e in result.errors} == {"unknown_period"}
    assert result.errors[0].column == "C"


def test_it_reads_a_jsonstat_1_bundle_and_rejects_broken_ones() -> None:
    bundle = {
        "a": {
            "dimension": {
                "id": ["Region", "Tid"],
                "size": [2, 1],
                "role": {"time": ["Tid"], "geo": ["Region"]},
                "Region": {"category": {"index": {"0301": 0, "1103": 1}}},
                "Tid": {"category": {"index": {"2022M03": 0}}},
            },
            "value": {"1": 14.9},
            "status": {"0": ".."},
        }
    }
    dataset = read_dataset(bundle)
    assert dataset.name == "a"
    result = observations_from_dataset(dataset, indicator="k", time="Tid", region="Region")
    assert [(o.unit, o.period, o.value) for o in result.observations] == [
        ("1103", Period(2022, "month", 3), Decimal("14.9"))
    ]
    assert [(s.code, "'..'" in s.message) for s in result.skipped] == [("null_value", True)]

    broken = json.loads(json.dumps(bundle))
    broken["a"]["dimension"]["size"] = [3, 1]
    with pytest.raises(JsonStatError):
        read_dataset(broken)
    short = json.loads(json.dumps(bundle))
    short["a"]["value"] = [1]
    with pytest.raises(JsonStatError):
        read_dataset(short)
    with pytest.raises(JsonStatError):
        read_dataset({"class": "dimension"})
    with pytest.raises(JsonStatError):
        read_dataset([1, 2])


def test_two_regions_mapped_to_one_code_are_duplicates() -> None:
    dataset = read_dataset(
        {
            "version": "2.0",
            "class": "dataset",
            "id": ["r", "t"],
            "size": [2, 1],
            "dimension": {
                "r": {"category": {"index": ["a", "b"]}},
                "t": {"category": {"index": ["2020"]}},
            },
            "value": [1, 2],
        }
    )
    result = observations_from_dataset(
        dataset, indicator="k", time="t", region="r", region_codes={"a": "X", "b": "X"}
    )
    assert [(e.column, e.code) for e in result.errors] == [("r", "duplicate_row")]
    unmapped = observations_from_dataset(
        dataset, indicator="k", time="t", region="r", region_codes={"a": "X"}
    )
    assert [(e.column, e.code) for e in unmapped.errors] == [("r", "unknown_unit")]
    assert len(unmapped.observations) == 1
