"""Loading a package: everything it describes lands in the database, a second load changes
nothing, an edited package changes what was edited, and dump gives the file back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from pejling.agreements.models import Agreement, AgreementState, Initiative, InitiativeGoal
from pejling.followup.models import Deadline, DerivedGoal, GoalAssessment
from pejling.indicators.models import Aggregation, Indicator, IndicatorValue, KpiGoal
from pejling.organisation.models import Membership, Role, Unit
from pejling.packages.formats import parse, render, schema_problems
from pejling.strategy.models import AgreementRule, Element, MeasureKind, Strategy
from tests.factories import StatusReportFactory
from tests.packages.helpers import (
    EVERY_KIND,
    dump_command,
    dump_text,
    empty_the_database,
    history_rows,
    load_text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_kind() -> str:
    return EVERY_KIND.read_text(encoding="utf-8")


@pytest.fixture
def loaded(every_kind: str) -> str:
    load_text(every_kind)
    return every_kind


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_package_with_every_kind_of_element_follows_the_schema(every_kind):
    assert schema_problems(parse(every_kind)) == []


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_package_with_every_kind_of_element_round_trips_byte_for_byte(every_kind, fmt):
    load_text(every_kind)
    assert dump_text() == every_kind
    as_other_format = dump_text(fmt=fmt)
    empty_the_database()
    load_text(as_other_format, fmt=fmt)
    assert dump_text(fmt=fmt) == as_other_format
    assert dump_text() == every_kind


def test_loading_writes_the_organisation_people_and_indicators(loaded):
    town = Unit.objects.get(code="TOWN")
    assert town.description == "Where the\nexecutive board meets."
    home = Unit.objects.get(code="CARE-HOME")
    assert home.level.depth == 3
    assert home.path.startswith(Unit.objects.get(code="CARE").path)
    assert Unit.objects.get(code="OLD").closed_on == date(2025, 6, 30)
    assert Unit.objects.find_problems() == ([], [], [], [], [])
    anna = get_user_model().objects.get(username="anna")
    assert not anna.has_usable_password()
    acting = Membership.objects.get(user=anna, unit__code="SCHOOL")
    assert (acting.role, acting.ends_on) == (Role.UNIT_HEAD, date(2026, 8, 31))
    sick = Indicator.objects.get(code="SICK")
    assert sick.aggregation == Aggregation.RATIO
    assert (sick.numerator.code, sick.denominator.code, sick.scale) == ("DAYS", "FTE", 12)
    assert Indicator.objects.get(code="SATISFACTION").weight.code == "FTE"
    result = IndicatorValue.objects.get(indicator__code="RESULT")
    assert (result.period, result.value) == ("2025", Decimal("-1250000.5"))
    quarter = IndicatorValue.objects.get(indicator__code="SATISFACTION", period="2026Q2")
    assert (quarter.period_start, quarter.period_end) == (date(2026, 4, 1), date(2026, 6, 30))


def test_loading_writes_every_kind_of_goal_rules_and_references(loaded):
    plan = Strategy.objects.get(code="plan")
    assert plan.parent.code == "vision"
    kpi = Element.objects.get(strategy=plan, code="T1.1")
    assert (kpi.measure_kind, kpi.baseline_value, kpi.target_value) == (
        MeasureKind.KPI,
        Decimal("14.9"),
        Decimal("13.5"),
    )
    assert (kpi.kpi.indicator.code, kpi.kpi.unit) == ("SICK", None)
    assert KpiGoal.objects.get(goal__code="T1.2").unit.code == "CARE-HOME"
    count = DerivedGoal.objects.get(goal__code="T2.1")
    assert (count.counts, count.statuses) == ("initiatives", ["done", "evaluated"])
    coverage = DerivedGoal.objects.get(goal__code="T2.2")
    assert (coverage.unit_level.depth, coverage.scope_strategy.code) == (2, "digital")
    assert Element.objects.get(code="T2.3").measure_kind == MeasureKind.ASSESSED
    assert {e.code for e in Element.objects.get(code="T2").references.all()} == {"B1", "B2"}
    rules = {r.name: r for r in AgreementRule.objects.filter(strategy=plan)}
    assert {r.unit_level.depth for r in rules.values()} == {2, 3}
    assert [r.active for r in rules.values()].count(False) == 1


def test_loading_writes_agreements_initiatives_and_deadlines(loaded):
    care = Agreement.objects.get(unit__code="CARE", year=2026)
    assert care.state == AgreementState.AGREED
    talks = care.initiatives.get(title="Early health talks")
    assert talks.owner.username == "anna"
    assert {g.code for g in talks.goals.all()} == {"T1.1", "T1.2"}
    assert Agreement.objects.filter(unit__code="CARE").count() == 2
    report = Deadline.objects.get(year=2026, title="Follow-up T1")
    assert (report.period, report.remind_days_before) == ("T1", 14)


def test_history_rows_written_by_a_load_name_no_user(loaded):
    element = Element.objects.get(code="T1.1")
    (row,) = element.history.all()
    assert row.history_user is None
    assert row.history_type == "+"


def test_loading_the_same_package_twice_changes_nothing(loaded):
    before = history_rows()
    values = list(IndicatorValue.objects.order_by("pk").values_list("pk", "value"))
    report = load_text(loaded)
    assert not report.changed, report.lines()
    assert history_rows() == before
    assert list(IndicatorValue.objects.order_by("pk").values_list("pk", "value")) == values


def test_an_edited_package_updates_what_changed_and_only_that(loaded):
    text = edit(loaded, "title: Sick leave falls to 13.5 days", "title: Sick leave falls to 13")
    text = edit(text, "target_value: '13.5'", "target_value: '13'")
    text = edit(text, "  - [CARE-HOME, 2026-02, '38']\n", "  - [CARE-HOME, 2026-02, '37.5']\n")
    before = history_rows()
    report = load_text(text)
    assert report.lines() == ["element: 1 updated", "indicator value: 1 updated"]
    assert history_rows() == before + 2  # the goal's and the value's
    goal = Element.objects.get(code="T1.1")
    assert (goal.title, goal.target_value) == ("Sick leave falls to 13", Decimal("13"))
    assert goal.history.first().history_user is None
    value = IndicatorValue.objects.get(
        indicator__code="DAYS", unit__code="CARE-HOME", period="2026-02"
    )
    assert value.value == Decimal("37.5")
    assert dump_text() == text


def find(items: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    (found,) = [i for i in items if all(i.get(k) == v for k, v in match.items())]
    return found


def elements(package: dict[str, Any], strategy: str) -> list[dict[str, Any]]:
    """Every element of a strategy in the package, depth first."""
    result: list[dict[str, Any]] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            result.append(item)
            walk(item.get("children", []))

    walk(find(package["strategies"], code=strategy).get("elements", []))
    return result


def test_an_edited_package_moves_units_and_creates_and_removes_objects(loaded):
    package = parse(loaded)
    units = package["units"]
    units.append({"code": "SCHOOL-IT", "name": "School IT", "level": 3, "parent": "SCHOOL"})
    find(units, code="CARE-NIGHT")["parent"] = "SCHOOL"  # moved
    units.remove(find(units, code="OLD"))  # already closed
    care = find(package["agreements"], unit="CARE", year=2026)
    find(care["initiatives"], title="Shared night rota")["goals"] = ["plan:T2.1"]
    home = find(package["agreements"], unit="CARE-HOME")
    find(home["initiatives"], title="Residents' panel")["title"] = "Residents' council"
    load_text(render(package))
    night = Unit.objects.get(code="CARE-NIGHT")
    assert night.path.startswith(Unit.objects.get(code="SCHOOL").path)
    assert night.history.first().history_user is None
    assert Unit.objects.get(code="SCHOOL-IT").level.depth == 3
    assert Unit.objects.find_problems() == ([], [], [], [], [])
    assert Unit.objects.get(code="OLD").closed_on == date(2025, 6, 30)  # already closed: as it was
    shared = Initiative.objects.get(title="Shared night rota")
    assert [g.code for g in shared.goals.all()] == ["T2.1"]
    # The link taken away, and the link of the panel, which went with the panel.
    assert InitiativeGoal.history.filter(history_type="-").count() == 2
    titles = Initiative.objects.filter(agreement__unit__code="CARE-HOME")
    assert set(titles.values_list("title", flat=True)) == {"Residents' council"}
    after = dump_text()
    assert "code: OLD" in after  # units are never deleted
    assert load_text(after).changed is False


def test_a_unit_left_out_of_the_package_is_end_dated_not_deleted(loaded):
    package = parse(loaded)
    package["units"].remove(find(package["units"], code="CARE-NIGHT"))
    for rows in package["indicator_values"].values():
        rows[:] = [row for row in rows if row[0] != "CARE-NIGHT"]
    text = render(package)
    report = load_text(text)
    assert report.counts[("unit", "closed")] == 1
    assert report.counts[("indicator value", "removed")] == 2
    assert Unit.objects.get(code="CARE-NIGHT").closed_on == timezone.localdate()
    assert not IndicatorValue.objects.filter(unit__code="CARE-NIGHT").exists()
    before = history_rows()
    assert not load_text(text).changed
    assert history_rows() == before


def test_elements_and_strategies_left_out_are_removed_unless_they_are_in_use(loaded):
    package = parse(loaded)
    find(elements(package, "plan"), code="T1.2")["code"] = "T1.2x"  # the old goes, the new comes
    talks = find(
        find(package["agreements"], unit="CARE", year=2026)["initiatives"],
        title="Early health talks",
    )
    talks["goals"] = ["plan:T1.1", "plan:T1.2x"]
    # The vision leaves the package, with every reference to it.
    package["strategies"].remove(find(package["strategies"], code="vision"))
    for strategy in package["strategies"]:
        strategy.pop("parent", None)
    for element in elements(package, "plan"):
        element["references"] = [
            r for r in element.get("references", []) if not r.startswith("vision:")
        ]
    report = load_text(render(package))
    assert report.kept == []
    assert not Strategy.objects.filter(code="vision").exists()
    assert not Element.objects.filter(code="T1.2").exists()
    assert Element.objects.get(code="T1.2x").kpi.unit.code == "CARE-HOME"
    assert report.counts[("strategy", "removed")] == 1
    assert report.counts[("element", "removed")] == 3  # T1.2 and the vision's two bearings
    # A goal with an assessment is kept when it leaves the package, and the load says so.
    GoalAssessment.objects.create(
        goal=Element.objects.get(code="T2.3"), year=2026, status="on_track", justification="Fine"
    )
    theme = find(elements(package, "plan"), code="T2")
    theme["children"].remove(find(theme["children"], code="T2.3"))
    find(package["agreements"], unit="CARE-HOME")["initiatives"][0]["goals"] = ["plan:T2.1"]
    report = load_text(render(package))
    assert Element.objects.filter(code="T2.3").exists()
    assert report.kept == ["element T2.3 Residents are heard: still in use, kept"]


def test_an_initiative_with_reports_is_kept_when_it_leaves_the_package(loaded):
    StatusReportFactory(
        initiative=Initiative.objects.get(title="Residents' panel"),
        deadline=Deadline.objects.get(title="Follow-up T1"),
    )
    package = parse(loaded)
    find(package["agreements"], unit="CARE-HOME")["initiatives"][0]["title"] = "Residents' council"
    report = load_text(render(package))
    assert Initiative.objects.filter(title="Residents' panel").exists()
    assert Initiative.objects.filter(title="Residents' council").exists()
    assert report.kept == ["initiative Residents' panel: still in use, kept"]


def test_a_section_left_out_of_the_package_is_left_alone(loaded):
    package = parse(loaded)
    del package["indicator_values"], package["people"], package["agreements"]
    before = history_rows()
    report = load_text(render(package))
    assert not report.changed
    assert history_rows() == before
    assert IndicatorValue.objects.count() == 9
    assert Agreement.objects.count() == 4


def test_dump_of_one_year_holds_only_its_agreements_and_deadlines(loaded):
    package = parse(dump_command("--year", "2025"))
    assert package["year"] == 2025
    assert [(a["unit"], a["year"]) for a in package["agreements"]] == [("CARE", 2025)]
    assert [d["title"] for d in package["deadlines"]] == ["Annual report"]
    # Loading it removes no deadline of another year.
    before = Deadline.objects.count()
    load_text(render(package))
    assert Deadline.objects.count() == before


def test_dump_without_values_and_people_leaves_them_out_and_loads_without_touching_them(loaded):
    text = dump_command("--without-values", "--without-people")
    package = parse(text)
    assert "indicator_values" not in package
    assert "people" not in package
    assert all("owner" not in i for a in package["agreements"] for i in a.get("initiatives", []))
    assert schema_problems(package) == []
    report = load_text(text)
    # Owners are not in the package, so the initiatives lose them; nothing else changes.
    assert report.lines() == ["initiative: 2 updated"]
    assert IndicatorValue.objects.count() == 9


def test_dump_writes_json_to_a_file(loaded, tmp_path):
    target = tmp_path / "package.json"
    call_command("dump", "--format", "json", "--output", str(target), stdout=StringIO())
    assert parse(target.read_text(encoding="utf-8"), fmt="json") == parse(loaded)


def test_the_load_command_reports_what_it_did(every_kind, tmp_path):
    source = tmp_path / "package.yaml"
    source.write_text(every_kind, encoding="utf-8")
    out = StringIO()
    call_command("load", str(source), stdout=out)
    assert "unit: 6 created" in out.getvalue()
    out = StringIO()
    call_command("load", str(source), stdout=out)
    assert "(no changes)" in out.getvalue()


def test_a_dry_run_writes_nothing(every_kind, tmp_path):
    source = tmp_path / "package.yaml"
    source.write_text(every_kind, encoding="utf-8")
    out = StringIO()
    call_command("load", str(source), "--dry-run", stdout=out)
    assert "unit: 6 created" in out.getvalue()
    assert not Unit.objects.exists()
    assert history_rows() == 0


def test_indicators_left_out_are_removed_unless_they_have_values(loaded):
    package = parse(loaded)
    indicators = package["indicators"]
    indicators.remove(find(indicators, code="SICK"))
    indicators.remove(find(indicators, code="SATISFACTION"))
    indicators.remove(find(indicators, code="FTE"))
    for element in elements(package, "plan"):
        element.get("measure", {}).pop("kpi", None)
    del package["indicator_values"]["SATISFACTION"], package["indicator_values"]["FTE"]
    report = load_text(render(package))
    assert report.counts[("kpi goal", "removed")] == 2
    assert report.counts[("indicator", "removed")] == 1  # the ratio
    assert report.kept == [
        "indicator FTE Full-time equivalents: still in use, kept",
        "indicator SATISFACTION Satisfaction: still in use, kept",
    ]
    assert not Indicator.objects.filter(code="SICK").exists()
    # Once its values are gone, the weighted mean goes, and then the measure it is weighed by.
    IndicatorValue.objects.filter(indicator__code__in=["FTE", "SATISFACTION"]).delete()
    report = load_text(render(package))
    assert report.counts[("indicator", "removed")] == 2
    assert report.kept == []


def test_indicator_values_loaded_changed_and_removed_are_in_the_history(loaded):
    History = IndicatorValue.history.model
    created = History.objects.filter(history_type="+", history_change_reason="loaded")
    assert created.count() == IndicatorValue.objects.count() > 0
    package = parse(
        edit(loaded, "  - [CARE-HOME, 2026-02, '38']\n", "  - [CARE-HOME, 2026-02, '37.5']\n")
    )
    for rows in package["indicator_values"].values():
        rows[:] = [row for row in rows if row[0] != "CARE-NIGHT"]
    load_text(render(package))
    (changed,) = History.objects.filter(history_type="~")
    assert (changed.unit.code, changed.period, changed.value) == ("CARE-HOME", "2026-02", 37.5)
    assert changed.history_change_reason == "loaded"
    assert changed.prev_record is not None and changed.prev_record.value == 38
    removed = History.objects.filter(history_type="-")
    assert {r.unit.code for r in removed} == {"CARE-NIGHT"} and removed.count() == 2
