"""Bring the unit tree in line with a source: create, update, move and end-date units.

The caller (OS2mo or file sync) says which units it wants (:class:`SourceUnit`), which of them
already exist (``matches``), and which unmatched units to end-date. :func:`check` finds the
parent cycles; :func:`apply` writes, inside the caller's transaction:

* units are handled parents first (by their depth in the tree as it will be), so a unit's new
  parent is always in place before the unit moves under it, and never below it;
* a move is treebeard's ``move`` (the unit takes its subtree along; primary keys do not change,
  so agreements, memberships and values stay with the unit), and every created, changed, moved
  or closed unit gets one history row through ``save_as`` with the acting user and a reason;
* treebeard shifts sibling paths on every insert, so no unit object is saved after another
  write without being read afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from pejling.core.history import save_as
from pejling.organisation.models import Unit, UnitLevel

from .report import Change, LevelSpec, RowError, SourceUnit, SyncReport

# A node of the tree as it will be: an existing unit ("u", pk) or a unit to create ("k", key).
Node = tuple[str, Any]


@dataclass
class Existing:
    """What we need of an existing unit, read once."""

    pk: int
    code: str
    name: str
    level_id: int
    unit_type: str
    closed_on: date | None
    external_id: Any
    parent_pk: int | None


def load_existing() -> dict[int, Existing]:
    rows = list(
        Unit.objects.order_by("path").values_list(
            "pk",
            "path",
            "depth",
            "code",
            "name",
            "level_id",
            "unit_type",
            "closed_on",
            "external_id",
        )
    )
    by_path = {path: pk for pk, path, *_ in rows}
    step = Unit.steplen
    return {
        pk: Existing(
            pk=pk,
            code=code,
            name=name,
            level_id=level_id,
            unit_type=unit_type,
            closed_on=closed_on,
            external_id=external_id,
            parent_pk=by_path.get(path[:-step]) if depth > 1 else None,
        )
        for pk, path, depth, code, name, level_id, unit_type, closed_on, external_id in rows
    }


@dataclass
class Plan:
    """Everything :func:`apply` needs; ``external_parents`` maps a wanted unit's key to an
    existing unit (not among the wanted) that is its parent."""

    wanted: list[SourceUnit]
    existing: dict[int, Existing]
    matches: dict[str, int]  # wanted key -> existing pk
    external_parents: dict[str, int]
    close_unmatched: Callable[[Existing], bool]
    reason: str

    def __post_init__(self) -> None:
        self.by_key = {item.key: item for item in self.wanted}
        self.matched_pks = {pk: key for key, pk in self.matches.items()}

    def node_of(self, key: str) -> Node:
        pk = self.matches.get(key)
        return ("u", pk) if pk is not None else ("k", key)

    def parent_of(self, node: Node) -> Node | None:
        """The node's parent in the tree as it will be."""
        kind, ident = node
        key = ident if kind == "k" else self.matched_pks.get(ident)
        if key is not None:
            item = self.by_key[key]
            if item.parent_key is not None:
                return self.node_of(item.parent_key)
            if key in self.external_parents:
                return ("u", self.external_parents[key])
            return None
        parent_pk = self.existing[ident].parent_pk
        return None if parent_pk is None else ("u", parent_pk)

    def depths(self) -> tuple[dict[Node, int], list[list[Node]]]:
        """Depth of every wanted node in the tree as it will be, and the cycles found."""
        depth: dict[Node, int] = {}
        cycles: list[list[Node]] = []
        on_cycle: set[Node] = set()
        for item in self.wanted:
            start = self.node_of(item.key)
            chain: list[Node] = []
            position: dict[Node, int] = {}
            node: Node | None = start
            while node is not None and node not in depth and node not in on_cycle:
                if node in position:
                    cycle = chain[position[node] :]
                    cycles.append(cycle)
                    on_cycle.update(cycle)
                    break
                position[node] = len(chain)
                chain.append(node)
                node = self.parent_of(node)
            base = 0 if node is None else depth.get(node)
            if base is None:  # the chain runs into a cycle
                on_cycle.update(chain)
                continue
            for offset, member in enumerate(reversed(chain), start=1):
                depth[member] = base + offset
        return depth, cycles

    def label(self, node: Node) -> str:
        kind, ident = node
        if kind == "k":
            return self.by_key[ident].code or ident
        key = self.matched_pks.get(ident)
        return (self.by_key[key].code if key else None) or self.existing[ident].code


