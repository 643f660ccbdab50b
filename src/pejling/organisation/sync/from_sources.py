"""Making our unit tree match a source: OS2mo, or a CSV/Excel file of units.

Both read everything first, check it, and then write in one transaction: all or nothing.
Units are never deleted; units that leave the source are end-dated (``closed_on`` = today),
so agreements, memberships and values keep pointing at them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from django.db import transaction

from pejling.organisation.models import Unit, UnitLevel

from . import engine, runs
from .files import FileRow, parse_unit_file, too_large
from .os2mo import OrgUnit, OS2moClient, OS2moError
from .report import LevelSpec, RowError, SourceUnit, SyncReport

_N_LEVEL = re.compile(r"^\s*N\s*(\d{1,2})\s*$", re.IGNORECASE)
_CODE_MAX = Unit._meta.get_field("code").max_length or 50
_NAME_MAX = Unit._meta.get_field("name").max_length or 200
_TYPE_MAX = Unit._meta.get_field("unit_type").max_length or 100


# OS2mo ------------------------------------------------------------------------------------------


@runs.recording("os2mo")
def sync_from_os2mo(
    *,
    client: OS2moClient,
    hierarchy: str | None = None,
    at: date | None = None,
    level_map: Mapping[str, int] | None = None,
    by: Any = None,
    dry_run: bool = False,
) -> SyncReport:
    """Make our unit tree match OS2mo's units (valid today, or on ``at``).

    * Units are matched on their OS2mo UUID (``Unit.external_id``). A unit not linked yet whose
      code is the OS2mo user key (unique in OS2mo) is linked instead of duplicated.
    * ``hierarchy``: only units carrying this hierarchy label (name or user key, e.g.
      "Linjeorganisation"); a unit whose parent is outside it hangs under its nearest ancestor
      inside it, or becomes a root.
    * Levels: ``level_map`` maps an OS2mo unit level (user key or name) to the depth of our
      ``UnitLevel``; otherwise a level "N<d>" is depth d, and a unit without level gets its
      depth in the tree. Missing ``UnitLevel`` rows are created with the OS2mo level name.
    * Codes: the user key (cut to 50 characters, "/" replaced); where two units share a user
      key, or another unit has that code, the UUID's first 8 hex digits are appended. A code,
      once given, stays while the user key does.
    * Synced units missing from OS2mo (or from the hierarchy) are end-dated, and reopened if
      they come back. Units not from OS2mo are left alone.

    Raises :class:`OS2moError` (nothing written) when OS2mo fails or returns no usable units.
    The run is recorded however it ends (:mod:`.runs`).
    """
    fetched = client.org_units(at=at)
    report = SyncReport(source="os2mo", dry_run=dry_run, fetched=len(fetched))
    if hierarchy:
        units = [u for u in fetched if u.hierarchy is not None and u.hierarchy.matches(hierarchy)]
        if not units:
            labels = sorted({u.hierarchy.name for u in fetched if u.hierarchy is not None})
            if labels:
                raise OS2moError(
                    "os2mo_unknown_hierarchy_labels",
                    label=repr(hierarchy),
                    labels=", ".join(labels),
                )
            raise OS2moError("os2mo_unknown_hierarchy", label=repr(hierarchy))
    else:
        units = fetched
    if not units:
        raise OS2moError("os2mo_no_units")

    parents = _parents_within(units)
    depths = _tree_depths(units, parents)
    specs = {u.uuid: _level_spec(u, depths[u.uuid], level_map) for u in units}

    with transaction.atomic():
        existing = engine.load_existing()
        matches = _match_units(units, existing)
        codes = _assign_codes(units, existing, matches)
        wanted = [
            SourceUnit(
                key=str(u.uuid),
                parent_key=str(parents[u.uuid]) if parents[u.uuid] else None,
                name=(u.name or u.user_key or str(u.uuid))[:_NAME_MAX],
                level=specs[u.uuid],
                code=codes[u.uuid],
                external_id=u.uuid,
                unit_type=(u.unit_type.name if u.unit_type else "")[:_TYPE_MAX],
                closed_on=None,
            )
            for u in units
        ]
        plan = engine.Plan(
            wanted=wanted,
            existing=existing,
            matches={str(uuid): pk for uuid, pk in matches.items()},
            external_parents={},
            close_unmatched=lambda row: row.external_id is not None,
            reason="OS2mo sync",
        )
        cycles = engine.cycle_errors(plan)
        if cycles:
            raise OS2moError("os2mo_cycle", cycle=cycles[0].detail)
        engine.apply(plan, by=by, report=report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _parents_within(units: list[OrgUnit]) -> dict[UUID, UUID | None]:
    """Each unit's nearest ancestor among ``units`` (None: it becomes a root)."""
    ids = {u.uuid for u in units}
    parents: dict[UUID, UUID | None] = {}
    for u in units:
        chain = u.ancestors or ((u.parent_uuid,) if u.parent_uuid else ())
        if u.parent_uuid and (not chain or chain[0] != u.parent_uuid):
            chain = (u.parent_uuid, *chain)
        parents[u.uuid] = next((a for a in chain if a in ids and a != u.uuid), None)
    return parents


