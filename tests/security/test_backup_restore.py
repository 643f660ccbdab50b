"""A backup of the demo restores into a new database with the same rows (docs/security.md).

PostgreSQL: `pg_dump -Fc` of the test database, `pg_restore` into a freshly created one.
SQLite: the test database is in memory, so the connection itself is backed up with sqlite3's
backup API into a file, which is then opened as a new database.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from e2e.database import restore_snapshot

from tests.demo_snapshot import DEMO_SNAPSHOT

TABLES = [
    "organisation_unit",
    "organisation_membership",
    "strategy_strategy",
    "strategy_element",
    "agreements_agreement",
    "agreements_initiative",
    "indicators_indicatorvalue",
    "auth_user",
]


def _counts(cursor: Any) -> dict[str, int]:
    result = {}
    for table in TABLES:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (fixed names)
        result[table] = cursor.fetchone()[0]
    return result


def _pg_env(settings: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if settings.get(key):
            env[var] = str(settings[key])
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    return env


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_the_demo_restores_with_the_same_rows(
    tmp_path: Path, demo_snapshot: str
) -> None:
    # The rows `pejling demo` wrote, once for this test process (tests/conftest.py), committed.
    restore_snapshot(connection, DEMO_SNAPSHOT)
    with connection.cursor() as cursor:
        expected = _counts(cursor)
    assert expected["organisation_unit"] > 50 and expected["agreements_initiative"] > 0

    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        env = _pg_env(settings)
        dump = tmp_path / "pejling.dump"
        subprocess.run(  # noqa: S603
            ["pg_dump", "-Fc", "--no-owner", "-f", str(dump), settings["NAME"]],  # noqa: S607
            env=env,
            check=True,
        )
        restored = f"pejling_restore_{uuid.uuid4().hex[:8]}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{restored}"')
        try:
            subprocess.run(  # noqa: S603
                ["pg_restore", "--no-owner", "-d", restored, str(dump)],  # noqa: S607
                env=env,
                check=True,
            )
            import psycopg

            params = {k.lower(): v for k, v in settings.items() if k in ("HOST", "PORT", "USER")}
            params = {k: v for k, v in params.items() if v}
            if settings.get("PASSWORD"):
                params["password"] = settings["PASSWORD"]
            with psycopg.connect(dbname=restored, **params) as other, other.cursor() as cursor:
                actual = _counts(cursor)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
    else:
        assert connection.vendor == "sqlite"
        backup = tmp_path / "backup.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(backup)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        restored_db = sqlite3.connect(backup)
        try:
            assert restored_db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            actual = _counts(restored_db.cursor())
        finally:
            restored_db.close()
    assert actual == expected
