"""A snapshot of the test database after the demo is loaded, restored before every test.

Loading the demo takes seconds and Django's serialized rollback (one ``save()`` per object)
as long; copying every table in SQL takes a fraction of a second. Works on SQLite (the
snapshot lives in an attached in-memory database) and PostgreSQL (in a schema of its own).
On PostgreSQL the tables written since the snapshot can be noted (``track_writes``) and only
those put back (``restore_written``): a test writes a few of the demo's tables, not all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from unittest import mock

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

SNAPSHOT = "e2e_snapshot"
# The SQL below is built from table names the database itself lists, quoted: no user input.


def _tables(connection: BaseDatabaseWrapper) -> list[str]:
    return sorted(
        connection.introspection.django_table_names(only_existing=True, include_views=False)
    )


def take_snapshot(connection: BaseDatabaseWrapper, snapshot: str = SNAPSHOT) -> None:
    """Copy every table of the installed models into the snapshot ``snapshot`` (a name of
    ours: an attached database on SQLite, a schema on PostgreSQL). Outside a transaction: on
    SQLite a database cannot be attached inside one."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM pragma_database_list WHERE name = %s", [snapshot])
            if cursor.fetchone() is None:
                cursor.execute(f"ATTACH DATABASE ':memory:' AS {snapshot}")
            for table in _tables(connection):
                live, copy = f"main.{quote(table)}", f"{snapshot}.{quote(table)}"
                cursor.execute(f"DROP TABLE IF EXISTS {copy}")
                cursor.execute(f"CREATE TABLE {copy} AS SELECT * FROM {live}")  # noqa: S608
        elif connection.vendor == "postgresql":
            cursor.execute(f"DROP SCHEMA IF EXISTS {snapshot} CASCADE")
            cursor.execute(f"CREATE SCHEMA {snapshot}")
            for table in _tables(connection):
                live, copy = quote(table), f"{snapshot}.{quote(table)}"
                cursor.execute(f"CREATE UNLOGGED TABLE {copy} AS TABLE {live}")
        else:
            raise NotImplementedError(f"No database snapshot for {connection.vendor}")


def restore_snapshot(connection: BaseDatabaseWrapper, snapshot: str = SNAPSHOT) -> None:
    """Replace the content of every table with the snapshot's (inside the caller's
    transaction if there is one: rolled back with it).

    Sequences are left alone: they only ever grow, so new rows never reuse a snapshot id.
    """
    quote = connection.ops.quote_name
    tables = _tables(connection)
    if connection.vendor == "sqlite":
        with (
            connection.constraint_checks_disabled(),
            transaction.atomic(using=connection.alias),
            connection.cursor() as cursor,
        ):
            for table in tables:
                live, copy = f"main.{quote(table)}", f"{snapshot}.{quote(table)}"
                cursor.execute(f"DELETE FROM {live}")  # noqa: S608
                cursor.execute(f"INSERT INTO {live} SELECT * FROM {copy}")  # noqa: S608
    elif connection.vendor == "postgresql":
        # Django creates foreign keys DEFERRABLE INITIALLY DEFERRED: checked at commit.
        # DELETE, not TRUNCATE: the tables are small, and TRUNCATE costs seconds per test.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            for table in tables:
                live, copy = quote(table), f"{snapshot}.{quote(table)}"
                cursor.execute(f"DELETE FROM {live}")  # noqa: S608
                cursor.execute(f"INSERT INTO {live} SELECT * FROM {copy}")  # noqa: S608
    else:
        raise NotImplementedError(f"No database snapshot for {connection.vendor}")


def track_writes(connection: BaseDatabaseWrapper, snapshot: str = SNAPSHOT) -> bool:
    """PostgreSQL: note which tables are written from now on, so that ``restore_written``
    puts back only those from the snapshot (taken just before) instead of every table.

    A statement-level trigger on every table adds the table's name to ``<snapshot>.written``
    (a plain INSERT, no unique key: two transactions writing the same table never wait for
    each other). Any connection's writes are seen (the live server's threads, the test's
    own), and a write rolled back takes its note with it. Returns whether writes are
    tracked (not on SQLite: ``restore_snapshot`` then copies every table)."""
    if connection.vendor != "postgresql":
        return False
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE UNLOGGED TABLE {snapshot}.written (name text NOT NULL)")
        cursor.execute(
            f"""CREATE FUNCTION {snapshot}.note_write() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {snapshot}.written VALUES (TG_TABLE_NAME);
                RETURN NULL;
            END $$"""  # noqa: S608 (our own schema name)
        )
        # Every table written puts its rows back from the snapshot: DELETE then INSERT, in
        # the caller's transaction (foreign keys are checked at commit). The notes these
        # writes add are removed with the others at the end.
        cursor.execute(
            f"""CREATE FUNCTION {snapshot}.restore_written() RETURNS void LANGUAGE plpgsql AS $$
            DECLARE table_name text;
            BEGIN
                FOR table_name IN SELECT DISTINCT name FROM {snapshot}.written LOOP
                    EXECUTE format('DELETE FROM %I', table_name);
                    EXECUTE format('INSERT INTO %I SELECT * FROM {snapshot}.%I',
                                   table_name, table_name);
                END LOOP;
                DELETE FROM {snapshot}.written;
            END $$"""  # noqa: S608 (our own schema name; the tables' names quoted by format)
        )
        for table in _tables(connection):
            cursor.execute(
                f"CREATE TRIGGER {snapshot}_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {quote(table)} FOR EACH STATEMENT EXECUTE FUNCTION {snapshot}.note_write()"
            )
    return True


def restore_written(connection: BaseDatabaseWrapper, snapshot: str = SNAPSHOT) -> None:
    """Put back from the snapshot the tables written since ``track_writes`` or the last
    restore (PostgreSQL; in the caller's transaction if there is one)."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"SELECT {snapshot}.restore_written()")


@contextmanager
def _flush_as(
    connection: BaseDatabaseWrapper, statements: Callable[[Sequence[str]], list[str]]
) -> Iterator[None]:
    """Make Django's flush after each transactional test run ``statements(tables)`` instead
    of its own (which it still runs when asked to reset sequences or cascade)."""
    original = connection.ops.sql_flush

    def sql_flush(
        style: Any,
        tables: Sequence[str],
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        if reset_sequences or allow_cascade:
            return original(
                style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return statements(tables)

    with mock.patch.object(connection.ops, "sql_flush", sql_flush):
        yield


@contextmanager
def flush_by_restoring_written(
    connection: BaseDatabaseWrapper, snapshot: str = SNAPSHOT
) -> Iterator[None]:
    """Make Django's flush after each transactional test put back the tables the test wrote
    from the snapshot (``track_writes``), rather than empty every table for the next test
    to refill all of them from the snapshot: the database is the snapshot again after every
    test, at the cost of the few tables a test wrote."""
    with _flush_as(connection, lambda tables: [f"SELECT {snapshot}.restore_written()"]):
        yield


@contextmanager
def flush_by_delete(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Make Django's flush after each transactional test DELETE rather than TRUNCATE on
    PostgreSQL: TRUNCATE of some 50 small tables costs seconds per test, DELETE a tenth.
    Foreign keys are checked at commit; flush runs in one transaction."""
    if connection.vendor != "postgresql":
        yield
        return
    quote = connection.ops.quote_name
    with _flush_as(
        connection,
        lambda tables: [f"DELETE FROM {quote(table)}" for table in tables],  # noqa: S608
    ):
        yield