def _tree_depths(units: list[OrgUnit], parents: dict[UUID, UUID | None]) -> dict[UUID, int]:
    depths: dict[UUID, int] = {}
    for u in units:
        chain: list[UUID] = []
        node: UUID | None = u.uuid
        while node is not None and node not in depths and node not in chain:
            chain.append(node)
            node = parents.get(node)
        base = depths.get(node, 0) if node is not None else 0
        for offset, member in enumerate(reversed(chain), start=1):
            depths[member] = base + offset
    return depths


def _level_spec(unit: OrgUnit, tree_depth: int, level_map: Mapping[str, int] | None) -> LevelSpec:
    level = unit.level
    if level is not None:
        if level_map:
            for label in (level.user_key, level.name):
                for key, depth in level_map.items():
                    if key.strip().casefold() == label.strip().casefold():
                        return LevelSpec(int(depth), level.name or level.user_key)
        for label in (level.user_key, level.name):
            found = _N_LEVEL.match(label or "")
            if found and int(found.group(1)) > 0:
                return LevelSpec(int(found.group(1)), level.name or level.user_key)
    return LevelSpec(tree_depth, "")


def _match_units(units: list[OrgUnit], existing: dict[int, engine.Existing]) -> dict[UUID, int]:
    by_external = {row.external_id: pk for pk, row in existing.items() if row.external_id}
    matches = {u.uuid: by_external[u.uuid] for u in units if u.uuid in by_external}
    # First sync over units typed in by hand: link a unit whose code is a unique user key.
    counts = Counter(_base_code(u) for u in units)
    unlinked = {row.code: pk for pk, row in existing.items() if row.external_id is None}
    for u in units:
        if u.uuid in matches:
            continue
        code = _base_code(u)
        if counts[code] == 1 and code in unlinked:
            matches[u.uuid] = unlinked.pop(code)
    return matches


def _base_code(unit: OrgUnit) -> str:
    code = " ".join(unit.user_key.replace("/", "-").split())[:_CODE_MAX].strip()
    return code or str(unit.uuid)


def _alt_code(unit: OrgUnit) -> str:
    return f"{_base_code(unit)[: _CODE_MAX - 9]}-{unit.uuid.hex[:8]}"