def cycle_errors(plan: Plan, *, parent_column: str = "parent") -> list[RowError]:
    """Parent cycles among the wanted units (and the existing units they would hang under),
    one error for each wanted unit on a cycle; the detail reads child → parent → ..."""
    _, cycles = plan.depths()
    errors: list[RowError] = []
    for cycle in cycles:
        path = " → ".join(plan.label(node) for node in [*cycle, cycle[0]])
        for node in cycle:
            kind, ident = node
            key = ident if kind == "k" else plan.matched_pks.get(ident)
            if key is not None:
                errors.append(RowError(plan.by_key[key].row, parent_column, "cycle", path))
    return errors


class _Levels:
    def __init__(self, report: SyncReport) -> None:
        self.by_depth = {level.depth: level for level in UnitLevel.objects.all()}
        self.report = report

    def get(self, spec: LevelSpec) -> UnitLevel:
        level = self.by_depth.get(spec.depth)
        if level is None:
            with translation.override(settings.LANGUAGE_CODE):
                name = spec.name or gettext("Level %(depth)d") % {"depth": spec.depth}
            level = UnitLevel.objects.create(depth=spec.depth, name=name, name_plural=name)
            self.by_depth[spec.depth] = level
            self.report.levels_created += 1
        return level


def _fresh(pk: int) -> Unit:
    return Unit.objects.get(pk=pk)


def apply(plan: Plan, *, by: Any, report: SyncReport) -> None:
    """Write the plan (the caller holds the transaction and has run :func:`cycle_errors`).

    Steps: park codes that would clash, then create, update or move each wanted unit, parents
    before children, then close the existing units nobody wants any more.
    """
    depth, cycles = plan.depths()
    if cycles:
        raise ValueError("apply() called on a plan with parent cycles")
    history_before = Unit.history.count()
    writer = _PlanWriter(plan, by=by, report=report)
    _park_codes(plan)
    order = sorted(plan.wanted, key=lambda i: (depth[plan.node_of(i.key)], i.name, i.key))
    for item in order:
        node = plan.node_of(item.key)
        parent_pk = writer.pk_of(plan.parent_of(node))
        level = writer.levels.get(item.level)
        if node[0] == "k":
            writer.create(item, parent_pk, level)
        else:
            writer.update(item, plan.existing[node[1]], parent_pk, level)
    writer.close_unmatched()
    report.history_rows = Unit.history.count() - history_before


def _field_changes(
    item: SourceUnit, row: Existing, code: str, level: UnitLevel
) -> tuple[dict[str, Any], list[str]]:
    """The fields of an existing unit that differ from the wanted one, and a line for each."""
    changes: list[str] = []
    fields: dict[str, Any] = {}
    if row.code != code:
        fields["code"] = code
        changes.append(f"code {row.code} → {code}")
    if row.name != item.name:
        fields["name"] = item.name
        changes.append(f"name {row.name} → {item.name}")
    if row.level_id != level.pk:
        fields["level"] = level
        changes.append(f"level → {level.name}")
    if item.unit_type is not None and row.unit_type != item.unit_type:
        fields["unit_type"] = item.unit_type
        changes.append(f"type {row.unit_type or '-'} → {item.unit_type or '-'}")
    if row.closed_on != item.closed_on:
        fields["closed_on"] = item.closed_on
        changes.append(f"closed on {item.closed_on.isoformat()}" if item.closed_on else "reopened")
    if item.external_id is not None and row.external_id != item.external_id:
        fields["external_id"] = item.external_id
        changes.append("linked to OS2mo")
    return fields, changes


