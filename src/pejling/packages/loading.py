"""``load_package``: check a package completely, then write it in one transaction.

First the JSON Schema, then every reference and rule the database would enforce, each problem
reported with its path in the file; nothing is written while anything is wrong. Writing is
idempotent: objects are found by their codes, saved only when a value differs (so loading the
same file again adds no history rows), and what the file no longer lists is removed where that
is safe (units are end-dated, never deleted). See docs/packages.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from pejling.agreements.models import Agreement, Initiative, InitiativeGoal
from pejling.core.history import delete_as, save_as
from pejling.followup.models import Comment, Deadline, DerivedGoal, GoalAssessment, StatusReport
from pejling.indicators.models import Aggregation, Indicator, IndicatorValue, KpiGoal
from pejling.indicators.sources.records import Period, PeriodError, parse_period
from pejling.organisation.models import Membership, Unit, UnitLevel
from pejling.packages.formats import (
    PackageError,
    Problem,
    fits,
    path_text,
    schema_problems,
    to_decimal,
)
from pejling.strategy.models import AgreementRule, Element, Strategy, StrategyLevel

# Sizes of the decimal fields: (max_digits, decimal_places).
ELEMENT_DECIMAL = (14, 4)
SCALE_DECIMAL = (10, 4)
VALUE_DECIMAL = (20, 6)


@dataclass
class LoadReport:
    """What a load did: counts per kind of object, and what it left in place."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    kept: list[str] = field(default_factory=list)

    def count(self, kind: str, action: str, n: int = 1) -> None:
        if n:
            self.counts[(kind, action)] += n

    @property
    def changed(self) -> bool:
        return bool(self.counts)

    def lines(self) -> list[str]:
        by_kind: dict[str, list[str]] = defaultdict(list)
        for (kind, action), n in sorted(self.counts.items()):
            by_kind[kind].append(f"{n} {action}")
        return [f"{kind}: {', '.join(actions)}" for kind, actions in sorted(by_kind.items())]


def load_package(data: Any, *, today: date | None = None, dry_run: bool = False) -> LoadReport:
    """Check ``data`` (a parsed package) and write it; raise :class:`PackageError` listing
    every problem, having written nothing, when anything is wrong."""
    problems = schema_problems(data)
    if problems:
        raise PackageError(problems)
    checked = Checker(data).run()
    with transaction.atomic():
        report = Writer(data, checked, today or timezone.localdate()).run()
        if dry_run:
            transaction.set_rollback(True)
    return report


# Checking ---------------------------------------------------------------------------------------


def dependency_order(deps: dict[str, list[str]]) -> tuple[list[str], list[list[str]]]:
    """Codes ordered so that each comes after those it depends on, and the cycles found."""
    order: list[str] = []
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(code: str, trail: list[str]) -> None:
        if state.get(code) == 2:
            return
        if state.get(code) == 1:
            cycles.append([*trail[trail.index(code) :], code])
            return
        state[code] = 1
        for dep in deps.get(code, []):
            if dep in deps:
                visit(dep, [*trail, code])
        state[code] = 2
        order.append(code)

    for code in deps:
        visit(code, [])
    return order, cycles


@dataclass
class ElementInfo:
    path: str
    depth: int
    holds_goals: bool


@dataclass
class Checked:
    """What the writer needs from the checks: creation orders that respect dependencies."""

    unit_order: list[str]
    strategy_order: list[str]
    indicator_order: list[str]