def _assign_codes(
    units: list[OrgUnit], existing: dict[int, engine.Existing], matches: dict[UUID, int]
) -> dict[UUID, str]:
    matched_pks = set(matches.values())
    taken = {row.code for pk, row in existing.items() if pk not in matched_pks}
    counts = Counter(_base_code(u) for u in units)
    codes: dict[UUID, str] = {}
    ordered = sorted(units, key=lambda u: u.uuid)
    # Units keep the code they have while it is still one made from their user key.
    for u in ordered:
        pk = matches.get(u.uuid)
        if pk is None:
            continue
        current = existing[pk].code
        if current in (_base_code(u), _alt_code(u)) and current not in taken:
            codes[u.uuid] = current
            taken.add(current)
    for u in ordered:
        if u.uuid in codes:
            continue
        base = _base_code(u)
        for code in (base if counts[base] == 1 else None, _alt_code(u), str(u.uuid)):
            if code and code not in taken:
                break
        else:  # pragma: no cover - a UUID is unique
            raise OS2moError("os2mo_no_free_code", unit=str(u.uuid))
        codes[u.uuid] = code
        taken.add(code)
    return codes


# Files ------------------------------------------------------------------------------------------


def sync_from_path(
    path: Path, *, close_missing: bool = False, by: Any = None, dry_run: bool = False
) -> SyncReport:
    """:func:`sync_from_file` of a file on disk, refused by its size before it is read."""
    refused = too_large(path.stat().st_size)
    if refused is not None:
        report = SyncReport(source="file", dry_run=dry_run, errors=refused.errors)
        return runs.recorded(lambda: report, source="file", filename=path.name, by=by)
    return sync_from_file(
        data=path.read_bytes(),
        filename=path.name,
        close_missing=close_missing,
        by=by,
        dry_run=dry_run,
    )


@runs.recording("file")
def sync_from_file(
    *,
    data: bytes,
    filename: str,
    close_missing: bool = False,
    by: Any = None,
    dry_run: bool = False,
) -> SyncReport:
    """Make our units match a CSV/XLSX file of units, upserting by unit code.

    Every bad row is reported (missing parent, parent cycle, duplicate code, unknown level, bad
    date, empty cells) and then nothing is written. A parent code may name a unit in the file
    or one already in Pejling (with ``close_missing``, only one in the file). Units in the file
    are open unless their closed-on cell has a date. With ``close_missing`` the units that are
    not in the file are end-dated today; without it they are left alone. The run is recorded
    however it ends (:mod:`.runs`).
    """
    report = SyncReport(source="file", dry_run=dry_run)
    parsed = parse_unit_file(data, filename)
    errors = list(parsed.errors)
    headers = parsed.headers
    col_parent = headers.get("parent", "parent")

    with transaction.atomic():
        existing = engine.load_existing()
        by_code = {row.code: pk for pk, row in existing.items()}
        rows = _first_of_each_code(parsed.rows, headers.get("code", "code"), errors)
        units = _FileUnits(
            rows,
            by_code=by_code,
            broken_codes=parsed.broken_codes,
            close_missing=close_missing,
            col_parent=col_parent,
            col_level=headers.get("level", "level"),
            errors=errors,
        )
        wanted = _prune_orphans(units.wanted())
        plan = engine.Plan(
            wanted=wanted,
            existing=existing,
            matches={item.key: by_code[item.key] for item in wanted if item.key in by_code},
            external_parents=units.external_parents,
            close_unmatched=lambda row: close_missing,
            reason="organisation file " + filename[:100],
        )
        errors.extend(engine.cycle_errors(plan, parent_column=col_parent))
        if not errors and not wanted:
            errors.append(RowError(None, None, "empty_file"))
        if errors:
            report.errors = sorted(errors, key=lambda e: (e.row or 0, e.column or ""))
            return report
        engine.apply(plan, by=by, report=report)
        report.fetched = len(wanted)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _first_of_each_code(
    rows: list[FileRow], col_code: str, errors: list[RowError]
) -> list[FileRow]:
    """The rows with their code's first sighting (letter case aside); a later one is an error."""
    first_row: dict[str, int] = {}
    kept = []
    for row in rows:
        folded = row.code.casefold()
        if folded in first_row:
            errors.append(
                RowError(
                    row.row,
                    col_code,
                    "duplicate_code",
                    f"{row.code!r}",
                    other_row=first_row[folded],
                )
            )
            continue
        first_row[folded] = row.row
        kept.append(row)
    return kept


