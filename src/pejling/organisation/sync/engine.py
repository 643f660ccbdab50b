"""Bring the unit tree in line with a source: create, update, move and end-date units.

The caller (OS2mo or file sync) says which units it wants (:class:`SourceUnit`), which of them
already exist (``matches``), and which unmatched units to end-date. :func:`check` finds the
parent cycles; :func:`apply` writes, inside the caller's transaction:

* the plan is worked out in memory from the units read once (:func:`load_existing`), and
  written set-based: a fixed number of statements whatever the number of units (bulk inserts
  and updates, codes and paths parked first so the unique indexes never see a clash);
* a moved unit takes its subtree along (the paths below it change; primary keys do not, so
  agreements, memberships and values stay with the unit); siblings stay in name order;
* every created, changed, moved or closed unit gets one history row (written in bulk, with
  the acting user, the reason and where the change came from); a unit whose path changed only
  because an ancestor moved or a sibling came gets none, as with treebeard's own moves;
* ``units_moved`` is sent once with every unit whose ancestors changed, so that what is kept
  per subtree (the indicators' roll-up cache) is brought in line in one set-based step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext

from pejling.core import generation
from pejling.core.history import history_user
from pejling.core.sources import record_sources
from pejling.organisation.models import Unit, UnitLevel, units_moved

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
    path: str = ""
    numchild: int = 0


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
            "numchild",
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
            path=path,
            numchild=numchild,
        )
        for pk, path, depth, code, name, level_id, unit_type, closed_on, external_id, numchild in rows
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


def apply(plan: Plan, *, by: Any, report: SyncReport) -> None:
    """Write the plan (the caller holds the transaction and has run :func:`cycle_errors`).

    Set-based: the tree as it will be is worked out in memory from the units read once (each
    unit's parent, fields, and place among its siblings in name order, hence its path, depth
    and number of children); then a fixed number of statements, whatever the number of units.
    Codes that would clash and paths that change are parked, changed units are updated in bulk,
    new units inserted in bulk, one history row is written (in bulk) for every created, changed,
    moved or closed unit, and ``units_moved`` is sent once for the units whose ancestors changed.
    """
    depth, cycles = plan.depths()
    if cycles:
        raise ValueError("apply() called on a plan with parent cycles")
    tree = _Tree(plan, report)
    order = sorted(plan.wanted, key=lambda i: (depth[plan.node_of(i.key)], i.name, i.key))
    for item in order:
        tree.want(item)
    tree.close_unmatched()
    tree.place()
    tree.write(by=by)


class _Tree:
    """The tree as it will be, built in memory; then written in a few statements."""

    def __init__(self, plan: Plan, report: SyncReport) -> None:
        self.plan = plan
        self.report = report
        self.levels = _Levels(report)
        existing = plan.existing
        self.parent: dict[Node, Node | None] = {
            ("u", pk): None if row.parent_pk is None else ("u", row.parent_pk)
            for pk, row in existing.items()
        }
        self.name: dict[Node, str] = {("u", pk): row.name for pk, row in existing.items()}
        self.code: dict[Node, str] = {("u", pk): row.code for pk, row in existing.items()}
        self.new: dict[str, Unit] = {}  # wanted key -> the unit to insert
        self.fields: dict[int, dict[str, Any]] = {}  # existing pk -> its changed fields
        self.history: set[int] = set()  # existing pks that get a history row
        self.affected: set[Node | None] = set()  # parents whose children are numbered afresh
        self.path: dict[Node, str] = {}
        self.children: dict[Node | None, list[Node]] = {}

    def want(self, item: SourceUnit) -> None:
        plan, report = self.plan, self.report
        node = plan.node_of(item.key)
        new_parent = plan.parent_of(node)
        level = self.levels.get(item.level)
        code = item.code or item.key
        if node[0] == "k":
            self.new[item.key] = Unit(
                code=code,
                name=item.name,
                level=level,
                unit_type=item.unit_type or "",
                closed_on=item.closed_on,
                external_id=item.external_id,
            )
            self.parent[node], self.name[node], self.code[node] = new_parent, item.name, code
            self.affected.add(new_parent)
            report.created += 1
            report.changes.append(Change("created", code, item.name))
            return
        pk = node[1]
        fields, changes = _field_changes(item, plan.existing[pk], code, level)
        old_parent = self.parent[node]
        moved = old_parent != new_parent
        if not moved and not fields:
            report.unchanged += 1
            return
        self.fields[pk] = fields
        self.history.add(pk)
        self.code[node] = code
        if "name" in fields:
            self.name[node] = item.name
            self.affected.add(old_parent)  # keep siblings in name order after a rename
        if moved:
            self.parent[node] = new_parent
            self.affected.update((old_parent, new_parent))
            changes.insert(
                0,
                gettext("parent %(old)s → %(new)s")
                % {"old": self._code(old_parent), "new": self._code(new_parent)},
            )
            report.moved += 1
        else:
            report.updated += 1
        report.changes.append(
            Change("moved" if moved else "updated", code, item.name, "; ".join(changes))
        )

    def _code(self, node: Node | None) -> str:
        return gettext("(top level)") if node is None else self.code[node]

    def close_unmatched(self) -> None:
        """Close every open existing unit the plan did not match and says to close."""
        plan = self.plan
        today = timezone.localdate()
        for pk, row in plan.existing.items():
            if pk in plan.matched_pks or row.closed_on is not None or not plan.close_unmatched(row):
                continue
            self.fields[pk] = {"closed_on": today}
            self.history.add(pk)
            self.report.closed += 1
            closed = gettext("closed on %(date)s") % {"date": today.isoformat()}
            self.report.changes.append(Change("closed", row.code, row.name, closed))

    def place(self) -> None:
        """Every unit's path in the tree as it will be. Siblings below a parent that gained,
        lost or renamed a child are numbered afresh in name order; the others keep their step
        (their path changes only when an ancestor's does)."""
        existing = self.plan.existing
        children = self.children
        for node, parent in self.parent.items():
            children.setdefault(parent, []).append(node)

        def old_path(node: Node) -> str:
            return existing[node[1]].path if node[0] == "u" else ""

        step = Unit.steplen
        pending: list[Node | None] = [None]
        while pending:
            parent = pending.pop()
            base = "" if parent is None else self.path[parent]
            depth = len(base) // step + 1
            kids = children.get(parent, [])
            if parent in self.affected:
                kids = sorted(kids, key=lambda n: (self.name[n], old_path(n) or "~", str(n[1])))
                for number, node in enumerate(kids, start=1):
                    self.path[node] = Unit._get_path(base, depth, number)
            else:
                for node in kids:
                    self.path[node] = base + old_path(node)[-step:]
            pending.extend(kids)

    def write(self, *, by: Any) -> None:
        plan = self.plan
        existing = plan.existing
        step = Unit.steplen
        moved_paths: list[int] = []
        updates: list[Unit] = []
        written: set[str] = set()
        for pk, row in existing.items():
            node: Node = ("u", pk)
            fields = dict(self.fields.get(pk, {}))
            path = self.path[node]
            if path != row.path:
                moved_paths.append(pk)
                fields["path"], fields["depth"] = path, len(path) // step
            numchild = len(self.children.get(node, []))
            if numchild != row.numchild:
                fields["numchild"] = numchild
            if fields:
                written.update(fields)
                updates.append(_final(row, fields))
        # Bulk writes send no signals: units created, renamed, closed or moved change figures
        # cached under the data generation.
        generation.bump()
        _park_codes(plan)
        if moved_paths:  # free the paths first: the unique index sees one row at a time
            Unit.objects.filter(pk__in=moved_paths).update(
                path=Concat(Value("~"), Cast("pk", CharField()))
            )
        if updates:  # one statement a batch: every field any unit changes, for all of them
            Unit.objects.bulk_update(updates, sorted(written), batch_size=BATCH)
        created = []
        for key, unit in self.new.items():
            node = ("k", key)
            unit.path = self.path[node]
            unit.depth = len(unit.path) // step
            unit.numchild = len(self.children.get(node, []))
            created.append(unit)
        created = Unit.objects.bulk_create(created, batch_size=BATCH)
        self._write_history(created, by=by)
        self._announce_moves()

    def _write_history(self, created: list[Unit], *, by: Any) -> None:
        """One history row for each created, changed, moved or closed unit, with its state
        now, the acting person and the reason; and where the change came from."""
        user = history_user(by)
        changed = list(Unit.objects.filter(pk__in=sorted(self.history)))
        rows: list[Any] = []
        for units, update in ((created, False), (changed, True)):
            if not units:
                continue
            for unit in units:
                unit._history_user = user
            rows += (
                Unit.history.bulk_history_create(
                    units,
                    update=update,
                    default_user=user,
                    default_change_reason=self.plan.reason,
                    batch_size=BATCH,
                )
                or []
            )
        record_sources(Unit, [row.history_id for row in rows])
        self.report.history_rows = len(rows)

    def _announce_moves(self) -> None:
        """``units_moved`` once, for every existing unit whose ancestors changed."""
        existing = self.plan.existing
        new_pk = {key: unit.pk for key, unit in self.new.items()}

        def pk(node: Node) -> int:
            return node[1] if node[0] == "u" else new_pk[node[1]]

        before: dict[int, frozenset[int]] = {}
        after: dict[Node, frozenset[int]] = {}

        def ancestors_before(unit_pk: int) -> frozenset[int]:
            if unit_pk not in before:
                parent = existing[unit_pk].parent_pk
                before[unit_pk] = (
                    frozenset() if parent is None else ancestors_before(parent) | {parent}
                )
            return before[unit_pk]

        def ancestors_after(node: Node) -> frozenset[int]:
            if node not in after:
                parent = self.parent[node]
                after[node] = (
                    frozenset() if parent is None else ancestors_after(parent) | {pk(parent)}
                )
            return after[node]

        moves = {
            unit_pk: ancestors_before(unit_pk)
            for unit_pk in existing
            if ancestors_before(unit_pk) != ancestors_after(("u", unit_pk))
        }
        if moves:
            units_moved.send(sender=Unit, moves=moves)


def _final(row: Existing, fields: dict[str, Any]) -> Unit:
    """An existing unit as it will be (its fields as read, with ``fields`` changed)."""
    unit = Unit(
        pk=row.pk,
        code=row.code,
        name=row.name,
        level_id=row.level_id,
        unit_type=row.unit_type,
        closed_on=row.closed_on,
        external_id=row.external_id,
        path=row.path,
        depth=len(row.path) // Unit.steplen,
        numchild=row.numchild,
    )
    for name, value in fields.items():
        setattr(unit, name, value)
    return unit


# Rows a statement writes at most (bulk updates compare each row with every row of the batch).
BATCH = 500


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
    Unit.objects.filter(pk__in=changing).update(
        code=Concat(Value("~sync~"), Cast("pk", CharField()))
    )


def _field_changes(
    item: SourceUnit, row: Existing, code: str, level: UnitLevel
) -> tuple[dict[str, Any], list[str]]:
    """The fields of an existing unit that differ from the wanted one, and a line for each (in
    the active language: the command lists them, nothing keeps them)."""
    changes: list[str] = []
    fields: dict[str, Any] = {}
    if row.code != code:
        fields["code"] = code
        changes.append(gettext("code %(old)s → %(new)s") % {"old": row.code, "new": code})
    if row.name != item.name:
        fields["name"] = item.name
        changes.append(gettext("name %(old)s → %(new)s") % {"old": row.name, "new": item.name})
    if row.level_id != level.pk:
        fields["level"] = level
        changes.append(gettext("level → %(level)s") % {"level": level.name})
    if item.unit_type is not None and row.unit_type != item.unit_type:
        fields["unit_type"] = item.unit_type
        changes.append(
            gettext("type %(old)s → %(new)s")
            % {"old": row.unit_type or "-", "new": item.unit_type or "-"}
        )
    if row.closed_on != item.closed_on:
        fields["closed_on"] = item.closed_on
        changes.append(
            gettext("closed on %(date)s") % {"date": item.closed_on.isoformat()}
            if item.closed_on
            else gettext("reopened")
        )
    if item.external_id is not None and row.external_id != item.external_id:
        fields["external_id"] = item.external_id
        changes.append(gettext("linked to OS2mo"))
    return fields, changes
