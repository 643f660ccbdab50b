"""A snapshot of the test database after the demo is loaded, restored before every test.

Loading the demo takes seconds and Django's serialized rollback (one ``save()`` per object)
as long; copying every table in SQL takes a fraction of a second. Works on SQLite (the
snapshot lives in an attached in-memory database) and PostgreSQL (in a schema of its own).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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


@contextmanager
def flush_by_delete(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Make Django's flush after each transactional test DELETE rather than TRUNCATE on
    PostgreSQL: TRUNCATE of some 50 small tables costs seconds per test, DELETE a tenth."""
    if connection.vendor != "postgresql":
        yield
        return
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
        # Foreign keys are checked at commit; flush runs in one transaction.
        quote = connection.ops.quote_name
        return [f"DELETE FROM {quote(table)}" for table in tables]  # noqa: S608

    with mock.patch.object(connection.ops, "sql_flush", sql_flush):
        yield
