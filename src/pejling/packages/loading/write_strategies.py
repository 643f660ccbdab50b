"""Writing a package's strategies: levels, element trees, references, measures and agreement
rules, each through its domain service (``strategy/services.py``,
``indicators/services.py``, ``followup/services.py``)."""

from __future__ import annotations

from typing import Any

from pejling.agreements.models import InitiativeGoal
from pejling.core.history import SYSTEM
from pejling.followup import services as followup_services
from pejling.followup.models import Comment, DerivedGoal, GoalAssessment
from pejling.indicators import services as indicator_services
from pejling.indicators.models import Indicator, KpiGoal
from pejling.packages.formats import to_decimal
from pejling.packages.loading.check_base import iso_date
from pejling.packages.loading.write_base import WriterBase
from pejling.strategy import services
from pejling.strategy.models import AgreementRule, Element, Strategy, StrategyLevel


def _strategy_values(item: dict[str, Any], parent: Strategy | None) -> dict[str, Any]:
    return {
        "title": item["title"],
        "summary": item.get("summary", ""),
        "body": item.get("body", ""),
        "start_year": item["start_year"],
        "end_year": item["end_year"],
        "parent": parent,
        "status": item.get("status", "draft"),
        "position": item.get("position", 0),
    }


def _element_values(spec: dict[str, Any], index: int) -> dict[str, Any]:
    measure = spec.get("measure", {})
    return {
        "title": spec["title"],
        "description": spec.get("description", ""),
        "position": spec.get("position", index),
        "measure_kind": measure.get("kind", ""),
        "target_text": measure.get("target_text", ""),
        "measure_unit": measure.get("unit", ""),
        "baseline_value": to_decimal(measure.get("baseline_value")),
        "baseline_date": iso_date(measure.get("baseline_date")),
        "target_value": to_decimal(measure.get("target_value")),
        "target_date": iso_date(measure.get("target_date")),
        "source": measure.get("source", ""),
    }


def _save_strategy(strategy: Strategy) -> None:
    services.strategy_save(strategy=strategy, by=SYSTEM)


def _save_element(element: Element) -> None:
    services.element_save(element=element, by=SYSTEM)