class Checker:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[Problem] = []
        self.level_depths: set[int] = set()
        self.units: dict[str, str] = {}  # code → path in the file
        self.people: set[str] = set()
        self.indicators: dict[str, dict[str, Any]] = {}
        self.strategies: dict[str, dict[str, Any]] = {}
        self.elements: dict[tuple[str, str], ElementInfo] = {}

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def run(self) -> Checked:
        self.check_unit_levels()
        unit_order = self.check_units()
        self.check_people()
        indicator_order = self.check_indicators()
        strategy_order = self.check_strategies()
        self.check_agreements()
        self.check_deadlines()
        self.check_values()
        if "portfolio" in self.data:
            from pejling.packages.portfolio import check_portfolio

            check_portfolio(self)
        if self.problems:
            raise PackageError(self.problems)
        return Checked(unit_order, strategy_order, indicator_order)

    # helpers

    def decimal(self, path: str, value: Any, size: tuple[int, int]) -> Decimal | None:
        number = to_decimal(value)
        if value is not None and number is None:
            self.add(path, f"{value!r} is not a number")
        elif number is not None and not fits(number, max_digits=size[0], decimal_places=size[1]):
            self.add(
                path,
                f"{value} does not fit: at most {size[0] - size[1]} digits before the decimal "
                f"point and {size[1]} after it",
            )
        return number

    def unit_level(self, path: str, depth: int | None) -> None:
        if depth is not None and depth not in self.level_depths:
            self.add(path, f"unknown unit level depth {depth}")

    def unit(self, path: str, code: str | None) -> None:
        if code is not None and code not in self.units:
            self.add(path, f'unknown unit "{code}"')

    def dates_ordered(self, path: str, first: str | None, last: str | None, what: str) -> None:
        if first and last and date.fromisoformat(last) < date.fromisoformat(first):
            self.add(path, f"{what} {last} is before {first}")

    def element(self, path: str, ref: str) -> ElementInfo | None:
        strategy_code, code = ref.split(":", 1)
        if strategy_code not in self.strategies:
            self.add(path, f'unknown strategy "{strategy_code}" in "{ref}"')
            return None
        info = self.elements.get((strategy_code, code))
        if info is None:
            self.add(path, f'unknown element "{ref}"')
        return info

    def cycles(self, cycles: list[list[str]], paths: dict[str, str], what: str) -> None:
        """Report each cycle once, at the first object in it (``what``: "parents")."""
        reported: set[frozenset[str]] = set()
        for cycle in cycles:
            key = frozenset(cycle)
            if key not in reported:
                reported.add(key)
                where = f"{paths[cycle[0]]}.parent" if what == "parents" else paths[cycle[0]]
                self.add(where, f"cycle in {what}: {' → '.join(cycle)}")

    # sections

    def check_unit_levels(self) -> None:
        for i, level in enumerate(self.data.get("unit_levels", [])):
            if level["depth"] in self.level_depths:
                self.add(f"unit_levels[{i}].depth", f"duplicate depth {level['depth']}")
            self.level_depths.add(level["depth"])

    def check_units(self) -> list[str]:
        parents: dict[str, list[str]] = {}
        for i, unit in enumerate(self.data.get("units", [])):
            path = f"units[{i}]"
            if unit["code"] in self.units:
                self.add(f"{path}.code", f'duplicate code "{unit["code"]}"')
                continue
            self.units[unit["code"]] = path
            self.unit_level(f"{path}.level", unit["level"])
            parents[unit["code"]] = [unit["parent"]] if unit.get("parent") else []
        for code, parent in parents.items():
            if parent:
                self.unit(f"{self.units[code]}.parent", parent[0])
        order, cycles = dependency_order(parents)
        self.cycles(cycles, self.units, "parents")
        return order

    def check_people(self) -> None:
        for i, person in enumerate(self.data.get("people", [])):
            path = f"people[{i}]"
            if person["username"] in self.people:
                self.add(f"{path}.username", f'duplicate username "{person["username"]}"')
            self.people.add(person["username"])
            seen: set[tuple[str, str]] = set()
            for j, membership in enumerate(person.get("memberships", [])):
                where = f"{path}.memberships[{j}]"
                self.unit(f"{where}.unit", membership["unit"])
                key = (membership["unit"], membership["role"])
                if key in seen:
                    self.add(where, f"duplicate role {key[1]} on unit {key[0]}")
                seen.add(key)

    def check_indicators(self) -> list[str]:
        paths: dict[str, str] = {}
        deps: dict[str, list[str]] = {}
        for i, indicator in enumerate(self.data.get("indicators", [])):
            path = f"indicators[{i}]"
            code = indicator["code"]
            if code in self.indicators:
                self.add(f"{path}.code", f'duplicate code "{code}"')
                continue
            self.indicators[code] = indicator
            paths[code] = path
            self.decimal(f"{path}.scale", indicator.get("scale"), SCALE_DECIMAL)
        for code, indicator in self.indicators.items():
            path = paths[code]
            refs = [r for r in ("numerator", "denominator", "weight") if indicator.get(r)]
            for ref in refs:
                if indicator[ref] not in self.indicators:
                    self.add(f"{path}.{ref}", f'unknown indicator "{indicator[ref]}"')
            deps[code] = [indicator[r] for r in refs]
            aggregation = indicator.get("aggregation", Aggregation.SUM)
            if aggregation == Aggregation.RATIO and not {"numerator", "denominator"} <= set(refs):
                self.add(path, "a ratio needs a numerator and a denominator")
            if aggregation == Aggregation.WEIGHTED_MEAN and "weight" not in refs:
                self.add(path, "a weighted mean needs a weight")
        order, cycles = dependency_order(deps)
        self.cycles(cycles, paths, "indicators")
        return order

    def check_strategies(self) -> list[str]:
        paths: dict[str, str] = {}
        deps: dict[str, list[str]] = {}
        pending: list[tuple[str, dict[str, Any]]] = []  # elements, checked once all are known
        for i, strategy in enumerate(self.data.get("strategies", [])):
            path = f"strategies[{i}]"
            code = strategy["code"]
            if code in self.strategies:
                self.add(f"{path}.code", f'duplicate code "{code}"')
                continue
            self.strategies[code] = strategy
            paths[code] = path
            deps[code] = [strategy["parent"]] if strategy.get("parent") else []
            if strategy["end_year"] < strategy["start_year"]:
                self.add(f"{path}.end_year", "the last year is before the first year")
            names: set[str] = set()
            for j, rule in enumerate(strategy.get("rules", [])):
                if rule["name"] in names:
                    self.add(f"{path}.rules[{j}].name", f'duplicate rule "{rule["name"]}"')
                names.add(rule["name"])
                self.unit_level(f"{path}.rules[{j}].unit_level", rule["unit_level"])
            levels = strategy["levels"]

            def walk(items: list[dict[str, Any]], where: str, depth: int) -> None:
                for k, element in enumerate(items):
                    element_path = f"{where}[{k}]"
                    key = (code, element["code"])  # noqa: B023 (used right away)
                    if key in self.elements:
                        self.add(f"{element_path}.code", f'duplicate code "{element["code"]}"')
                    elif depth > len(levels):  # noqa: B023
                        self.add(
                            element_path,
                            f"unknown level depth {depth}: the strategy has "
                            f"{len(levels)} level{'s' if len(levels) != 1 else ''}",  # noqa: B023
                        )
                    else:
                        holds = levels[depth - 1].get("holds_goals", False)  # noqa: B023
                        self.elements[key] = ElementInfo(element_path, depth, holds)
                    pending.append((element_path, element))
                    walk(element.get("children", []), f"{element_path}.children", depth + 1)

            walk(strategy.get("elements", []), f"{path}.elements", 1)
        for code, parent in deps.items():
            if parent and parent[0] not in self.strategies:
                self.add(f"{paths[code]}.parent", f'unknown strategy "{parent[0]}"')
        order, cycles = dependency_order(deps)
        self.cycles(cycles, paths, "parents")
        for path, element in pending:
            for r, ref in enumerate(element.get("references", [])):
                self.element(f"{path}.references[{r}]", ref)
            self.check_measure(f"{path}.measure", element.get("measure"))
        return order

    def check_measure(self, path: str, measure: dict[str, Any] | None) -> None:
        if not measure:
            return
        for name in ("baseline_value", "target_value"):
            self.decimal(f"{path}.{name}", measure.get(name), ELEMENT_DECIMAL)
        self.dates_ordered(
            f"{path}.target_date",
            measure.get("baseline_date"),
            measure.get("target_date"),
            "the target date",
        )
        kpi = measure.get("kpi")
        if kpi:
            if kpi["indicator"] not in self.indicators:
                self.add(f"{path}.kpi.indicator", f'unknown indicator "{kpi["indicator"]}"')
            self.unit(f"{path}.kpi.unit", kpi.get("unit"))
        derived = measure.get("derived")
        if derived:
            self.unit_level(f"{path}.derived.unit_level", derived.get("unit_level"))
            scope = derived.get("scope_strategy")
            if scope and scope not in self.strategies:
                self.add(f"{path}.derived.scope_strategy", f'unknown strategy "{scope}"')

    def check_agreements(self) -> None:
        seen: set[tuple[str, int]] = set()
        for i, agreement in enumerate(self.data.get("agreements", [])):
            path = f"agreements[{i}]"
            year = agreement["year"]
            key = (agreement["unit"], year)
            if key in seen:
                self.add(path, f"duplicate agreement for unit {key[0]} and year {year}")
            seen.add(key)
            self.unit(f"{path}.unit", agreement["unit"])
            self.in_year(f"{path}.year", year)
            titles: set[str] = set()
            for j, initiative in enumerate(agreement.get("initiatives", [])):
                where = f"{path}.initiatives[{j}]"
                if initiative["title"] in titles:
                    self.add(f"{where}.title", f'duplicate title "{initiative["title"]}"')
                titles.add(initiative["title"])
                owner = initiative.get("owner")
                if owner and owner not in self.people:
                    self.add(f"{where}.owner", f'unknown person "{owner}" (not in people)')
                self.dates_ordered(
                    f"{where}.end", initiative.get("start"), initiative.get("end"), "the end"
                )
                for g, ref in enumerate(initiative.get("goals", [])):
                    info = self.element(f"{where}.goals[{g}]", ref)
                    if info is None:
                        continue
                    strategy = self.strategies[ref.split(":", 1)[0]]
                    if not info.holds_goals:
                        self.add(f"{where}.goals[{g}]", f'"{ref}" is not at a level of goals')
                    elif not strategy["start_year"] <= year <= strategy["end_year"]:
                        self.add(
                            f"{where}.goals[{g}]",
                            f'"{ref}" belongs to a strategy for {strategy["start_year"]}–'
                            f"{strategy['end_year']}, which does not cover {year}",
                        )

    def in_year(self, path: str, year: int) -> None:
        package_year = self.data.get("year")
        if package_year is not None and year != package_year:
            self.add(path, f"{year} is not the package's year {package_year}")

    def check_deadlines(self) -> None:
        seen: set[tuple[int, str]] = set()
        for i, deadline in enumerate(self.data.get("deadlines", [])):
            path = f"deadlines[{i}]"
            key = (deadline["year"], deadline["title"])
            if key in seen:
                self.add(f"{path}.title", f'duplicate deadline "{key[1]}" in {key[0]}')
            seen.add(key)
            self.in_year(f"{path}.year", deadline["year"])
            self.unit_level(f"{path}.unit_level", deadline.get("unit_level"))

    def check_values(self) -> None:
        for code, rows in self.data.get("indicator_values", {}).items():
            path = path_text(["indicator_values", code])
            indicator = self.indicators.get(code)
            if indicator is None:
                self.add(path, f'unknown indicator "{code}"')
                continue
            if indicator.get("aggregation") == Aggregation.RATIO:
                self.add(path, "a ratio is computed from its numerator and denominator: no values")
                continue
            periodicity = indicator.get("periodicity", "month")
            seen: set[tuple[str, str]] = set()
            for r, (unit, period_text, value) in enumerate(rows):
                row = f"{path}[{r}]"
                self.unit(f"{row}[0]", unit)
                try:
                    period = parse_period(period_text)
                except PeriodError as exc:
                    self.add(f"{row}[1]", f"bad period: {exc}")
                else:
                    if period.kind != periodicity:
                        self.add(f"{row}[1]", f"bad period: {period} is not a {periodicity} period")
                    if (unit, str(period)) in seen:
                        self.add(row, f"duplicate value for unit {unit} and period {period}")
                    seen.add((unit, str(period)))
                number = self.decimal(f"{row}[2]", value, VALUE_DECIMAL)
                if number is not None and number < 0 and not indicator.get("allow_negative"):
                    self.add(f"{row}[2]", f"{value} is negative; the indicator allows no negatives")