class _PlanWriter:
    """Writes a plan's units one at a time, keeping track of each unit's parent as it goes."""

    def __init__(self, plan: Plan, *, by: Any, report: SyncReport) -> None:
        self.plan = plan
        self.by = by
        self.report = report
        self.levels = _Levels(report)
        self.current_parent = {pk: row.parent_pk for pk, row in plan.existing.items()}
        self.created_pk: dict[str, int] = {}

    def pk_of(self, node: Node | None) -> int | None:
        if node is None:
            return None
        kind, ident = node
        return self.created_pk[ident] if kind == "k" else ident

    def create(self, item: SourceUnit, parent_pk: int | None, level: UnitLevel) -> None:
        code = item.code or item.key
        unit = Unit(
            code=code,
            name=item.name,
            level=level,
            unit_type=item.unit_type or "",
            closed_on=item.closed_on,
            external_id=item.external_id,
        )
        unit._history_user = self.by
        unit._change_reason = self.plan.reason
        if parent_pk is None:
            unit = Unit.objects.add_root(instance=unit)
        else:
            unit = Unit.objects.add_child(_fresh(parent_pk), instance=unit)
        self.created_pk[item.key] = unit.pk
        self.current_parent[unit.pk] = parent_pk
        self.report.created += 1
        self.report.changes.append(Change("created", code, item.name))

    def update(
        self, item: SourceUnit, row: Existing, parent_pk: int | None, level: UnitLevel
    ) -> None:
        code = item.code or item.key
        fields, changes = _field_changes(item, row, code, level)
        old_parent = self.current_parent[row.pk]
        moved = old_parent != parent_pk
        if not moved and not fields:
            self.report.unchanged += 1
            return
        unit = _fresh(row.pk)
        for name, value in fields.items():
            setattr(unit, name, value)
        if moved:
            if parent_pk is None:
                Unit.objects.move(unit, Unit.objects.get_first_root_node(), "sorted-sibling")
            else:
                Unit.objects.move(unit, _fresh(parent_pk), "sorted-child")
            self.current_parent[row.pk] = parent_pk
            changes.insert(0, f"parent {_code_of(old_parent)} → {_code_of(parent_pk)}")
        elif "name" in fields:
            # Keep siblings in name order (node_order_by) after a rename.
            Unit.objects.move(unit, unit, "sorted-sibling")
        save_as(unit, self.by, reason=self.plan.reason)
        if moved:
            self.report.moved += 1
        else:
            self.report.updated += 1
        self.report.changes.append(
            Change("moved" if moved else "updated", code, item.name, "; ".join(changes))
        )

    def close_unmatched(self) -> None:
        """Close every open existing unit the plan did not match and says to close."""
        plan = self.plan
        today = timezone.localdate()
        for pk, row in plan.existing.items():
            if pk in plan.matched_pks or row.closed_on is not None or not plan.close_unmatched(row):
                continue
            unit = _fresh(pk)
            unit.closed_on = today
            save_as(unit, self.by, reason=plan.reason)
            self.report.closed += 1
            self.report.changes.append(Change("closed", row.code, row.name, f"closed on {today}"))


def _code_of(pk: int | None) -> str:
    if pk is None:
        return "(root)"
    return Unit.objects.filter(pk=pk).values_list("code", flat=True).first() or "?"


def _park_codes(plan: Plan) -> None:
    """Give units whose code changes a temporary code first when a wanted code is still
    another unit's, so that swapping or reusing codes never breaks the unique index."""
    changing = [
        pk
        for key, pk in plan.matches.items()
        if (plan.by_key[key].code or key) != plan.existing[pk].code
    ]
    if not changing:
        return
    holder = {row.code: pk for pk, row in plan.existing.items()}
    for item in plan.wanted:
        owner = holder.get(item.code or item.key)
        if owner is not None and owner != plan.matches.get(item.key):
            break
    else:
        return
    for pk in changing:
        Unit.objects.filter(pk=pk).update(code=f"~sync~{pk}")
