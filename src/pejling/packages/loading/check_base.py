"""What every part of a package's check shares: the problems found, and the references."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pejling.agreements.validation import GoalFacts
from pejling.packages.formats import Problem, fits, to_decimal

# Sizes of the decimal fields: (max_digits, decimal_places).
ELEMENT_DECIMAL = (14, 4)
SCALE_DECIMAL = (10, 4)
VALUE_DECIMAL = (20, 6)


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


def iso_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass
class ElementInfo:
    """An element of the package, as the checks of what refers to it need it."""

    path: str
    depth: int
    goal: GoalFacts


@dataclass
class Checked:
    """What the writer needs from the checks: creation orders that respect dependencies."""

    unit_order: list[str]
    strategy_order: list[str]
    indicator_order: list[str]


class CheckerBase:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[Problem] = []
        self.level_depths: set[int] = set()
        self.units: dict[str, str] = {}  # code → path in the file
        self.people: set[str] = set()
        self.indicators: dict[str, dict[str, Any]] = {}
        self.strategies: dict[str, dict[str, Any]] = {}
        self.elements: dict[tuple[str, str], ElementInfo] = {}

    def add(self, path: str, message: str | None) -> None:
        """Note a problem at ``path`` (none: the rule was met)."""
        if message:
            self.problems.append(Problem(path, message))

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

    def in_year(self, path: str, year: int) -> None:
        package_year = self.data.get("year")
        if package_year is not None and year != package_year:
            self.add(path, f"{year} is not the package's year {package_year}")
