"""The roll-up cache (:class:`~pejling.indicators.models.IndicatorRollup`): kept current on write,
derivable at will. The one home of its maintenance.

Beside the roll-ups it keeps each unit's presence (:class:`~pejling.indicators.models.
IndicatorPresence`: the periods the unit has its own value in, as bits per block of 60
periods), which the completeness rule reads (``completeness.recent_completeness``) instead of
the values; it does not depend on the tree, so moves leave it alone.

Every write of values (imports, the API, package loads, deletes) calls
:func:`apply_value_changes` in its transaction with the indicators and periods it wrote, and
every move in the unit tree reaches :func:`on_unit_moved` (through
``organisation.models.unit_moved``), or :func:`on_units_moved` for the many moves of an
organisation sync at once (``units_moved``); :func:`rebuild` derives the whole cache from the values
again (``pejling rebuild-rollups``). Tests prove rebuild = incremental after random writes and
moves, on SQLite and PostgreSQL. The values stay as imported: the cache is never a second truth.

How it is computed, set-based, the same way for a rebuild and an update: the rows in scope are
deleted; then, from the deepest level up, each unit's row is its own value (count 1, the value
as total and extremes, value × weight and the weight for a weighted mean) combined with its
children's rows (Σ counts, Σ totals, the extremes of the extremes, Σ weighted, Σ weights): one
``INSERT … SELECT … GROUP BY`` per level. Every column is decomposable, so a level reads only
its own values and the rows of the level below it (whole slices, as a rebuild derives them,
keep the level below in a temporary table rather than reading it back from the cache). An
update narrows the
scope to the indicators and periods written and, for a few units, to those units and their
ancestors: the rows of every other unit are still right.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from pejling.core import generation
from pejling.indicators.models import (
    Indicator,
    IndicatorPresence,
    IndicatorRollup,
    IndicatorValue,
)
from pejling.indicators.sources.records import MAX_YEAR, MIN_YEAR, Period, PeriodError, parse_period
from pejling.organisation.models import Unit

# Above this many written units an update recomputes whole indicator × period slices (set-based
# on every unit) instead of listing the units' ancestors.
UNIT_SCOPE_LIMIT = 500
# PostgreSQL's work_mem for deriving whole slices (a rebuild, generate): a level's aggregate
# held in memory (about 0.7 kB a row) rather than spilled to disk.
WHOLE_SLICES_WORK_MEM = "512MB"

_ROLLUP = IndicatorRollup._meta.db_table
_VALUES = IndicatorValue._meta.db_table
_UNITS = Unit._meta.db_table
_INDICATORS = Indicator._meta.db_table
_PRESENCE = IndicatorPresence._meta.db_table
_COLUMNS = (
    "indicator_id, unit_id, period, period_start, count, total, lowest, highest, weighted, weights"
)


def _changed() -> None:
    """Values, the tree or an indicator's rule changed: answers cached from the roll-ups (the
    API's series, the dashboard's figures) carry the data generation in their key
    (``core/generation.py``, kept in the database, so every server process stops reading them
    at once, with or without a shared cache); raised here, where every write of values passes,
    bulk or not."""
    generation.bump()


def _in(column: str, values: Collection[Any] | None) -> tuple[str, list[Any]]:
    """`` AND column IN (%s, …)`` and its parameters, or nothing when ``values`` is None."""
    if values is None:
        return "", []
    if not values:
        return " AND 1 = 0", []
    return f" AND {column} IN ({', '.join(['%s'] * len(values))})", list(values)


@contextmanager
def _tuned(work_mem: str | None) -> Iterator[None]:
    """On PostgreSQL, for the statements inside only: no JIT compilation (half a second a
    statement, for set-based statements that run once) and, when given, ``work_mem`` enough to
    aggregate whole levels in memory rather than on disk. The settings are local to the
    transaction and put back after."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('work_mem')")
        row = cursor.fetchone()
        cursor.execute(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true)",
            [work_mem or row[1]],
        )
    yield
    # Not on an error: the transaction (or savepoint) is rolled back with the settings.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('jit', %s, true), set_config('work_mem', %s, true)", list(row)
        )