# Writing ----------------------------------------------------------------------------------------


def assign(obj: models.Model, values: dict[str, Any]) -> bool:
    """Set the values that differ; whether any did. Relations compare by primary key."""
    changed = False
    for name, value in values.items():
        model_field = obj._meta.get_field(name)
        if model_field.is_relation:
            current = getattr(obj, model_field.attname)  # type: ignore[union-attr]
            if current != (value.pk if value is not None else None):
                setattr(obj, name, value)
                changed = True
        elif getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class Writer:
    def __init__(self, data: dict[str, Any], checked: Checked, today: date) -> None:
        self.data = data
        self.checked = checked
        self.today = today
        self.report = LoadReport()
        self.levels: dict[int, UnitLevel] = {}
        self.units: dict[str, Unit] = {}
        self.users: dict[str, Any] = {}
        self.indicators: dict[str, Indicator] = {}
        self.strategies: dict[str, Strategy] = {}
        self.elements: dict[tuple[str, str], Element] = {}

    def run(self) -> LoadReport:
        data = self.data
        if "unit_levels" in data:
            self.write_unit_levels()
        self.levels = {lv.depth: lv for lv in UnitLevel.objects.all()}
        if "units" in data:
            self.write_units()
        self.units = {u.code: u for u in Unit.objects.all()}
        if "people" in data:
            self.write_people()
        if "indicators" in data:
            self.write_indicators()
        if "strategies" in data:
            self.write_strategies()
        if "agreements" in data:
            self.write_agreements()
        if "deadlines" in data:
            self.write_deadlines()
        if "indicator_values" in data:
            self.write_values()
        if "portfolio" in data:
            from pejling.packages.portfolio import write_portfolio

            write_portfolio(self)
        # Removals last, once nothing in the file points at what goes.
        if "strategies" in data:
            for item in data["strategies"]:
                self.remove_from_strategy(self.strategies[item["code"]], item)
            self.remove_strategies()
        if "indicators" in data:
            wanted = {i["code"] for i in data["indicators"]}
            gone = list(Indicator.objects.exclude(code__in=wanted).order_by("code"))
            self.remove_all(gone, "indicator", options=lambda o: {})
        if "unit_levels" in data:
            wanted_depths = {lv["depth"] for lv in data["unit_levels"]}
            for level in UnitLevel.objects.exclude(depth__in=wanted_depths):
                self.remove(level, "unit level")
        return self.report

    # helpers

    def save(self, obj: models.Model, values: dict[str, Any], kind: str) -> bool:
        """Save ``obj`` (new or changed) with no acting user in its history; whether it did."""
        adding = obj._state.adding
        if assign(obj, values) or adding:
            save_as(obj, None)
            self.report.count(kind, "created" if adding else "updated")
            return True
        return False

    def remove(
        self,
        obj: models.Model,
        kind: str,
        *,
        in_use: bool = False,
        parts: list[models.Model] | None = None,
        quiet: bool = False,
    ) -> bool:
        """Delete ``obj`` (its ``parts`` first) unless something outside the package still
        depends on it, in which case nothing of it is deleted; whether it was."""
        if not in_use:
            try:
                with transaction.atomic():
                    for part in parts or []:
                        delete_as(part, None)
                    delete_as(obj, None)
            except (ProtectedError, RestrictedError):
                pass
            else:
                for part in parts or []:
                    self.report.count(type(part).__name__.lower(), "removed")
                self.report.count(kind, "removed")
                return True
        if not quiet:
            self.report.kept.append(f"{kind} {obj}: still in use, kept")
        return False

    def remove_all(
        self, objs: list[Any], kind: str, *, options: Callable[[Any], dict[str, Any]]
    ) -> None:
        """Remove what can be, in passes, so that objects depending on each other (a ratio and
        its measures, a strategy and the one it serves) go whatever their order."""
        pending = objs
        while pending:
            left = [o for o in pending if not self.remove(o, kind, quiet=True, **options(o))]
            if len(left) == len(pending):
                break
            pending = left
        for obj in pending:
            self.report.kept.append(f"{kind} {obj}: still in use, kept")

    # organisation

    def write_unit_levels(self) -> None:
        existing = {lv.depth: lv for lv in UnitLevel.objects.all()}
        for item in self.data["unit_levels"]:
            level = existing.get(item["depth"]) or UnitLevel(depth=item["depth"])
            values = {"name": item["name"], "name_plural": item.get("plural", "")}
            self.save(level, values, "unit level")

    def write_units(self) -> None:
        items = {u["code"]: u for u in self.data["units"]}
        for code in self.checked.unit_order:
            item = items[code]
            parent_code = item.get("parent")
            values = {
                "name": item["name"],
                "level": self.levels[item["level"]],
                "description": item.get("description", ""),
                "closed_on": _date(item.get("closed_on")),
            }
            unit = Unit.objects.filter(code=code).first()
            parent = Unit.objects.get(code=parent_code) if parent_code else None
            if unit is None:
                unit = Unit(code=code, **values)
                unit._history_user = None
                if parent is None:
                    Unit.objects.add_root(instance=unit)
                else:
                    Unit.objects.add_child(parent, instance=unit)
                self.report.count("unit", "created")
                continue
            moved = False
            current_parent = unit.path[: -unit.steplen] if unit.depth > 1 else None
            if current_parent != (parent.path if parent else None):
                if parent is not None:
                    Unit.objects.move(unit, parent, "sorted-child")
                else:
                    root = Unit.objects.filter(depth=1).exclude(pk=unit.pk).first()
                    Unit.objects.move(unit, root, "sorted-sibling")
                unit = Unit.objects.get(pk=unit.pk)
                moved = True
            if assign(unit, values) or moved:
                save_as(unit, None)
                self.report.count("unit", "updated")
        wanted = set(items)
        for unit in Unit.objects.exclude(code__in=wanted).filter(closed_on__isnull=True):
            unit.closed_on = self.today
            save_as(unit, None, reason="Not in the loaded package")
            self.report.count("unit", "closed")

    def write_people(self) -> None:
        user_model = get_user_model()
        username_field = user_model.USERNAME_FIELD
        for item in self.data["people"]:
            username = item["username"]
            user = user_model.objects.filter(**{username_field: username}).first()
            values = {
                "first_name": item.get("first_name", ""),
                "last_name": item.get("last_name", ""),
                "email": item.get("email", ""),
            }
            if user is None:
                user = user_model(**{username_field: username}, **values)
                user.set_unusable_password()
                user.save()
                self.report.count("person", "created")
            elif assign(user, values):
                user.save()
                self.report.count("person", "updated")
            self.users[username] = user
            existing = {(m.unit_id, m.role): m for m in Membership.objects.filter(user=user)}
            for m in item.get("memberships", []):
                unit = self.units[m["unit"]]
                membership = existing.pop((unit.pk, m["role"]), None) or Membership(
                    user=user, unit=unit, role=m["role"]
                )
                values = {"title": m.get("title", ""), "ends_on": _date(m.get("ends_on"))}
                self.save(membership, values, "membership")
            for membership in existing.values():
                self.remove(membership, "membership")

    # indicators

    def write_indicators(self) -> None:
        items = {i["code"]: i for i in self.data["indicators"]}
        self.indicators = {i.code: i for i in Indicator.objects.filter(code__in=items)}
        for code in self.checked.indicator_order:
            item = items[code]
            indicator = self.indicators.get(code) or Indicator(code=code)
            refs = {
                r: self.indicators[item[r]] if item.get(r) else None
                for r in ("numerator", "denominator", "weight")
            }
            values = {
                "name": item["name"],
                "description": item.get("description", ""),
                "measure_unit": item["unit"],
                "direction": item.get("direction", "higher"),
                "periodicity": item.get("periodicity", "month"),
                "source": item.get("source", ""),
                "aggregation": item.get("aggregation", Aggregation.SUM),
                **refs,
                "scale": to_decimal(item.get("scale", "1")),
                "allow_negative": item.get("allow_negative", False),
            }
            self.save(indicator, values, "indicator")
            self.indicators[code] = indicator

    def write_values(self) -> None:
        for code, rows in self.data["indicator_values"].items():
            indicator = self.indicators.get(code) or Indicator.objects.get(code=code)
            existing = {
                (unit_id, period): (pk, value)
                for pk, unit_id, period, value in IndicatorValue.objects.filter(
                    indicator=indicator
                ).values_list("pk", "unit_id", "period", "value")
            }
            new: list[IndicatorValue] = []
            changed: dict[int, Decimal] = {}
            for unit_code, period_text, value_text in rows:
                unit = self.units[unit_code]
                period: Period = parse_period(period_text)
                value = to_decimal(value_text)
                assert value is not None
                current = existing.pop((unit.pk, str(period)), None)
                if current is None:
                    new.append(
                        IndicatorValue(
                            indicator=indicator,
                            unit=unit,
                            period=str(period),
                            period_start=period.start_date(),
                            period_end=period.end_date(),
                            value=value,
                        )
                    )
                elif current[1] != value:
                    changed[current[0]] = value
            # With their history rows (the audit trail), as imports write them; whole rows only
            # of the changed values (a history row copies every field).
            bulk_create_with_history(
                new, IndicatorValue, batch_size=1000, default_change_reason="loaded"
            )
            updated = list(IndicatorValue.objects.in_bulk(list(changed)).values())
            for stored in updated:
                stored.value = changed[stored.pk]
            bulk_update_with_history(
                updated, IndicatorValue, ["value"], batch_size=1000, default_change_reason="loaded"
            )
            gone = [pk for pk, _value in existing.values()]
            IndicatorValue.objects.filter(pk__in=gone).delete()  # history rows by signal
            self.report.count("indicator value", "created", len(new))
            self.report.count("indicator value", "updated", len(changed))
            self.report.count("indicator value", "removed", len(gone))

    # strategies

    def write_strategies(self) -> None:
        items = {s["code"]: s for s in self.data["strategies"]}
        self.strategies = {s.code: s for s in Strategy.objects.all()}
        self.indicators = self.indicators or {i.code: i for i in Indicator.objects.all()}
        for code in self.checked.strategy_order:
            item = items[code]
            strategy = self.strategies.get(code) or Strategy(code=code)
            values = {
                "title": item["title"],
                "summary": item.get("summary", ""),
                "body": item.get("body", ""),
                "start_year": item["start_year"],
                "end_year": item["end_year"],
                "parent": self.strategies[item["parent"]] if item.get("parent") else None,
                "status": item.get("status", "draft"),
                "position": item.get("position", 0),
            }
            self.save(strategy, values, "strategy")
            self.strategies[code] = strategy
            self.write_elements(strategy, item)
        for code, item in items.items():
            self.write_measures_and_rules(self.strategies[code], item)

    def write_elements(self, strategy: Strategy, item: dict[str, Any]) -> None:
        existing_levels = {lv.depth: lv for lv in strategy.levels.all()}
        levels: dict[int, StrategyLevel] = {}
        for depth, spec in enumerate(item["levels"], start=1):
            level = existing_levels.get(depth) or StrategyLevel(strategy=strategy, depth=depth)
            values = {
                "name": spec["name"],
                "name_plural": spec.get("plural", ""),
                "holds_goals": spec.get("holds_goals", False),
            }
            self.save(level, values, "strategy level")
            levels[depth] = level
        existing = {e.code: e for e in strategy.elements.all()}

        def walk(specs: list[dict[str, Any]], parent: Element | None, depth: int) -> None:
            for index, spec in enumerate(specs, start=1):
                element = existing.get(spec["code"]) or Element(
                    strategy=strategy, code=spec["code"]
                )
                measure = spec.get("measure", {})
                values = {
                    "parent": parent,
                    "level": levels[depth],
                    "title": spec["title"],
                    "description": spec.get("description", ""),
                    "position": spec.get("position", index),
                    "measure_kind": measure.get("kind", ""),
                    "target_text": measure.get("target_text", ""),
                    "measure_unit": measure.get("unit", ""),
                    "baseline_value": to_decimal(measure.get("baseline_value")),
                    "baseline_date": _date(measure.get("baseline_date")),
                    "target_value": to_decimal(measure.get("target_value")),
                    "target_date": _date(measure.get("target_date")),
                    "source": measure.get("source", ""),
                }
                self.save(element, values, "element")
                self.elements[(strategy.code, element.code)] = element
                walk(spec.get("children", []), element, depth + 1)

        walk(item.get("elements", []), None, 1)

    def element(self, ref: str) -> Element:
        strategy_code, code = ref.split(":", 1)
        return self.elements[(strategy_code, code)]

    def write_measures_and_rules(self, strategy: Strategy, item: dict[str, Any]) -> None:
        kpis = {k.goal_id: k for k in KpiGoal.objects.filter(goal__strategy=strategy)}
        derived = {d.goal_id: d for d in DerivedGoal.objects.filter(goal__strategy=strategy)}

        def walk(specs: list[dict[str, Any]]) -> None:
            for spec in specs:
                element = self.elements[(strategy.code, spec["code"])]
                wanted = {self.element(ref).pk for ref in spec.get("references", [])}
                current = set(element.references.values_list("pk", flat=True))
                if wanted != current:
                    element.references.remove(*(current - wanted))
                    element.references.add(*(wanted - current))
                    self.report.count("element reference", "created", len(wanted - current))
                    self.report.count("element reference", "removed", len(current - wanted))
                measure = spec.get("measure", {})
                self.write_kpi(element, measure.get("kpi"), kpis.get(element.pk))
                self.write_derived(element, measure.get("derived"), derived.get(element.pk))
                walk(spec.get("children", []))

        walk(item.get("elements", []))
        rules = {r.name: r for r in strategy.rules.all()}
        for spec in item.get("rules", []):
            rule = rules.pop(spec["name"], None) or AgreementRule(
                strategy=strategy, name=spec["name"]
            )
            values = {
                "kind": spec["kind"],
                "unit_level": self.levels[spec["unit_level"]],
                "active": spec.get("active", True),
            }
            self.save(rule, values, "agreement rule")
        for rule in rules.values():
            self.remove(rule, "agreement rule", in_use=rule.justifications.exists())

    def write_kpi(self, element: Element, spec: dict[str, Any] | None, kpi: KpiGoal | None) -> None:
        if spec is None:
            if kpi is not None:
                self.remove(kpi, "kpi goal")
            return
        unit_code = spec.get("unit")
        values = {
            "indicator": self.indicators[spec["indicator"]],
            "unit": self.units[unit_code] if unit_code else None,
        }
        self.save(kpi or KpiGoal(goal=element), values, "kpi goal")

    def write_derived(
        self, element: Element, spec: dict[str, Any] | None, derived: DerivedGoal | None
    ) -> None:
        if spec is None:
            if derived is not None:
                self.remove(derived, "computed goal")
            return
        depth = spec.get("unit_level")
        scope = spec.get("scope_strategy")
        values = {
            "counts": spec.get("counts", "units"),
            "unit_level": self.levels[depth] if depth else None,
            "statuses": list(spec.get("statuses", [])),
            "scope_strategy": self.strategies[scope] if scope else None,
        }
        self.save(derived or DerivedGoal(goal=element), values, "computed goal")

    def remove_from_strategy(self, strategy: Strategy, item: dict[str, Any]) -> None:
        wanted = {code for (s, code) in self.elements if s == strategy.code}
        gone = strategy.elements.exclude(code__in=wanted).select_related("level")
        for element in sorted(gone, key=lambda e: -e.level.depth):
            in_use = (
                GoalAssessment.objects.filter(goal=element).exists()
                or Comment.objects.filter(goal=element).exists()
            )
            self.remove(element, "element", in_use=in_use)
        for level in strategy.levels.filter(depth__gt=len(item["levels"])):
            self.remove(level, "strategy level")

    def remove_strategies(self) -> None:
        wanted = {s["code"] for s in self.data["strategies"]}
        gone = list(Strategy.objects.exclude(code__in=wanted).order_by("code"))

        def options(strategy: Strategy) -> dict[str, Any]:
            in_use = (
                GoalAssessment.objects.filter(goal__strategy=strategy).exists()
                or Comment.objects.filter(goal__strategy=strategy).exists()
                or InitiativeGoal.objects.filter(goal__strategy=strategy).exists()
                or AgreementRule.objects.filter(
                    strategy=strategy, justifications__isnull=False
                ).exists()
            )
            # Elements one by one, deepest first: their levels are protected while they exist.
            elements = strategy.elements.select_related("level")
            return {"in_use": in_use, "parts": sorted(elements, key=lambda e: -e.level.depth)}

        self.remove_all(gone, "strategy", options=options)

    # agreements and the annual cycle

    def write_agreements(self) -> None:
        if not self.elements:
            for element in Element.objects.select_related("strategy"):
                self.elements[(element.strategy.code, element.code)] = element
        user_model = get_user_model()
        for item in self.data["agreements"]:
            unit = self.units[item["unit"]]
            agreement = Agreement.objects.filter(unit=unit, year=item["year"]).first() or Agreement(
                unit=unit, year=item["year"]
            )
            values = {"state": item.get("state", "draft"), "summary": item.get("summary", "")}
            self.save(agreement, values, "agreement")
            existing = {i.title: i for i in agreement.initiatives.all()}
            for index, spec in enumerate(item.get("initiatives", []), start=1):
                initiative = existing.pop(spec["title"], None) or Initiative(
                    agreement=agreement, title=spec["title"]
                )
                owner = spec.get("owner")
                if owner and owner not in self.users:
                    self.users[owner] = user_model.objects.get(**{user_model.USERNAME_FIELD: owner})
                values = {
                    "description": spec.get("description", ""),
                    "owner": self.users[owner] if owner else None,
                    "start_date": _date(spec.get("start")),
                    "end_date": _date(spec.get("end")),
                    "status": spec.get("status", "planned"),
                    "position": spec.get("position", index),
                }
                self.save(initiative, values, "initiative")
                links = {link.goal_id: link for link in initiative.goal_links.all()}
                for ref in spec.get("goals", []):
                    goal = self.element(ref)
                    if links.pop(goal.pk, None) is None:
                        save_as(InitiativeGoal(initiative=initiative, goal=goal), None)
                        self.report.count("goal link", "created")
                for link in links.values():
                    self.remove(link, "goal link")
            for initiative in existing.values():
                in_use = (
                    StatusReport.objects.filter(initiative=initiative).exists()
                    or Comment.objects.filter(initiative=initiative).exists()
                )
                self.remove(initiative, "initiative", in_use=in_use)

    def write_deadlines(self) -> None:
        scope = Deadline.objects.all()
        if self.data.get("year") is not None:
            scope = scope.filter(year=self.data["year"])
        existing = {(d.year, d.title): d for d in scope}
        for item in self.data["deadlines"]:
            key = (item["year"], item["title"])
            deadline = existing.pop(key, None) or Deadline(year=key[0], title=key[1])
            depth = item.get("unit_level")
            values = {
                "kind": item["kind"],
                "due_date": _date(item["due_date"]),
                "unit_level": self.levels[depth] if depth else None,
                "period": item.get("period", ""),
                "period_start": _date(item.get("period_start")),
                "remind_days_before": item.get("remind_days_before", 7),
            }
            self.save(deadline, values, "deadline")
        for deadline in existing.values():
            self.remove(deadline, "deadline")
