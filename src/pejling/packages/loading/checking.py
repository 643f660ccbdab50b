"""``Checker``: everything wrong with a package, each problem with its path in the file,
found before anything is written. The domain's rules are called from their homes (the
``validation`` modules the services call too)."""

from __future__ import annotations

from typing import Any

from pejling.indicators.models import Aggregation
from pejling.indicators.sources.records import PeriodError, parse_period
from pejling.indicators.validation import (
    aggregation_problem,
    negative_problem,
    period_kind_problem,
    stored_values_problem,
)
from pejling.packages.formats import PackageError, path_text
from pejling.packages.loading.check_base import (
    SCALE_DECIMAL,
    VALUE_DECIMAL,
    Checked,
    dependency_order,
)
from pejling.packages.loading.check_strategies import StrategyChecks
from pejling.packages.loading.portfolio import check_portfolio


class Checker(StrategyChecks):
    def run(self) -> Checked:
        """The creation orders; raise :class:`PackageError` listing every problem found."""
        self.check_unit_levels()
        unit_order = self.check_units()
        self.check_people()
        indicator_order = self.check_indicators()
        strategy_order = self.check_strategies()
        self.check_agreements()
        self.check_deadlines()
        self.check_values()
        if "portfolio" in self.data:
            check_portfolio(self)
        if self.problems:
            raise PackageError(self.problems)
        return Checked(unit_order, strategy_order, indicator_order)

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
        for i, indicator in enumerate(self.data.get("indicators", [])):
            path = f"indicators[{i}]"
            code = indicator["code"]
            if code in self.indicators:
                self.add(f"{path}.code", f'duplicate code "{code}"')
                continue
            self.indicators[code] = indicator
            paths[code] = path
            self.decimal(f"{path}.scale", indicator.get("scale"), SCALE_DECIMAL)
        deps = {
            code: self.check_indicator(paths[code], item) for code, item in self.indicators.items()
        }
        order, cycles = dependency_order(deps)
        self.cycles(cycles, paths, "indicators")
        return order

    def check_indicator(self, path: str, indicator: dict[str, Any]) -> list[str]:
        """Check what ``indicator`` is computed from; the codes it depends on."""
        refs = [r for r in ("numerator", "denominator", "weight") if indicator.get(r)]
        for ref in refs:
            if indicator[ref] not in self.indicators:
                self.add(f"{path}.{ref}", f'unknown indicator "{indicator[ref]}"')
        self.add(
            path,
            aggregation_problem(
                ratio=indicator.get("aggregation") == Aggregation.RATIO,
                weighted_mean=indicator.get("aggregation") == Aggregation.WEIGHTED_MEAN,
                numerator="numerator" in refs,
                denominator="denominator" in refs,
                weight="weight" in refs,
            ),
        )
        return [indicator[r] for r in refs]

    def check_values(self) -> None:
        for code, rows in self.data.get("indicator_values", {}).items():
            path = path_text(["indicator_values", code])
            indicator = self.indicators.get(code)
            if indicator is None:
                self.add(path, f'unknown indicator "{code}"')
                continue
            problem = stored_values_problem(ratio=indicator.get("aggregation") == Aggregation.RATIO)
            if problem:
                self.add(path, problem)
                continue
            seen: set[tuple[str, str]] = set()
            for r, row in enumerate(rows):
                self.check_value(f"{path}[{r}]", indicator, row, seen)

    def check_value(
        self, row_path: str, indicator: dict[str, Any], row: list[Any], seen: set[tuple[str, str]]
    ) -> None:
        unit, period_text, value = row
        self.unit(f"{row_path}[0]", unit)
        try:
            period = parse_period(period_text)
        except PeriodError as exc:
            self.add(f"{row_path}[1]", f"bad period: {exc}")
        else:
            periodicity = indicator.get("periodicity", "month")
            problem = period_kind_problem(period.kind, periodicity)
            if problem:
                self.add(f"{row_path}[1]", f"{problem} ({period} is not a {periodicity} period)")
            if (unit, str(period)) in seen:
                self.add(row_path, f"duplicate value for unit {unit} and period {period}")
            seen.add((unit, str(period)))
        number = self.decimal(f"{row_path}[2]", value, VALUE_DECIMAL)
        if number is not None:
            self.add(
                f"{row_path}[2]",
                negative_problem(number, allow_negative=indicator.get("allow_negative", False)),
            )