class _FileUnits:
    """The units a file's rows want: each row's level and parent resolved, or an error.

    A parent code names a row of the file, or (unless units missing from the file are being
    closed) a unit already in Pejling, which goes in ``external_parents``.
    """

    def __init__(
        self,
        rows: list[FileRow],
        *,
        by_code: dict[str, int],
        broken_codes: set[str],
        close_missing: bool,
        col_parent: str,
        col_level: str,
        errors: list[RowError],
    ) -> None:
        self.rows = rows
        self.by_code = by_code
        self.db_fold = _fold_index(by_code)
        self.file_codes = {row.code for row in rows}
        self.file_fold = _fold_index({code: code for code in self.file_codes})
        # Codes of rows that failed to parse: their children get no second, misleading error.
        self.unreadable = {code.casefold() for code in broken_codes}
        self.close_missing = close_missing
        self.col_parent = col_parent
        self.col_level = col_level
        self.errors = errors
        self.external_parents: dict[str, int] = {}
        self.levels_by_depth = {level.depth: level for level in UnitLevel.objects.all()}
        self.levels_by_name: dict[str, UnitLevel] = {}
        for known in sorted(self.levels_by_depth.values(), key=lambda lv: lv.depth, reverse=True):
            self.levels_by_name[known.name_plural.strip().casefold()] = known
            self.levels_by_name[known.name.strip().casefold()] = known

    def wanted(self) -> list[SourceUnit]:
        wanted: list[SourceUnit] = []
        for row in self.rows:
            level = _file_level(row.level, self.levels_by_depth, self.levels_by_name)
            if level is None:
                self.errors.append(
                    RowError(row.row, self.col_level, "unknown_level", f"{row.level!r}")
                )
            ok, parent_key = self._parent(row)
            if ok and level is not None:
                wanted.append(
                    SourceUnit(
                        key=row.code,
                        parent_key=parent_key,
                        name=row.name,
                        level=LevelSpec(level.depth, level.name),
                        code=row.code,
                        closed_on=row.closed_on,
                        row=row.row,
                    )
                )
        return wanted

    def _parent(self, row: FileRow) -> tuple[bool, str | None]:
        """Whether the row's parent is usable, and its key when it is a row of the file."""
        parent = row.parent_code
        if not parent:
            return True, None
        folded = parent.casefold()
        if parent in self.file_codes:
            return True, parent
        if self.file_fold.get(folded):
            return True, self.file_fold[folded]
        if folded in self.unreadable:
            return False, None
        in_pejling = parent in self.by_code or self.db_fold.get(folded)
        if self.close_missing and in_pejling:
            self.errors.append(
                RowError(row.row, self.col_parent, "parent_not_in_file", f"{parent!r}")
            )
            return False, None
        if parent in self.by_code:
            self.external_parents[row.code] = self.by_code[parent]
        elif self.db_fold.get(folded):
            self.external_parents[row.code] = self.by_code[self.db_fold[folded]]
        else:
            self.errors.append(RowError(row.row, self.col_parent, "missing_parent", f"{parent!r}"))
            return False, None
        return True, None


def _fold_index(codes: Mapping[str, Any]) -> dict[str, Any]:
    """Case-folded code -> value, or None where two codes fold alike (ambiguous)."""
    index: dict[str, Any] = {}
    for code, value in codes.items():
        key = code.casefold()
        index[key] = None if key in index else value
    return index


def _file_level(
    raw: int | str, by_depth: dict[int, UnitLevel], by_name: dict[str, UnitLevel]
) -> UnitLevel | None:
    if isinstance(raw, int):
        return by_depth.get(raw)
    return by_name.get(raw.strip().casefold())


def _prune_orphans(wanted: list[SourceUnit]) -> list[SourceUnit]:
    """Drop units whose parent in the file was dropped (it had errors), until none is left."""
    while True:
        keys = {item.key for item in wanted}
        kept = [i for i in wanted if i.parent_key is None or i.parent_key in keys]
        if len(kept) == len(wanted):
            return kept
        wanted = kept