class StrategyWriter(WriterBase):
    def write_strategies(self) -> None:
        items = {s["code"]: (f"strategies[{i}]", s) for i, s in enumerate(self.data["strategies"])}
        self.strategies = {s.code: s for s in Strategy.objects.all()}
        self.indicators = self.indicators or {i.code: i for i in Indicator.objects.all()}
        for code in self.checked.strategy_order:
            path, item = items[code]
            strategy = self.strategies.get(code) or Strategy(code=code)
            parent = self.strategies[item["parent"]] if item.get("parent") else None
            values = _strategy_values(item, parent)
            self.save(path, strategy, values, "strategy", _save_strategy)
            self.strategies[code] = strategy
            if strategy.pk is not None:
                self.write_elements(path, strategy, item)
        for code, (path, item) in items.items():
            if self.strategies[code].pk is not None:
                self.write_measures_and_rules(path, self.strategies[code], item)

    def write_levels(
        self, path: str, strategy: Strategy, specs: list[dict[str, Any]]
    ) -> dict[int, StrategyLevel]:
        existing = {lv.depth: lv for lv in strategy.levels.all()}
        levels: dict[int, StrategyLevel] = {}
        for depth, spec in enumerate(specs, start=1):
            level = existing.get(depth) or StrategyLevel(strategy=strategy, depth=depth)
            values = {
                "name": spec["name"],
                "name_plural": spec.get("plural", ""),
                "holds_goals": spec.get("holds_goals", False),
            }
            self.save(
                f"{path}.levels[{depth - 1}]",
                level,
                values,
                "strategy level",
                lambda lv: services.strategy_level_save(level=lv, by=SYSTEM),
            )
            levels[depth] = level
        return levels

    def write_elements(self, path: str, strategy: Strategy, item: dict[str, Any]) -> None:
        levels = self.write_levels(path, strategy, item["levels"])
        existing = {e.code: e for e in strategy.elements.all()}

        def walk(
            specs: list[dict[str, Any]], where: str, parent: Element | None, depth: int
        ) -> None:
            for index, spec in enumerate(specs, start=1):
                element_path = f"{where}[{index - 1}]"
                element = existing.get(spec["code"]) or Element(
                    strategy=strategy, code=spec["code"]
                )
                values = {"parent": parent, "level": levels[depth], **_element_values(spec, index)}
                self.save(element_path, element, values, "element", _save_element)
                if element.pk is None:  # refused: a problem is noted, its subtree is left
                    continue
                self.elements[(strategy.code, element.code)] = element
                walk(spec.get("children", []), f"{element_path}.children", element, depth + 1)

        walk(item.get("elements", []), f"{path}.elements", None, 1)

    def element(self, ref: str) -> Element:
        strategy_code, code = ref.split(":", 1)
        return self.elements[(strategy_code, code)]

    def write_measures_and_rules(self, path: str, strategy: Strategy, item: dict[str, Any]) -> None:
        kpis = {k.goal_id: k for k in KpiGoal.objects.filter(goal__strategy=strategy)}
        derived = {d.goal_id: d for d in DerivedGoal.objects.filter(goal__strategy=strategy)}

        def walk(specs: list[dict[str, Any]], where: str) -> None:
            for index, spec in enumerate(specs):
                element_path = f"{where}[{index}]"
                element = self.elements.get((strategy.code, spec["code"]))
                if element is None:
                    continue
                self.write_references(element_path, element, spec.get("references", []))
                measure = spec.get("measure", {})
                self.write_kpi(element_path, element, measure.get("kpi"), kpis.get(element.pk))
                self.write_derived(
                    element_path, element, measure.get("derived"), derived.get(element.pk)
                )
                walk(spec.get("children", []), f"{element_path}.children")

        walk(item.get("elements", []), f"{path}.elements")
        self.write_rules(path, strategy, item.get("rules", []))

    def write_references(self, path: str, element: Element, refs: list[str]) -> None:
        wanted = [self.element(ref) for ref in refs]
        current = set(element.references.values_list("pk", flat=True))
        added = {e.pk for e in wanted} - current
        gone = current - {e.pk for e in wanted}
        if not (added or gone):
            return
        if self.attempt(
            f"{path}.references",
            lambda: services.element_references_set(element=element, by=SYSTEM, references=wanted),
        ):
            self.report.count("element reference", "created", len(added))
            self.report.count("element reference", "removed", len(gone))

    def write_rules(self, path: str, strategy: Strategy, specs: list[dict[str, Any]]) -> None:
        rules = {r.name: r for r in strategy.rules.all()}
        for j, spec in enumerate(specs):
            rule = rules.pop(spec["name"], None) or AgreementRule(
                strategy=strategy, name=spec["name"]
            )
            values = {
                "kind": spec["kind"],
                "unit_level": self.levels[spec["unit_level"]],
                "active": spec.get("active", True),
            }
            self.save(
                f"{path}.rules[{j}]",
                rule,
                values,
                "agreement rule",
                lambda r: services.rule_save(rule=r, by=SYSTEM),
            )
        for rule in rules.values():
            self.remove(rule, "agreement rule", lambda r: services.rule_delete(rule=r, by=SYSTEM))

    def write_kpi(
        self, path: str, element: Element, spec: dict[str, Any] | None, kpi: KpiGoal | None
    ) -> None:
        if spec is None:
            if kpi is not None:
                self.remove(
                    kpi, "kpi goal", lambda k: indicator_services.kpi_goal_delete(kpi=k, by=SYSTEM)
                )
            return
        unit_code = spec.get("unit")
        values = {
            "indicator": self.indicators[spec["indicator"]],
            "unit": self.units[unit_code] if unit_code else None,
        }
        self.save(
            f"{path}.measure.kpi",
            kpi or KpiGoal(goal=element),
            values,
            "kpi goal",
            lambda k: indicator_services.kpi_goal_save(kpi=k, by=SYSTEM),
        )

    def write_derived(
        self, path: str, element: Element, spec: dict[str, Any] | None, derived: DerivedGoal | None
    ) -> None:
        if spec is None:
            if derived is not None:
                self.remove(
                    derived,
                    "computed goal",
                    lambda d: followup_services.derived_goal_delete(derived=d, by=SYSTEM),
                )
            return
        depth = spec.get("unit_level")
        scope = spec.get("scope_strategy")
        values = {
            "counts": spec.get("counts", "units"),
            "unit_level": self.levels[depth] if depth else None,
            "statuses": list(spec.get("statuses", [])),
            "scope_strategy": self.strategies[scope] if scope else None,
        }
        self.save(
            f"{path}.measure.derived",
            derived or DerivedGoal(goal=element),
            values,
            "computed goal",
            lambda d: followup_services.derived_goal_save(derived=d, by=SYSTEM),
        )

    def remove_from_strategy(self, strategy: Strategy, item: dict[str, Any]) -> None:
        wanted = {code for (s, code) in self.elements if s == strategy.code}
        gone = strategy.elements.exclude(code__in=wanted).select_related("level")
        for element in sorted(gone, key=lambda e: -e.level.depth):
            in_use = (
                GoalAssessment.objects.filter(goal=element).exists()
                or Comment.objects.filter(goal=element).exists()
            )
            self.remove(
                element,
                "element",
                lambda e: services.element_delete(element=e, by=SYSTEM),
                in_use=in_use,
            )
        for level in strategy.levels.filter(depth__gt=len(item["levels"])):
            self.remove(
                level,
                "strategy level",
                lambda lv: services.strategy_level_delete(level=lv, by=SYSTEM),
            )

    def remove_strategies(self) -> None:
        wanted = {s["code"] for s in self.data["strategies"]}
        gone = list(Strategy.objects.exclude(code__in=wanted).order_by("code"))
        sizes = {strategy.code: strategy.elements.count() for strategy in gone}
        removed = self.remove_all(
            gone,
            "strategy",
            lambda s: services.strategy_delete(strategy=s, by=SYSTEM),
            in_use=_strategy_in_use,
        )
        for strategy in removed:
            self.report.count("element", "removed", sizes[strategy.code])


def _strategy_in_use(strategy: Strategy) -> bool:
    """Whether anything outside a package depends on ``strategy`` (so it is kept)."""
    return (
        GoalAssessment.objects.filter(goal__strategy=strategy).exists()
        or Comment.objects.filter(goal__strategy=strategy).exists()
        or InitiativeGoal.objects.filter(goal__strategy=strategy).exists()
        or AgreementRule.objects.filter(strategy=strategy, justifications__isnull=False).exists()
    )
