"""``dump_package``: the database as a package, in a stable order so that the same data always
gives the same file, byte for byte."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from pejling.agreements.models import Agreement, Initiative, InitiativeGoal
from pejling.followup.models import Deadline, DerivedGoal
from pejling.indicators.models import Indicator, IndicatorValue, KpiGoal
from pejling.indicators.sources.records import parse_period
from pejling.organisation.models import Membership, Unit, UnitLevel
from pejling.packages.formats import FORMAT, FlowList, decimal_text
from pejling.strategy.models import AgreementRule, Element, Strategy, StrategyLevel


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def compact(item: dict[str, Any]) -> dict[str, Any]:
    """Leave out empty values (None, "", [], {}): the loader reads a missing key as empty."""
    return {k: v for k, v in item.items() if v is not None and v != "" and v != [] and v != {}}


def dump_package(
    *, year: int | None = None, with_values: bool = True, with_people: bool = True
) -> dict[str, Any]:
    """Everything Pejling knows, as a package (a plain dict ready for YAML or JSON).

    ``year`` keeps only the agreements and deadlines of that year. Without people, initiative
    owners are left out too, so the package stays self-contained.
    """
    package: dict[str, Any] = {"format": FORMAT}
    if year is not None:
        package["year"] = year
    unit_codes = dict(Unit.objects.values_list("pk", "code"))
    package["unit_levels"] = [
        compact({"depth": lv.depth, "name": lv.name, "plural": lv.name_plural})
        for lv in UnitLevel.objects.order_by("depth")
    ]
    package["units"] = _units()
    agreements = Agreement.objects.all() if year is None else Agreement.objects.filter(year=year)
    if with_people:
        package["people"] = _people(unit_codes, agreements)
    package["indicators"] = _indicators()
    package["strategies"] = _strategies(unit_codes)
    package["agreements"] = _agreements(agreements, unit_codes, with_owners=with_people)
    deadlines = Deadline.objects.select_related("unit_level")
    if year is not None:
        deadlines = deadlines.filter(year=year)
    package["deadlines"] = [
        compact(
            {
                "year": d.year,
                "kind": d.kind,
                "title": d.title,
                "due_date": _iso(d.due_date),
                "unit_level": d.unit_level.depth if d.unit_level else None,
                "period": d.period,
                "period_start": _iso(d.period_start),
                "remind_days_before": d.remind_days_before,
            }
        )
        for d in sorted(deadlines, key=lambda d: (d.year, d.due_date, d.title))
    ]
    if with_values:
        package["indicator_values"] = _values(unit_codes)
    if with_people:
        from pejling.packages.loading.portfolio import dump_portfolio

        portfolio = dump_portfolio()
        if portfolio:
            package["portfolio"] = portfolio
    return package


def _units() -> list[dict[str, Any]]:
    """Units depth first, siblings by code (not by path, which depends on insertion history)."""
    units = list(Unit.objects.select_related("level"))
    by_path = {u.path: u for u in units}
    children: dict[str | None, list[Unit]] = defaultdict(list)
    for unit in units:
        parent = by_path.get(unit.path[: -unit.steplen]) if unit.depth > 1 else None
        children[parent.code if parent else None].append(unit)
    rows: list[dict[str, Any]] = []

    def walk(parent_code: str | None) -> None:
        for unit in sorted(children[parent_code], key=lambda u: u.code):
            rows.append(
                compact(
                    {
                        "code": unit.code,
                        "name": unit.name,
                        "level": unit.level.depth,
                        "parent": parent_code,
                        "closed_on": _iso(unit.closed_on),
                        "description": unit.description,
                    }
                )
            )
            walk(unit.code)

    walk(None)
    return rows


def _people(unit_codes: dict[int, str], agreements: Any) -> list[dict[str, Any]]:
    users = (
        get_user_model()
        .objects.filter(
            Q(memberships__isnull=False)
            | Q(owned_initiatives__agreement__in=agreements.values("pk"))
        )
        .distinct()
    )
    memberships: dict[int, list[Membership]] = defaultdict(list)
    for membership in Membership.objects.all():
        memberships[membership.user_id].append(membership)
    rows = []
    for user in sorted(users, key=lambda u: u.get_username()):
        own = sorted(memberships[user.pk], key=lambda m: (unit_codes[m.unit_id], m.role))
        rows.append(
            compact(
                {
                    "username": user.get_username(),
                    "first_name": getattr(user, "first_name", ""),
                    "last_name": getattr(user, "last_name", ""),
                    "email": getattr(user, "email", ""),
                    "memberships": [
                        compact(
                            {
                                "unit": unit_codes[m.unit_id],
                                "role": m.role,
                                "title": m.title,
                                "ends_on": _iso(m.ends_on),
                            }
                        )
                        for m in own
                    ],
                }
            )
        )
    return rows


def _indicators() -> list[dict[str, Any]]:
    codes = dict(Indicator.objects.values_list("pk", "code"))
    return [
        compact(
            {
                "code": i.code,
                "name": i.name,
                "description": i.description,
                "unit": i.measure_unit,
                "direction": i.direction,
                "periodicity": i.periodicity,
                "source": i.source,
                "aggregation": i.aggregation,
                "numerator": codes.get(i.numerator_id) if i.numerator_id else None,
                "denominator": codes.get(i.denominator_id) if i.denominator_id else None,
                "weight": codes.get(i.weight_id) if i.weight_id else None,
                "scale": decimal_text(i.scale),
                "allow_negative": i.allow_negative,
            }
        )
        for i in Indicator.objects.order_by("code")
    ]


def _strategies(unit_codes: dict[int, str]) -> list[dict[str, Any]]:
    strategies = list(Strategy.objects.all())
    codes = {s.pk: s.code for s in strategies}
    levels: dict[int, list[StrategyLevel]] = defaultdict(list)
    for level in StrategyLevel.objects.order_by("depth"):
        levels[level.strategy_id].append(level)
    rules: dict[int, list[AgreementRule]] = defaultdict(list)
    for rule in AgreementRule.objects.select_related("unit_level"):
        rules[rule.strategy_id].append(rule)
    elements = list(Element.objects.all())
    element_refs = {e.pk: f"{codes[e.strategy_id]}:{e.code}" for e in elements}
    references: dict[int, list[str]] = defaultdict(list)
    for from_id, to_id in Element.references.through.objects.values_list(
        "from_element_id", "to_element_id"
    ):
        references[from_id].append(element_refs[to_id])
    indicator_codes = dict(Indicator.objects.values_list("pk", "code"))
    kpis = {k.goal_id: k for k in KpiGoal.objects.all()}
    derived = {d.goal_id: d for d in DerivedGoal.objects.select_related("unit_level")}
    children: dict[tuple[int, int | None], list[Element]] = defaultdict(list)
    for element in elements:
        children[(element.strategy_id, element.parent_id)].append(element)

    def measure(e: Element) -> dict[str, Any]:
        kpi = kpis.get(e.pk)
        computed = derived.get(e.pk)
        return compact(
            {
                "kind": e.measure_kind,
                "target_text": e.target_text,
                "unit": e.measure_unit,
                "baseline_value": decimal_text(e.baseline_value),
                "baseline_date": _iso(e.baseline_date),
                "target_value": decimal_text(e.target_value),
                "target_date": _iso(e.target_date),
                "source": e.source,
                "kpi": compact(
                    {
                        "indicator": indicator_codes[kpi.indicator_id],
                        "unit": unit_codes[kpi.unit_id] if kpi.unit_id else None,
                    }
                )
                if kpi
                else None,
                "derived": compact(
                    {
                        "counts": computed.counts,
                        "unit_level": computed.unit_level.depth if computed.unit_level else None,
                        "statuses": [str(s) for s in computed.statuses],
                        "scope_strategy": codes[computed.scope_strategy_id]
                        if computed.scope_strategy_id
                        else None,
                    }
                )
                if computed
                else None,
            }
        )

    def tree(strategy_id: int, parent_id: int | None) -> list[dict[str, Any]]:
        return [
            compact(
                {
                    "code": e.code,
                    "title": e.title,
                    "description": e.description,
                    "position": e.position,
                    "measure": measure(e),
                    "references": sorted(references[e.pk]),
                    "children": tree(strategy_id, e.pk),
                }
            )
            for e in sorted(children[(strategy_id, parent_id)], key=lambda e: (e.position, e.code))
        ]

    return [
        compact(
            {
                "code": s.code,
                "title": s.title,
                "summary": s.summary,
                "body": s.body,
                "start_year": s.start_year,
                "end_year": s.end_year,
                "parent": codes[s.parent_id] if s.parent_id else None,
                "status": s.status,
                "position": s.position,
                "levels": [
                    compact(
                        {"name": lv.name, "plural": lv.name_plural, "holds_goals": lv.holds_goals}
                    )
                    for lv in levels[s.pk]
                ],
                "rules": [
                    compact(
                        {
                            "name": r.name,
                            "kind": r.kind,
                            "unit_level": r.unit_level.depth,
                            "active": r.active,
                        }
                    )
                    for r in sorted(rules[s.pk], key=lambda r: (r.name, r.kind))
                ],
                "elements": tree(s.pk, None),
            }
        )
        for s in sorted(strategies, key=lambda s: (s.position, s.code))
    ]


def _agreements(
    agreements: Any, unit_codes: dict[int, str], *, with_owners: bool
) -> list[dict[str, Any]]:
    agreements = list(agreements)
    initiatives: dict[int, list[Initiative]] = defaultdict(list)
    for initiative in Initiative.objects.filter(agreement__in=agreements).select_related("owner"):
        initiatives[initiative.agreement_id].append(initiative)
    goals: dict[int, list[str]] = defaultdict(list)
    links = InitiativeGoal.objects.filter(initiative__agreement__in=agreements).values_list(
        "initiative_id", "goal__strategy__code", "goal__code"
    )
    for initiative_id, strategy_code, element_code in links:
        goals[initiative_id].append(f"{strategy_code}:{element_code}")
    rows = []
    for agreement in sorted(agreements, key=lambda a: (a.year, unit_codes[a.unit_id])):
        rows.append(
            compact(
                {
                    "unit": unit_codes[agreement.unit_id],
                    "year": agreement.year,
                    "state": agreement.state,
                    "summary": agreement.summary,
                    "initiatives": [
                        compact(
                            {
                                "title": i.title,
                                "description": i.description,
                                "owner": i.owner.get_username()
                                if with_owners and i.owner
                                else None,
                                "start": _iso(i.start_date),
                                "end": _iso(i.end_date),
                                "status": i.status,
                                "position": i.position,
                                "goals": sorted(goals[i.pk]),
                            }
                        )
                        for i in sorted(
                            initiatives[agreement.pk], key=lambda i: (i.position, i.title)
                        )
                    ],
                }
            )
        )
    return rows


def _values(unit_codes: dict[int, str]) -> dict[str, list[FlowList]]:
    codes = dict(Indicator.objects.values_list("pk", "code"))
    rows: dict[str, list[tuple[str, Any, str, str]]] = defaultdict(list)
    values = IndicatorValue.objects.values_list("indicator_id", "unit_id", "period", "value")
    for indicator_id, unit_id, period, value in values.iterator(chunk_size=5000):
        unit = unit_codes[unit_id]
        rows[codes[indicator_id]].append(
            (unit, parse_period(period), period, decimal_text(value) or "0")
        )
    return {
        code: [FlowList([unit, period, value]) for unit, _p, period, value in sorted(rows[code])]
        for code in sorted(rows)
    }
