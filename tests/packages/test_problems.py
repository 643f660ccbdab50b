"""A package with anything wrong is refused whole: every problem is named with its path in the
file, and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from pejling.packages.formats import PackageError, parse, render
from pejling.packages.loading import load_package
from tests.packages.helpers import EVERY_KIND, history_rows, load_text, row_counts

pytestmark = pytest.mark.django_db

Package = dict[str, Any]


def package() -> Package:
    return parse(EVERY_KIND.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def problems(data: Package) -> list[str]:
    with pytest.raises(PackageError) as caught:
        load_package(data)
    return [str(p) for p in caught.value.problems]


def plan(p: Package) -> Package:
    return p["strategies"][1]  # type: ignore[no-any-return]


def care_2026(p: Package) -> Package:
    return p["agreements"][1]  # type: ignore[no-any-return]


def _set(path: list[Any], value: Any) -> Callable[[Package], None]:
    def change(p: Package) -> None:
        target: Any = p
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path: list[Any]) -> Callable[[Package], None]:
    def change(p: Package) -> None:
        target: Any = p
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


T2_3 = ["strategies", 1, "elements", 1, "children", 2]
T1_1 = ["strategies", 1, "elements", 0, "children", 0]
TALKS = ["agreements", 1, "initiatives", 0]

CASES: list[tuple[str, Callable[[Package], None], str]] = [
    # Unknown references
    (
        "unknown element reference",
        _set([*T2_3, "references", 0], "digital:D9.9"),
        'strategies[1].elements[1].children[2].references[0]: unknown element "digital:D9.9"',
    ),
    (
        "unknown goal of an initiative",
        _set([*TALKS, "goals", 1], "plan:T9.9"),
        'agreements[1].initiatives[0].goals[1]: unknown element "plan:T9.9"',
    ),
    (
        "unknown strategy of a reference",
        _set([*TALKS, "goals", 1], "nothing:T1.2"),
        'agreements[1].initiatives[0].goals[1]: unknown strategy "nothing" in "nothing:T1.2"',
    ),
    (
        "unknown parent unit",
        _set(["units", 2, "parent"], "NOPE"),
        'units[2].parent: unknown unit "NOPE"',
    ),
    (
        "unknown unit of an agreement",
        _set(["agreements", 3, "unit"], "NOPE"),
        'agreements[3].unit: unknown unit "NOPE"',
    ),
    (
        "unknown unit of a membership",
        _set(["people", 1, "memberships", 0, "unit"], "NOPE"),
        'people[1].memberships[0].unit: unknown unit "NOPE"',
    ),
    (
        "unknown owner",
        _set([*TALKS, "owner"], "nobody"),
        'agreements[1].initiatives[0].owner: unknown person "nobody" (not in people)',
    ),
    (
        "unknown parent strategy",
        _set(["strategies", 2, "parent"], "nothing"),
        'strategies[2].parent: unknown strategy "nothing"',
    ),
    (
        "unknown indicator of a kpi goal",
        _set([*T1_1, "measure", "kpi", "indicator"], "NOPE"),
        'strategies[1].elements[0].children[0].measure.kpi.indicator: unknown indicator "NOPE"',
    ),
    (
        "unknown unit of a kpi goal",
        _set([*T1_1, "measure", "kpi", "unit"], "NOPE"),
        'strategies[1].elements[0].children[0].measure.kpi.unit: unknown unit "NOPE"',
    ),
    (
        "unknown scope strategy",
        _set(
            ["strategies", 1, "elements", 1, "children", 1, "measure", "derived", "scope_strategy"],
            "nothing",
        ),
        "strategies[1].elements[1].children[1].measure.derived.scope_strategy: "
        'unknown strategy "nothing"',
    ),
    (
        "unknown numerator",
        _set(["indicators", 4, "numerator"], "NOPE"),
        'indicators[4].numerator: unknown indicator "NOPE"',
    ),
    (
        "values of an unknown indicator",
        _set(["indicator_values", "NOPE"], [["TOWN", "2026", "1"]]),
        'indicator_values.NOPE: unknown indicator "NOPE"',
    ),
    (
        "value of an unknown unit",
        _set(["indicator_values", "DAYS", 1, 0], "NOPE"),
        'indicator_values.DAYS[1][0]: unknown unit "NOPE"',
    ),
    # Unknown level depths
    (
        "unknown unit level of a unit",
        _set(["units", 2, "level"], 9),
        "units[2].level: unknown unit level depth 9",
    ),
    (
        "unknown unit level of a rule",
        _set(["strategies", 1, "rules", 0, "unit_level"], 7),
        "strategies[1].rules[0].unit_level: unknown unit level depth 7",
    ),
    (
        "unknown unit level of a deadline",
        _set(["deadlines", 1, "unit_level"], 7),
        "deadlines[1].unit_level: unknown unit level depth 7",
    ),
    (
        "element below the last level of its strategy",
        _set([*T1_1, "children"], [{"code": "T1.1.1", "title": "Too deep"}]),
        "strategies[1].elements[0].children[0].children[0]: "
        "unknown level depth 3: the strategy has 2 levels",
    ),
    # Duplicates
    (
        "duplicate unit code",
        _set(["units", 5, "code"], "CARE"),
        'units[5].code: duplicate code "CARE"',
    ),
    (
        "duplicate element code",
        _set(["strategies", 1, "elements", 0, "children", 1, "code"], "T1.1"),
        'strategies[1].elements[0].children[1].code: duplicate code "T1.1"',
    ),
    (
        "duplicate strategy code",
        _set(["strategies", 2, "code"], "plan"),
        'strategies[2].code: duplicate code "plan"',
    ),
    (
        "duplicate indicator code",
        _set(["indicators", 1, "code"], "DAYS"),
        'indicators[1].code: duplicate code "DAYS"',
    ),
    (
        "duplicate unit level",
        _set(["unit_levels", 2, "depth"], 2),
        "unit_levels[2].depth: duplicate depth 2",
    ),
    (
        "duplicate username",
        _set(["people", 1, "username"], "anna"),
        'people[1].username: duplicate username "anna"',
    ),
    (
        "duplicate role",
        _set(["people", 0, "memberships", 1, "role"], "member"),
        "people[0].memberships[1]: duplicate role member on unit CARE",
    ),
    (
        "duplicate agreement",
        _set(["agreements", 2, "unit"], "CARE"),
        "agreements[2]: duplicate agreement for unit CARE and year 2026",
    ),
    (
        "duplicate initiative title",
        _set([*TALKS, "title"], "Shared night rota"),
        'agreements[1].initiatives[1].title: duplicate title "Shared night rota"',
    ),
    (
        "duplicate deadline",
        _set(["deadlines", 2, "title"], "Centres' agreements"),
        'deadlines[2].title: duplicate deadline "Centres\' agreements" in 2026',
    ),
    (
        "duplicate rule",
        _set(
            ["strategies", 1, "rules", 1, "name"],
            "Every centre has an initiative under every theme",
        ),
        'strategies[1].rules[1].name: duplicate rule "Every centre has an initiative under every theme"',
    ),
    (
        "duplicate value",
        _set(["indicator_values", "DAYS", 1, 1], "2026M01"),
        "indicator_values.DAYS[1]: duplicate value for unit CARE-HOME and period 2026-01",
    ),
    # Cycles
    (
        "cycle in unit parents",
        _set(["units", 0, "parent"], "CARE-HOME"),
        "units[0].parent: cycle in parents: TOWN → CARE-HOME → CARE → TOWN",
    ),
    (
        "cycle in strategy parents",
        _set(["strategies", 0, "parent"], "plan"),
        "strategies[0].parent: cycle in parents: vision → plan → vision",
    ),
    (
        "indicator computed from itself",
        _set(["indicators", 0, "weight"], "SICK"),
        "indicators[0]: cycle in indicators: DAYS → SICK → DAYS",
    ),
    # Bad periods and values
    (
        "bad period",
        _set(["indicator_values", "DAYS", 0, 1], "2026-13"),
        "indicator_values.DAYS[0][1]: bad period: '2026-13' is not a period: "
        "A month number must be between 1 and 12, not 13.",
    ),
    (
        "period of another periodicity",
        _set(["indicator_values", "DAYS", 0, 1], "2026Q1"),
        "indicator_values.DAYS[0][1]: The period does not match the indicator's periodicity. "
        "(2026Q1 is not a month period)",
    ),
    (
        "values of a ratio",
        _set(["indicator_values", "SICK"], [["TOWN", "2026-01", "1"]]),
        "indicator_values.SICK: A ratio is computed from its numerator and denominator: "
        "it takes no values.",
    ),
    (
        "negative value",
        _set(["indicator_values", "DAYS", 2, 2], "-1"),
        "indicator_values.DAYS[2][2]: The value is negative; this indicator only takes values "
        "of zero or more.",
    ),
    (
        "too many decimals",
        _set([*T1_1, "measure", "target_value"], "13.12345"),
        "strategies[1].elements[0].children[0].measure.target_value: 13.12345 does not fit: "
        "at most 10 digits before the decimal point and 4 after it",
    ),
    # Rules the database keeps
    (
        "ratio without a denominator",
        _delete(["indicators", 4, "denominator"]),
        "indicators[4]: A ratio needs a numerator and a denominator.",
    ),
    (
        "weighted mean without a weight",
        _delete(["indicators", 3, "weight"]),
        "indicators[3]: A weighted mean needs a weight measure.",
    ),
    (
        "strategy ending before it starts",
        _set(["strategies", 2, "end_year"], 2020),
        "strategies[2].end_year: The last year cannot be before the first year.",
    ),
    (
        "initiative ending before it starts",
        _set([*TALKS, "end"], "2026-01-01"),
        "agreements[1].initiatives[0].end: The end cannot be before the start.",
    ),
    (
        "target before the baseline",
        _set([*T1_1, "measure", "target_date"], "2025-01-01"),
        "strategies[1].elements[0].children[0].measure.target_date: "
        "The target date cannot be before the baseline date.",
    ),
    (
        "initiative linked to a theme",
        _set([*TALKS, "goals", 1], "plan:T1"),
        "agreements[1].initiatives[0].goals[1]: “A healthy workplace” is a theme, not a goal.",
    ),
    (
        "initiative linked to a goal of a strategy for other years",
        _set(["agreements", 0, "initiatives", 0, "goals"], ["plan:T1.1"]),
        "agreements[0].initiatives[0].goals[0]: “Sick leave falls to 13.5 days” belongs to "
        "Group plan 2026 (2026), which does not cover 2025.",
    ),
    (
        "element referencing an element of its own strategy",
        _set([*T2_3, "references", 0], "plan:T1.1"),
        "strategies[1].elements[1].children[2].references: "
        "An element can only reference elements of other strategies.",
    ),
    (
        "agreement of another year than the package",
        _set(["year"], 2026),
        "agreements[0].year: 2025 is not the package's year 2026",
    ),
    # Schema violations
    (
        "missing required field",
        _delete([*T1_1, "title"]),
        "strategies[1].elements[0].children[0]: 'title' is a required property",
    ),
    (
        "unknown field",
        _set(["units", 0, "colour"], "blue"),
        "units[0]: Additional properties are not allowed ('colour' was unexpected)",
    ),
    (
        "wrong type",
        _set(["units", 1, "level"], "two"),
        "units[1].level: 'two' is not of type 'integer'",
    ),
    (
        "not a date",
        _set([*TALKS, "start"], "2026-02-30"),
        "agreements[1].initiatives[0].start: '2026-02-30' is not a 'date'",
    ),
    (
        "unknown status",
        _set([*TALKS, "status"], "stalled"),
        "agreements[1].initiatives[0].status: 'stalled' is not one of "
        "['planned', 'started', 'on_track', 'at_risk', 'off_track', 'done', 'evaluated', "
        "'cancelled']",
    ),
    (
        "not a decimal",
        _set(["indicator_values", "DAYS", 0, 2], "12,5"),
        "indicator_values.DAYS[0][2]: '12,5' does not match '^-?[0-9]+(\\\\.[0-9]+)?$'",
    ),
    (
        "reference without its strategy",
        _set([*T2_3, "references", 0], "D1.1"),
        "strategies[1].elements[1].children[2].references[0]: 'D1.1' does not match "
        "'^[^\\\\s:]([^:]*[^\\\\s:])?:[^\\\\s:]([^:]*[^\\\\s:])?$'",
    ),
    (
        "wrong format",
        _set(["format"], "pejling-package/9"),
        "format: 'pejling-package/1' was expected",
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_kind_of_problem_is_named_with_its_path_in_the_file(change, expected):
    data = package()
    change(data)
    assert expected in problems(data)


def test_the_unchanged_package_has_no_problems():
    load_package(package())


def test_every_problem_in_a_package_is_reported_at_once():
    data = package()
    _set(["units", 2, "level"], 9)(data)
    _set([*T2_3, "references", 0], "digital:D9.9")(data)
    _set(["indicator_values", "DAYS", 0, 1], "2026Q1")(data)
    _set([*TALKS, "owner"], "nobody")(data)
    assert problems(data) == [
        "units[2].level: unknown unit level depth 9",
        'strategies[1].elements[1].children[2].references[0]: unknown element "digital:D9.9"',
        'agreements[1].initiatives[0].owner: unknown person "nobody" (not in people)',
        "indicator_values.DAYS[0][1]: The period does not match the indicator's periodicity. "
        "(2026Q1 is not a month period)",
    ]


def test_schema_violations_are_all_reported_before_references_are_checked():
    data = package()
    _delete(["units", 0, "name"])(data)
    _set(["strategies", 0, "levels"], [])(data)
    _set([*TALKS, "goals", 0], "plan:T9.9")(data)  # not reported: the structure is wrong
    assert problems(data) == [
        "units[0]: 'name' is a required property",
        "strategies[0].levels: [] should be non-empty",
    ]


def test_nothing_is_written_when_anything_is_wrong():
    load_text(EVERY_KIND.read_text(encoding="utf-8"))
    before, history = row_counts(), history_rows()
    data = package()
    data["units"].append({"code": "NEW", "name": "New unit", "level": 2, "parent": "TOWN"})
    _set([*T1_1, "title"], "A new title")(data)
    _set(["indicator_values", "DAYS", 0, 2], "99")(data)
    _set(["indicator_values", "FTE", 0, 1], "2026-13")(data)  # the one problem
    assert len(problems(data)) == 1
    assert row_counts() == before
    assert history_rows() == history


def test_a_problem_found_only_by_the_database_rolls_back_everything(monkeypatch):
    """Should a write fail after the checks, the transaction takes everything back."""
    from pejling.packages import loading

    def fail(self: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(loading.Writer, "write_deadlines", fail)
    with pytest.raises(RuntimeError):
        load_package(package())
    assert not any(row_counts().values())


@pytest.mark.parametrize(
    ("skipped_check", "change", "expected"),
    [
        (
            "check_initiative",
            _set(["agreements", 0, "initiatives", 0, "goals"], ["plan:T1.1"]),
            "agreements[0].initiatives[0].goals: “Sick leave falls to 13.5 days” belongs to "
            "Group plan 2026 (2026), which does not cover 2025.",
        ),
        (
            "check_references",
            _set([*T2_3, "references", 0], "plan:T1.1"),
            "strategies[1].elements[1].children[2].references: "
            "An element can only reference elements of other strategies.",
        ),
        (
            "check_measure",
            _set([*T1_1, "measure", "target_date"], "2025-01-01"),
            "strategies[1].elements[0].children[0]: "
            "target_date: The target date cannot be before the baseline date.",
        ),
    ],
    ids=["goal of a strategy not covering the year", "reference in the same strategy", "dates"],
)
def test_the_domain_services_refuse_what_the_checks_miss_with_its_path(
    monkeypatch, skipped_check, change, expected
):
    """The loader writes through the domain services: with one of its checks switched off, the
    service still refuses the broken object, named with its path, and nothing is written."""
    from pejling.packages.loading import Checker

    monkeypatch.setattr(Checker, skipped_check, lambda self, *args: None)
    data = package()
    change(data)
    assert problems(data) == [expected]
    assert not any(row_counts().values())


def test_a_refusal_by_a_service_on_reload_leaves_the_loaded_package_as_it_was(monkeypatch):
    from pejling.packages.loading import Checker

    load_text(EVERY_KIND.read_text(encoding="utf-8"))
    before, history = row_counts(), history_rows()
    monkeypatch.setattr(Checker, "check_initiative", lambda self, *args: None)
    data = package()
    _set(["units", 1, "name"], "A new name")(data)
    _set(["agreements", 0, "initiatives", 0, "goals"], ["plan:T1.1"])(data)
    assert len(problems(data)) == 1
    assert row_counts() == before
    assert history_rows() == history


def test_the_load_command_prints_every_problem_and_fails(tmp_path):
    data = package()
    _set(["units", 2, "level"], 9)(data)
    _set([*TALKS, "goals", 1], "plan:T9.9")(data)
    source = tmp_path / "broken.yaml"
    source.write_text(render(data), encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match=r"2 problems; nothing was written"):
        call_command("load", str(source), stderr=err, stdout=StringIO())
    assert err.getvalue().splitlines() == [
        "units[2].level: unknown unit level depth 9",
        'agreements[1].initiatives[0].goals[1]: unknown element "plan:T9.9"',
    ]
    assert not any(row_counts().values())


def test_the_pejling_load_command_exits_non_zero_on_a_broken_file(tmp_path):
    data = package()
    _set(["units", 0, "parent"], "CARE-HOME")(data)
    source = tmp_path / "broken.json"
    source.write_text(render(data, fmt="json"), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": "", "PEJLING_DATA_DIR": str(tmp_path)}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pejling", "load", str(source)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode != 0
    assert "units[0].parent: cycle in parents: TOWN → CARE-HOME → CARE → TOWN" in done.stderr
    assert "1 problem; nothing was written" in done.stderr


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("format: [unclosed\n", "yaml", "line 2: not valid YAML"),
        ("format: a\nformat: b\n", "yaml", "line 2: not valid YAML: found duplicate key 'format'"),
        ('{"format": 1,}', "json", "line 1: not valid JSON"),
        ('{"format": 1, "format": 2}', "json", "not valid JSON: duplicate key 'format'"),
    ],
    ids=["yaml syntax", "yaml duplicate key", "json syntax", "json duplicate key"],
)
def test_a_file_that_does_not_parse_is_refused_with_its_line(text, fmt, expected):
    with pytest.raises(PackageError) as caught:
        parse(text, fmt=fmt)
    assert str(caught.value).startswith(expected)


def test_a_package_that_is_not_a_mapping_is_refused():
    assert problems([]) == ["(top level): [] is not of type 'object'"]  # type: ignore[arg-type]
