"""Checks of a package's strategies, agreements and deadlines. The domain's rules come from
their homes (``strategy/validation.py``, ``agreements/validation.py``), the same functions the
services call; what is checked here besides is what a file can get wrong: references,
duplicates, cycles and sizes."""

from __future__ import annotations

from typing import Any

from pejling.agreements.validation import GoalFacts, goal_link_problem, initiative_dates_problem
from pejling.packages.loading.check_base import (
    ELEMENT_DECIMAL,
    CheckerBase,
    ElementInfo,
    dependency_order,
    iso_date,
)
from pejling.strategy.validation import (
    references_problem,
    target_date_problem,
    year_span_problem,
)


class StrategyChecks(CheckerBase):
    def check_strategies(self) -> list[str]:
        paths: dict[str, str] = {}
        deps: dict[str, list[str]] = {}
        pending: list[tuple[str, str, dict[str, Any]]] = []  # checked once all are known
        for i, strategy in enumerate(self.data.get("strategies", [])):
            path = f"strategies[{i}]"
            code = strategy["code"]
            if code in self.strategies:
                self.add(f"{path}.code", f'duplicate code "{code}"')
                continue
            self.strategies[code] = strategy
            paths[code] = path
            deps[code] = [strategy["parent"]] if strategy.get("parent") else []
            self.add(
                f"{path}.end_year", year_span_problem(strategy["start_year"], strategy["end_year"])
            )
            self.check_rules(path, strategy.get("rules", []))
            self.walk_elements(
                strategy, strategy.get("elements", []), f"{path}.elements", 1, pending
            )
        for code, parent in deps.items():
            if parent and parent[0] not in self.strategies:
                self.add(f"{paths[code]}.parent", f'unknown strategy "{parent[0]}"')
        order, cycles = dependency_order(deps)
        self.cycles(cycles, paths, "parents")
        for strategy_code, path, element in pending:
            self.check_references(strategy_code, path, element.get("references", []))
            self.check_measure(f"{path}.measure", element.get("measure"))
        return order

    def check_rules(self, path: str, rules: list[dict[str, Any]]) -> None:
        names: set[str] = set()
        for j, rule in enumerate(rules):
            if rule["name"] in names:
                self.add(f"{path}.rules[{j}].name", f'duplicate rule "{rule["name"]}"')
            names.add(rule["name"])
            self.unit_level(f"{path}.rules[{j}].unit_level", rule["unit_level"])

    def walk_elements(
        self,
        strategy: dict[str, Any],
        items: list[dict[str, Any]],
        where: str,
        depth: int,
        pending: list[tuple[str, str, dict[str, Any]]],
    ) -> None:
        levels = strategy["levels"]
        for k, element in enumerate(items):
            path = f"{where}[{k}]"
            key = (strategy["code"], element["code"])
            if key in self.elements:
                self.add(f"{path}.code", f'duplicate code "{element["code"]}"')
            elif depth > len(levels):
                self.add(
                    path,
                    f"unknown level depth {depth}: the strategy has "
                    f"{len(levels)} level{'s' if len(levels) != 1 else ''}",
                )
            else:
                level = levels[depth - 1]
                goal = GoalFacts(
                    title=element["title"],
                    level_name=level["name"],
                    holds_goals=level.get("holds_goals", False),
                    strategy_title=strategy["title"],
                    start_year=strategy["start_year"],
                    end_year=strategy["end_year"],
                )
                self.elements[key] = ElementInfo(path, depth, goal)
            pending.append((strategy["code"], path, element))
            self.walk_elements(
                strategy, element.get("children", []), f"{path}.children", depth + 1, pending
            )

    def check_references(self, strategy_code: str, path: str, references: list[str]) -> None:
        known = []
        for r, ref in enumerate(references):
            if self.element(f"{path}.references[{r}]", ref) is not None:
                known.append(ref.split(":", 1)[0])
        self.add(f"{path}.references", references_problem(strategy_code, known))

    def check_measure(self, path: str, measure: dict[str, Any] | None) -> None:
        if not measure:
            return
        for name in ("baseline_value", "target_value"):
            self.decimal(f"{path}.{name}", measure.get(name), ELEMENT_DECIMAL)
        self.add(
            f"{path}.target_date",
            target_date_problem(
                iso_date(measure.get("baseline_date")), iso_date(measure.get("target_date"))
            ),
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
            key = (agreement["unit"], agreement["year"])
            if key in seen:
                self.add(path, f"duplicate agreement for unit {key[0]} and year {key[1]}")
            seen.add(key)
            self.unit(f"{path}.unit", agreement["unit"])
            self.in_year(f"{path}.year", agreement["year"])
            titles: set[str] = set()
            for j, initiative in enumerate(agreement.get("initiatives", [])):
                where = f"{path}.initiatives[{j}]"
                if initiative["title"] in titles:
                    self.add(f"{where}.title", f'duplicate title "{initiative["title"]}"')
                titles.add(initiative["title"])
                self.check_initiative(where, initiative, agreement["year"])

    def check_initiative(self, where: str, initiative: dict[str, Any], year: int) -> None:
        owner = initiative.get("owner")
        if owner and owner not in self.people:
            self.add(f"{where}.owner", f'unknown person "{owner}" (not in people)')
        self.add(
            f"{where}.end",
            initiative_dates_problem(
                iso_date(initiative.get("start")), iso_date(initiative.get("end"))
            ),
        )
        for g, ref in enumerate(initiative.get("goals", [])):
            info = self.element(f"{where}.goals[{g}]", ref)
            if info is not None:
                self.add(f"{where}.goals[{g}]", goal_link_problem(info.goal, year))

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
