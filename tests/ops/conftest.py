"""A migrated installation for the tests that start Pejling in child processes."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from django.db import connections

from tests.conftest import MIGRATED_COPY
from tests.ops.helpers import child_env, pejling


@pytest.fixture(scope="session")
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A migrated SQLite database for the tests that only need an installation that is
    migrated (running the migrations takes some ten seconds of a core).

    In the SQLite pass that is this test process's own test database as the migrations left
    it, before any test ran: the same migrations on the same database engine, copied into a
    file (tests/conftest.py, ``django_db_setup``). Otherwise (the test database is not SQLite,
    or no collected test asked for one) ``pejling migrate`` makes it in a child process, once
    per test run (the pytest-xdist workers share it: the first to need it migrates, under a
    file lock). ``test_an_unmigrated_database_is_not_ready`` still migrates its own database
    with ``pejling migrate``: there the command is what is tested.
    """
    if connections["default"].vendor == "sqlite":
        request.getfixturevalue("django_db_setup")
        copy = request.config.stash.get(MIGRATED_COPY, None)
        if copy is not None:
            return copy
    base = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):
        base = base.parent  # this run's folder, shared by its workers
    done_dir = base / "migrated-installation"
    with (base / "migrated-installation.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done_dir.is_dir():
            staging = base / "migrated-installation.partial"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            done = pejling(child_env(staging), "migrate", "-v0", timeout=600)
            assert done.returncode == 0, done.stdout + done.stderr
            staging.rename(done_dir)
    return done_dir / "pejling.sqlite3"


@pytest.fixture
def migrated(migrated_database: Path) -> Callable[[Path], None]:
    """``migrated(data_dir)`` gives an empty data directory the migrated database (copied with
    SQLite's backup API, which also reads what is still in the write-ahead log)."""
    import sqlite3

    def install(data_dir: Path) -> None:
        with (
            closing(sqlite3.connect(migrated_database)) as source,
            closing(sqlite3.connect(data_dir / "pejling.sqlite3")) as target,
        ):
            source.backup(target)

    return install