@contextmanager
def _derived_again(
    table: str, scope_sql: str, scope: list[Any], unit_ids: Collection[int] | None
) -> Iterator[Any]:
    """A transaction and a cursor in which the rows of ``table`` in scope (``scope_sql``: the
    ``_in`` conditions, ``scope`` their parameters) are deleted first, to be derived again
    inside; tuned (``_tuned``) for whole slices when no units are named."""
    with (
        transaction.atomic(),
        _tuned(None if unit_ids is not None else WHOLE_SLICES_WORK_MEM),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE 1 = 1{scope_sql}", scope)  # noqa: S608 - names from the models
        yield cursor


def _recompute(
    *,
    indicator_ids: Collection[int] | None,
    periods: Collection[str] | None,
    unit_ids: Collection[int] | None,
) -> None:
    """Derive the cache's rows in scope (``None``: no limit on that axis) from the values.

    The rows in scope are deleted, then written level by level from the deepest up: a unit's
    row is its own value (with its weight) combined with its children's rows, written just
    before. Plain inserts, one statement per level, each reading only its level."""
    ind_sql, ind_params = _in("indicator_id", indicator_ids)
    per_sql, per_params = _in("period", periods)
    unit_sql, unit_params = _in("unit_id", unit_ids)
    scope = ind_params + per_params + unit_params
    v_ind, _p = _in("v.indicator_id", indicator_ids)
    v_per, _p = _in("v.period", periods)
    v_unit, _p = _in("v.unit_id", unit_ids)
    r_ind, _p = _in("r.indicator_id", indicator_ids)
    r_per, _p = _in("r.period", periods)
    p_unit, _p = _in("p.id", unit_ids)
    with _derived_again(_ROLLUP, ind_sql + per_sql + unit_sql, scope, unit_ids) as cursor:
        if unit_ids is None:  # whole slices: each level from the rows just derived below it
            _derive_slices(cursor, indicator_ids=indicator_ids, periods=periods)
            return
        cursor.execute(f"SELECT MAX(depth) FROM {_UNITS}")  # noqa: S608 - name from the model
        row = cursor.fetchone()
        deepest = (row[0] if row else None) or 0
        for depth in range(deepest, 0, -1):
            cursor.execute(
                f"INSERT INTO {_ROLLUP} ({_COLUMNS})"  # noqa: S608 - names from the models
                " SELECT indicator_id, unit_id, period, MIN(period_start), SUM(count), SUM(total),"
                " MIN(lowest), MAX(highest), SUM(weighted), SUM(weights) FROM ("
                # the units' own values at this depth, each with its weight (weighted means
                # only: the weight is looked up by the unique key, and only for them)
                " SELECT indicator_id, unit_id, period, period_start, 1 AS count, value AS total,"
                " value AS lowest, value AS highest, value * w AS weighted, w AS weights FROM ("
                " SELECT v.indicator_id, v.unit_id, v.period, v.period_start, v.value,"
                " CASE WHEN i.weight_id IS NULL THEN NULL ELSE"
                f" (SELECT w.value FROM {_VALUES} w WHERE w.indicator_id = i.weight_id"
                " AND w.unit_id = v.unit_id AND w.period = v.period) END AS w"
                f" FROM {_VALUES} v JOIN {_UNITS} u ON u.id = v.unit_id"
                f" JOIN {_INDICATORS} i ON i.id = v.indicator_id"
                f" WHERE u.depth = %s{v_ind}{v_per}{v_unit}) own"
                # and their children's rows, written by the previous statement
                " UNION ALL SELECT r.indicator_id, p.id, r.period, r.period_start, r.count,"
                " r.total, r.lowest, r.highest, r.weighted, r.weights"
                f" FROM {_ROLLUP} r JOIN {_UNITS} c ON c.id = r.unit_id"
                f" JOIN {_UNITS} p ON p.path = SUBSTR(c.path, 1, %s)"
                f" WHERE c.depth = %s{r_ind}{r_per}{p_unit}"
                ") level GROUP BY indicator_id, unit_id, period",
                [depth, *scope, depth * Unit.steplen, depth + 1, *scope],
            )


def _derive_slices(
    cursor: Any, *, indicator_ids: Collection[int] | None, periods: Collection[str] | None
) -> None:
    """Whole indicator × period slices (every unit), the rows in scope already deleted.

    Level by level from the deepest up, as :func:`_recompute` does, but each level reads only
    its own units' values and the rows derived for the level below, which are kept in a
    temporary table with each row's parent (never the cache table, which a level would scan
    whole, nor the units' paths). Each level's rows are then appended to the cache."""
    v_ind, ind_params = _in("v.indicator_id", indicator_ids)
    v_per, per_params = _in("v.period", periods)
    for name in ("pejling_up", "pejling_inner", "pejling_below", "pejling_level"):
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
    _unit_parents(cursor, "pejling_up", roots=True)
    cursor.execute("CREATE INDEX pejling_up_depth ON pejling_up (depth, unit_id)")
    cursor.execute("ANALYZE pejling_up")
    # The units with units below them; a unit without (a leaf) has its own value as its row.
    cursor.execute("CREATE TEMP TABLE pejling_inner AS SELECT DISTINCT parent_id FROM pejling_up")
    cursor.execute("SELECT MAX(depth) FROM pejling_up")
    row = cursor.fetchone()
    deepest = (row[0] if row else None) or 0

    def own(*, leaves: bool) -> str:
        # the units' own values at this depth, each with its weight (weighted means only: the
        # weight is looked up by the unique key, and only for them)
        return (
            "SELECT indicator_id, unit_id, period, period_start, 1 AS count, value AS total,"  # noqa: S608 - names from the models
            " value AS lowest, value AS highest, value * w AS weighted, w AS weights"
            f"{', parent_id' if leaves else ''} FROM ("
            " SELECT v.indicator_id, v.unit_id, v.period, v.period_start, v.value, u.parent_id,"
            " CASE WHEN i.weight_id IS NULL THEN NULL ELSE"
            f" (SELECT w.value FROM {_VALUES} w WHERE w.indicator_id = i.weight_id"
            " AND w.unit_id = v.unit_id AND w.period = v.period) END AS w"
            f" FROM pejling_up u JOIN {_VALUES} v ON v.unit_id = u.unit_id"
            f" JOIN {_INDICATORS} i ON i.id = v.indicator_id"
            f" WHERE u.depth = %s AND u.unit_id {'NOT IN' if leaves else 'IN'}"
            f" (SELECT parent_id FROM pejling_inner WHERE parent_id IS NOT NULL){v_ind}{v_per}"
            f") {'leaves' if leaves else 'own'}"
        )

    below = False
    for depth in range(deepest, 0, -1):
        children = (
            " UNION ALL SELECT b.indicator_id, b.parent_id, b.period, b.period_start, b.count,"
            " b.total, b.lowest, b.highest, b.weighted, b.weights FROM pejling_below b"
            if below
            else ""
        )
        cursor.execute(
            # A leaf's row is its own value as it is (most units: no aggregate to build) ...
            f"CREATE TEMP TABLE pejling_level AS {own(leaves=True)} UNION ALL"  # noqa: S608 - names from the models
            # ... an inner unit's is its own value combined with its children's rows.
            " SELECT l.*, up.parent_id FROM ("
            " SELECT indicator_id, unit_id, period, MIN(period_start) AS period_start,"
            " SUM(count) AS count, SUM(total) AS total, MIN(lowest) AS lowest,"
            " MAX(highest) AS highest, SUM(weighted) AS weighted, SUM(weights) AS weights FROM ("
            f" {own(leaves=False)}{children}"
            ") level GROUP BY indicator_id, unit_id, period) l"
            " JOIN pejling_up up ON up.unit_id = l.unit_id",
            [depth, *ind_params, *per_params, depth, *ind_params, *per_params],
        )
        cursor.execute(
            f"INSERT INTO {_ROLLUP} ({_COLUMNS}) SELECT {_COLUMNS} FROM pejling_level"  # noqa: S608 - names from the models
        )
        cursor.execute("DROP TABLE IF EXISTS pejling_below")
        cursor.execute("ALTER TABLE pejling_level RENAME TO pejling_below")
        below = True
    for name in ("pejling_up", "pejling_inner", "pejling_below"):
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def _with_weighted(indicator_ids: Iterable[int]) -> set[int]:
    """The indicators and those weighted by them (their rows read the weights' values)."""
    ids = set(indicator_ids)
    ids |= set(Indicator.objects.filter(weight_id__in=ids).values_list("pk", flat=True))
    return ids


def _with_ancestors(unit_ids: Iterable[int]) -> set[int]:
    """The units and every unit above them (two queries)."""
    paths = list(Unit.objects.filter(pk__in=list(unit_ids)).values_list("path", flat=True))
    step = Unit.steplen
    prefixes = {path[:end] for path in paths for end in range(step, len(path) + 1, step)}
    return set(Unit.objects.filter(path__in=prefixes).values_list("pk", flat=True))


def apply_value_changes(
    *,
    indicator_ids: Iterable[int],
    periods: Iterable[str] | None = None,
    unit_ids: Collection[int] | None = None,
) -> None:
    """Bring the cache in line after values of ``indicator_ids`` were written or deleted.

    ``periods``: the periods written (all when None); ``unit_ids``: the units whose values were
    written, when known (narrows the update to them and their ancestors). Call it in the
    transaction of the write, after the write.
    """
    ids = _with_weighted(indicator_ids)
    if not ids:
        return
    scope: set[int] | None = None
    if unit_ids is not None and len(unit_ids) <= UNIT_SCOPE_LIMIT:
        scope = _with_ancestors(unit_ids)
    written = sorted(set(indicator_ids))
    periods = None if periods is None else sorted(set(periods))
    _changed()
    with transaction.atomic():
        _recompute(
            indicator_ids=sorted(ids),
            periods=periods,
            unit_ids=None if scope is None else sorted(scope),
        )
        # Presence is each unit's own: only the written units change (no ancestors).
        _recompute_presence(
            indicator_ids=written,
            periods=periods,
            unit_ids=None
            if unit_ids is None or len(unit_ids) > UNIT_SCOPE_LIMIT
            else sorted(unit_ids),
        )


def apply_import(
    *,
    first_new_id: int,
    changed_table: str | None,
    indicator_ids: Collection[int],
    periods: Collection[str],
    starts: Collection[Any],
) -> None:
    """Bring the cache in line after an import wrote values, from what it changed only.

    The import's new values are those with an id above ``first_new_id``; its changed values
    are listed in ``changed_table`` (id, the number before). Set-based, in a few statements
    whatever the number of values: each written value's difference (a new value adds a count,
    its number and its extremes; a changed one the difference of its numbers) is summed up
    the tree level by level (each level reads only the level below it) and added to the rows
    (``INSERT … ON CONFLICT DO UPDATE``). Extremes only grow by adding; where a changed value
    was the row's lowest or highest and moved inwards, that row's extremes are worked out
    again (level by level, only those rows). Indicators weighted by another indicator of the
    same import, and those weighted by an imported one, are derived again
    (:func:`apply_value_changes`).
    """
    ids = set(indicator_ids)
    if not ids:
        return
    weighted_here = set(
        Indicator.objects.filter(pk__in=ids, weight_id__in=ids).values_list("pk", flat=True)
    )
    weighted_by = set(Indicator.objects.filter(weight_id__in=ids).values_list("pk", flat=True))
    delta_ids = sorted(ids - weighted_here)
    _changed()
    with transaction.atomic():
        if delta_ids:
            _apply_deltas(first_new_id, changed_table, delta_ids)
        _presence_added(first_new_id, sorted(ids), periods)
    again = (weighted_here | weighted_by) - (ids - weighted_here)
    if again:
        apply_value_changes(indicator_ids=sorted(again), periods=periods)


def _unit_parents(cursor: Any, name: str, *, roots: bool) -> None:
    """A temporary table ``name`` of units (``unit_id``), their ``depth`` and their parent's id
    (``parent_id``), from the path index; with ``roots`` the roots too (``parent_id`` NULL)."""
    join, where = ("LEFT JOIN", "") if roots else ("JOIN", " WHERE c.depth > 1")
    cursor.execute(
        f"CREATE TEMP TABLE {name} AS SELECT c.id AS unit_id, c.depth AS depth,"  # noqa: S608 - names from the models
        f" p.id AS parent_id FROM {_UNITS} c {join} {_UNITS} p"
        f" ON p.path = SUBSTR(c.path, 1, LENGTH(c.path) - %s){where}",
        [Unit.steplen],
    )


def _apply_deltas(first_new_id: int, changed_table: str | None, indicator_ids: list[int]) -> None:
    postgresql = connection.vendor == "postgresql"
    least, greatest = ("LEAST", "GREATEST") if postgresql else ("MIN", "MAX")
    ind = ", ".join(["%s"] * len(indicator_ids))
    with connection.cursor() as cursor:
        for name in ("pejling_delta", "pejling_parent", "pejling_flagged", "pejling_extremes"):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
        _unit_parents(cursor, "pejling_parent", roots=False)
        cursor.execute("CREATE INDEX pejling_parent_child ON pejling_parent (unit_id)")
        weight = (
            "CASE WHEN i.weight_id IS NULL THEN NULL ELSE"  # noqa: S608 - names from the models
            f" (SELECT w.value FROM {_VALUES} w WHERE w.indicator_id = i.weight_id"
            " AND w.unit_id = v.unit_id AND w.period = v.period) END"
        )

        def own(where: str, join: str) -> str:
            # One value's difference: new (c.id NULL) or changed (c.previous its number before).
            return (
                "SELECT v.indicator_id, v.unit_id, v.period, v.period_start, u.depth AS depth,"  # noqa: S608 - names from the models
                " CASE WHEN c.id IS NULL THEN 1 ELSE 0 END AS count,"
                " v.value - COALESCE(c.previous, 0) AS total,"
                " v.value AS lowest, v.value AS highest,"
                f" ({weight}) * (v.value - COALESCE(c.previous, 0)) AS weighted,"
                f" CASE WHEN c.id IS NULL THEN ({weight}) END AS weights,"
                " CASE WHEN v.value > c.previous THEN c.previous END AS lost_low,"
                " CASE WHEN v.value < c.previous THEN c.previous END AS lost_high"
                f" FROM {join} JOIN {_UNITS} u ON u.id = v.unit_id"
                f" JOIN {_INDICATORS} i ON i.id = v.indicator_id"
                f" WHERE v.indicator_id IN ({ind}){where}"
            )

        if changed_table is None:  # nothing changed: only new values
            nothing = (
                "(SELECT CAST(NULL AS bigint) AS id, CAST(NULL AS numeric) AS previous) c ON 1 = 0"
            )
            cursor.execute(
                "CREATE TEMP TABLE pejling_delta AS "
                + own(" AND v.id > %s", f"{_VALUES} v LEFT JOIN {nothing}"),
                [*indicator_ids, first_new_id],
            )
        else:
            cursor.execute(
                "CREATE TEMP TABLE pejling_delta AS "
                + own(" AND v.id > %s", f"{_VALUES} v LEFT JOIN {changed_table} c ON c.id = v.id")
                + " UNION ALL "
                + own("", f"{changed_table} c JOIN {_VALUES} v ON v.id = c.id"),
                [*indicator_ids, first_new_id, *indicator_ids],
            )
        cursor.execute("SELECT MAX(depth), MIN(depth) FROM pejling_delta")
        row = cursor.fetchone()
        if row is None or row[0] is None:
            return
        deepest = int(row[0])
        # Up the tree: a level's differences (its own and its children's) become its
        # parents' rows of differences.
        for depth in range(deepest, 1, -1):
            cursor.execute(
                "INSERT INTO pejling_delta SELECT d.indicator_id, up.parent_id, d.period,"
                " MIN(d.period_start), %s, SUM(d.count), SUM(d.total), MIN(d.lowest),"
                " MAX(d.highest), SUM(d.weighted), SUM(d.weights), MIN(d.lost_low),"
                " MAX(d.lost_high) FROM pejling_delta d"
                " JOIN pejling_parent up ON up.unit_id = d.unit_id"
                " WHERE d.depth = %s GROUP BY d.indicator_id, up.parent_id, d.period",
                [depth - 1, depth],
            )
        # Rows whose lowest or highest a changed value was and left: worked out again below.
        cursor.execute(
            "CREATE TEMP TABLE pejling_flagged AS SELECT d.indicator_id, d.unit_id, d.period,"  # noqa: S608 - names from the models
            " d.depth FROM (SELECT indicator_id, unit_id, period, MIN(depth) AS depth,"
            " MIN(lost_low) AS lost_low, MAX(lost_high) AS lost_high FROM pejling_delta"
            " WHERE lost_low IS NOT NULL OR lost_high IS NOT NULL"
            " GROUP BY indicator_id, unit_id, period) d"
            f" JOIN {_ROLLUP} r ON r.indicator_id = d.indicator_id AND r.unit_id = d.unit_id"
            " AND r.period = d.period WHERE r.lowest = d.lost_low OR r.highest = d.lost_high"
        )

        def summed(column: str) -> str:
            return (
                f"CASE WHEN excluded.{column} IS NULL THEN {_ROLLUP}.{column}"
                f" ELSE COALESCE({_ROLLUP}.{column}, 0) + excluded.{column} END"
            )

        cursor.execute(
            f"INSERT INTO {_ROLLUP} ({_COLUMNS})"  # noqa: S608 - names from the models
            " SELECT indicator_id, unit_id, period, MIN(period_start), SUM(count), SUM(total),"
            " MIN(lowest), MAX(highest), SUM(weighted), SUM(weights) FROM pejling_delta"
            " WHERE 1 = 1 GROUP BY indicator_id, unit_id, period"
            " ON CONFLICT (indicator_id, unit_id, period) DO UPDATE SET"
            f" count = {_ROLLUP}.count + excluded.count,"
            f" total = {_ROLLUP}.total + excluded.total,"
            f" lowest = {least}({_ROLLUP}.lowest, excluded.lowest),"
            f" highest = {greatest}({_ROLLUP}.highest, excluded.highest),"
            f" weighted = {summed('weighted')}, weights = {summed('weights')}"
        )
        cursor.execute("SELECT MAX(depth), MIN(depth) FROM pejling_flagged")
        row = cursor.fetchone()
        if row is not None and row[0] is not None:
            _extremes_again(cursor, int(row[0]), int(row[1]))
        for name in ("pejling_delta", "pejling_parent", "pejling_flagged", "pejling_extremes"):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


def _extremes_again(cursor: Any, deepest: int, highest_level: int) -> None:
    """The lowest and highest of the flagged rows, from their unit's own value and their
    children's rows, from the deepest level up (set-based: each level one grouped update)."""
    cursor.execute("CREATE INDEX pejling_parent_parent ON pejling_parent (parent_id)")
    cursor.execute("CREATE INDEX pejling_flagged_depth ON pejling_flagged (depth)")
    cursor.execute(
        "CREATE TEMP TABLE pejling_extremes AS SELECT indicator_id, unit_id, period,"
        " lowest AS lo, highest AS hi FROM pejling_delta WHERE 1 = 0"
    )
    for depth in range(deepest, highest_level - 1, -1):
        cursor.execute("DELETE FROM pejling_extremes")
        cursor.execute(
            "INSERT INTO pejling_extremes SELECT f.indicator_id, f.unit_id, f.period,"  # noqa: S608 - names from the models
            f" v.value, v.value FROM pejling_flagged f JOIN {_VALUES} v"
            " ON v.indicator_id = f.indicator_id AND v.unit_id = f.unit_id"
            " AND v.period = f.period WHERE f.depth = %s",
            [depth],
        )
        cursor.execute(
            "INSERT INTO pejling_extremes SELECT f.indicator_id, f.unit_id, f.period,"  # noqa: S608 - names from the models
            " c.lowest, c.highest FROM pejling_flagged f"
            " JOIN pejling_parent up ON up.parent_id = f.unit_id"
            f" JOIN {_ROLLUP} c ON c.indicator_id = f.indicator_id AND c.unit_id = up.unit_id"
            " AND c.period = f.period WHERE f.depth = %s",
            [depth],
        )
        cursor.execute(
            f"UPDATE {_ROLLUP} SET lowest = e.lo, highest = e.hi FROM ("  # noqa: S608 - names from the models
            " SELECT indicator_id, unit_id, period, MIN(lo) AS lo, MAX(hi) AS hi"
            " FROM pejling_extremes GROUP BY indicator_id, unit_id, period) e"
            f" WHERE {_ROLLUP}.indicator_id = e.indicator_id AND {_ROLLUP}.unit_id = e.unit_id"
            f" AND {_ROLLUP}.period = e.period"
        )


def on_unit_moved(*, unit_id: int, old_ancestor_ids: Collection[int], **_kwargs: Any) -> None:
    """Bring the cache in line after ``unit_id`` moved with its subtree in the tree.

    Only the units it left and the units it joined change: their rows are derived again for
    the indicators and periods the moved subtree has values for. The subtree's own rows stay.
    """
    unit = Unit.objects.get(pk=unit_id)
    new_ancestor_ids = set(
        Unit.objects.filter(path__in=unit.ancestor_paths()).values_list("pk", flat=True)
    )
    changed = set(old_ancestor_ids) ^ new_ancestor_ids
    if not changed:
        return
    below = IndicatorValue.objects.filter(unit__path__startswith=unit.path)
    indicator_ids = set(below.values_list("indicator_id", flat=True).distinct())
    if not indicator_ids:
        return
    periods = set(below.values_list("period", flat=True).distinct())
    _changed()
    with transaction.atomic():
        _recompute(
            indicator_ids=sorted(_with_weighted(indicator_ids)),
            periods=sorted(periods),
            unit_ids=sorted(changed),
        )


def on_units_moved(*, moves: Mapping[int, Collection[int]], **_kwargs: Any) -> None:
    """The same for many units at once (the organisation sync): ``moves`` maps every unit
    whose ancestors changed (each moved unit and everything below it) to its ancestors'
    ids before. A constant number of queries, whatever the number of units.

    A unit's row changes exactly when a unit below it came or went: the units in the
    difference of some moved unit's ancestors before and after. Those are derived again, for
    the indicators and periods the moved units have values for (their own: the units below
    a moved unit are in ``moves`` too).
    """
    if not moves:
        return
    step = Unit.steplen
    paths = dict(Unit.objects.filter(pk__in=list(moves)).values_list("pk", "path"))
    prefixes = {path[:end] for path in paths.values() for end in range(step, len(path), step)}
    pk_of = dict(Unit.objects.filter(path__in=prefixes).values_list("path", "pk"))
    changed: set[int] = set()
    for unit_id, old_ancestor_ids in moves.items():
        path = paths.get(unit_id, "")
        new_ids = {pk_of[path[:end]] for end in range(step, len(path), step)}
        changed |= set(old_ancestor_ids) ^ new_ids
    if not changed:
        return
    written = set(
        IndicatorValue.objects.filter(unit_id__in=list(moves))
        .values_list("indicator_id", "period")
        .distinct()
    )
    if not written:
        return
    _changed()
    with transaction.atomic():
        _recompute(
            indicator_ids=sorted(_with_weighted({indicator for indicator, _p in written})),
            periods=sorted({period for _i, period in written}),
            unit_ids=sorted(changed) if len(changed) <= UNIT_SCOPE_LIMIT else None,
        )


def on_indicator_saved(*, indicator: Indicator, weight_changed: bool) -> None:
    """A weighted mean's rows read its weight's values: a new weight derives them again. Any
    change of an indicator (its rule, its scale) starts a new generation of cached answers."""
    _changed()
    if weight_changed:
        with transaction.atomic():
            _recompute(indicator_ids=[indicator.pk], periods=None, unit_ids=None)


def derive_all() -> None:
    """The whole cache from the values: the roll-ups, then each unit's presence."""
    derive_rollups()
    derive_presence()


def derive_rollups() -> None:
    """The roll-ups from the values (the migration that creates their table calls it)."""
    _recompute(indicator_ids=None, periods=None, unit_ids=None)


def derive_presence() -> None:
    """Every unit's presence from the values (the migration that creates the table calls it;
    the periods are read from the roll-ups)."""
    _recompute_presence(indicator_ids=None, periods=None, unit_ids=None)


# Presence: each unit's own periods as bits (IndicatorPresence) --------------------------------

PRESENCE_BITS = 60  # periods per block (a signed 64-bit mask on both databases)
_BLOCK = 10_000  # a block number is its kind × _BLOCK + its first period's ordinal ÷ 60
_KINDS: dict[str, tuple[int, int]] = {
    "year": (0, 1),
    "tertial": (1, 3),
    "quarter": (2, 4),
    "month": (3, 12),
}
_KIND_NAMES = {code: (name, parts) for name, (code, parts) in _KINDS.items()}


@functools.lru_cache(maxsize=4096)
def presence_slot(period: str) -> tuple[int, int] | None:
    """The block and the bit of ``period`` in :class:`IndicatorPresence`; None when it is not
    a period (stored periods always are: canonical texts)."""
    try:
        parsed = parse_period(period)
    except PeriodError:
        return None
    code, parts = _KINDS[parsed.kind]
    ordinal = parsed.year * parts + max(parsed.number, 1) - 1
    return code * _BLOCK + ordinal // PRESENCE_BITS, ordinal % PRESENCE_BITS


def _block_periods(block: int) -> list[str]:
    """Every period of ``block`` (canonical texts)."""
    code, first = divmod(block, _BLOCK)
    kind, parts = _KIND_NAMES[code]
    out = []
    for bit in range(PRESENCE_BITS):
        year, number = divmod(first * PRESENCE_BITS + bit, parts)
        if MIN_YEAR <= year <= MAX_YEAR:
            out.append(str(Period(year, kind, number + 1 if parts > 1 else 0)))  # type: ignore[arg-type]
    return out


def _slots(periods: Iterable[str]) -> list[tuple[str, int, int]]:
    """(period, block, bit) of each of ``periods`` that is a period."""
    out = []
    for period in sorted(set(periods)):
        slot = presence_slot(period)
        if slot is not None:
            out.append((period, slot[0], 1 << slot[1]))
    return out


def _stored_periods(indicator_ids: Collection[int] | None) -> list[str]:
    """Every period the indicators have values in: the roots' roll-up rows (just derived)."""
    ind_sql, params = _in("r.indicator_id", indicator_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT r.period FROM {_ROLLUP} r JOIN {_UNITS} u ON u.id = r.unit_id"  # noqa: S608 - names from the models
            f" WHERE u.depth = 1{ind_sql}",
            params,
        )
        return [row[0] for row in cursor.fetchall()]


def _recompute_presence(
    *,
    indicator_ids: Collection[int] | None,
    periods: Collection[str] | None,
    unit_ids: Collection[int] | None,
) -> None:
    """Derive the presence rows in scope from the values: the blocks of ``periods`` (None:
    every block) of the units ``unit_ids`` (None: every unit). Call it after the roll-ups
    in scope were derived (with no periods given it reads the periods from them)."""
    ind_sql, ind_params = _in("indicator_id", indicator_ids)
    unit_sql, unit_params = _in("unit_id", unit_ids)
    v_ind, _p = _in("v.indicator_id", indicator_ids)
    v_unit, _p = _in("v.unit_id", unit_ids)
    if periods is None:
        slots = _slots(_stored_periods(indicator_ids))
        block_sql, block_params = "", list[Any]()
    else:
        blocks = sorted({slot[0] for p in periods if (slot := presence_slot(p)) is not None})
        slots = _slots(p for block in blocks for p in _block_periods(block))
        block_sql, block_params = _in("block", blocks)
    scope = ind_params + unit_params + block_params
    with _derived_again(_PRESENCE, ind_sql + unit_sql + block_sql, scope, unit_ids) as cursor:
        if not slots:
            return
        cursor.execute(
            f"INSERT INTO {_PRESENCE} (indicator_id, unit_id, block, mask)"  # noqa: S608 - names from the models
            " SELECT v.indicator_id, v.unit_id, b.column2, CAST(SUM(b.column3) AS BIGINT)"
            f" FROM {_VALUES} v JOIN (VALUES {', '.join(['(%s, %s, %s)'] * len(slots))}) b"
            f" ON b.column1 = v.period WHERE 1 = 1{v_ind}{v_unit}"
            # in the order the rule reads them: an indicator's rows on few pages
            " GROUP BY v.indicator_id, v.unit_id, b.column2"
            " ORDER BY v.indicator_id, v.unit_id, b.column2",
            [x for slot in slots for x in slot] + ind_params + unit_params,
        )


def _presence_added(first_new_id: int, indicator_ids: list[int], periods: Collection[str]) -> None:
    """An import's new values (ids above ``first_new_id``) set their bits; a changed value
    was present before and stays so."""
    slots = _slots(periods)
    if not slots or not indicator_ids:
        return
    ind = ", ".join(["%s"] * len(indicator_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_PRESENCE} (indicator_id, unit_id, block, mask)"  # noqa: S608 - names from the models
            " SELECT v.indicator_id, v.unit_id, b.column2, CAST(SUM(b.column3) AS BIGINT)"
            f" FROM {_VALUES} v JOIN (VALUES {', '.join(['(%s, %s, %s)'] * len(slots))}) b"
            f" ON b.column1 = v.period WHERE v.id > %s AND v.indicator_id IN ({ind})"
            " GROUP BY v.indicator_id, v.unit_id, b.column2"
            " ON CONFLICT (indicator_id, unit_id, block) DO UPDATE"
            f" SET mask = {_PRESENCE}.mask + excluded.mask",
            [x for slot in slots for x in slot] + [first_new_id, *indicator_ids],
        )


type PresenceSnapshot = dict[tuple[int, int, int], int]


def presence_snapshot() -> PresenceSnapshot:
    """The presence rows keyed by (indicator, unit, block), for comparisons."""
    return {
        (i, u, b): m
        for i, u, b, m in IndicatorPresence.objects.values_list(
            "indicator_id", "unit_id", "block", "mask"
        ).iterator()
    }


type Snapshot = dict[tuple[int, int, str], tuple[Any, ...]]


def snapshot(*, indicator_ids: Collection[int] | None = None) -> Snapshot:
    """The cache's rows as plain tuples keyed by (indicator, unit, period), for comparisons."""
    qs = IndicatorRollup.objects.all()
    if indicator_ids is not None:
        qs = qs.filter(indicator_id__in=indicator_ids)
    fields = ("period_start", "count", "total", "lowest", "highest", "weighted", "weights")
    return {
        (row[0], row[1], row[2]): tuple(row[3:])
        for row in qs.values_list("indicator_id", "unit_id", "period", *fields).iterator()
    }


def rebuild(*, indicator_ids: Collection[int] | None = None) -> tuple[int, int]:
    """Derive the whole cache (or that of some indicators) from the values.

    Returns the roll-up rows after the rebuild and how many roll-up and presence rows the
    rebuild added, changed or removed (0 when the upkeep on write had kept the cache right),
    compared in SQL (numbers to six decimals) without reading the rows into Python.
    """
    ind_sql, ind_params = _in("indicator_id", indicator_ids)
    keys = "indicator_id, unit_id, period"
    numbers = ", ".join(
        f"ROUND({c}, 6)" for c in ("total", "lowest", "highest", "weighted", "weights")
    )
    columns = f"{keys}, period_start, count, {numbers}"
    with transaction.atomic(), connection.cursor() as cursor:
        _changed()
        cursor.execute("DROP TABLE IF EXISTS pejling_rollup_before")
        cursor.execute(
            f"CREATE TEMP TABLE pejling_rollup_before AS SELECT * FROM {_ROLLUP}"  # noqa: S608 - names from the models
            f" WHERE 1 = 1{ind_sql}",
            ind_params,
        )
        _recompute(indicator_ids=indicator_ids, periods=None, unit_ids=None)
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT {columns} FROM {_ROLLUP} WHERE 1 = 1{ind_sql}"  # noqa: S608
            f" EXCEPT SELECT {columns} FROM pejling_rollup_before) changed",
            ind_params,
        )
        changed = _scalar(cursor)
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT {keys} FROM pejling_rollup_before"  # noqa: S608
            f" EXCEPT SELECT {keys} FROM {_ROLLUP} WHERE 1 = 1{ind_sql}) removed",
            ind_params,
        )
        removed = _scalar(cursor)
        cursor.execute(f"SELECT COUNT(*) FROM {_ROLLUP} WHERE 1 = 1{ind_sql}", ind_params)  # noqa: S608
        rows = _scalar(cursor)
        cursor.execute("DROP TABLE pejling_rollup_before")
        # The presence rows the same way (counted with the roll-up rows that differ).
        cursor.execute("DROP TABLE IF EXISTS pejling_presence_before")
        cursor.execute(
            f"CREATE TEMP TABLE pejling_presence_before AS SELECT * FROM {_PRESENCE}"  # noqa: S608 - names from the models
            f" WHERE 1 = 1{ind_sql}",
            ind_params,
        )
        _recompute_presence(indicator_ids=indicator_ids, periods=None, unit_ids=None)
        blocks = "indicator_id, unit_id, block"
        presence = f"{blocks}, mask"
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT {presence} FROM {_PRESENCE} WHERE 1 = 1{ind_sql}"  # noqa: S608
            f" EXCEPT SELECT {presence} FROM pejling_presence_before) changed",
            ind_params,
        )
        changed += _scalar(cursor)
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT {blocks} FROM pejling_presence_before"  # noqa: S608
            f" EXCEPT SELECT {blocks} FROM {_PRESENCE} WHERE 1 = 1{ind_sql}) removed",
            ind_params,
        )
        removed += _scalar(cursor)
        cursor.execute("DROP TABLE pejling_presence_before")
    return rows, changed + removed


def _scalar(cursor: Any) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row else 0


__all__ = [
    "apply_import",
    "apply_value_changes",
    "derive_all",
    "derive_presence",
    "derive_rollups",
    "on_indicator_saved",
    "on_unit_moved",
    "on_units_moved",
    "presence_slot",
    "presence_snapshot",
    "rebuild",
    "snapshot",
]
