"""Shared fixtures: a small hand-built organisation with standing users, and a strategy cascade.

The organisation::

    exec (Executive board)                 executive, office
    ├── centre-a                           (no one)
    │   ├── dept-a1                        parent_head
    │   │   ├── unit-a1a                   head, employee
    │   │   └── unit-a1b                   colleague
    │   └── dept-a2
    │       └── unit-a2a
    └── centre-b
        └── dept-b1
            └── unit-b1a

``outsider`` has an account and no membership at all.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connections, transaction
from django.test import override_settings
from e2e.database import flush_by_delete, restore_snapshot, take_snapshot

from pejling.organisation.models import Role, Unit
from pejling.strategy.models import Element, Strategy
from tests.demo_snapshot import BASE_SNAPSHOT, DEMO_SNAPSHOT
from tests.factories import (
    YEAR,
    AgreementFactory,
    ElementFactory,
    InitiativeFactory,
    MembershipFactory,
    StrategyFactory,
    StrategyLevelFactory,
    UnitFactory,
    UserFactory,
)

# Tests that touch no database run once -------------------------------------------------------

# A test reaches the test database only through one of these fixtures (``db`` and its kin
# request ``django_db_setup``, as do the module-scoped scenes built with ``django_db_blocker``)
# or the ``django_db`` marker; pytest-django refuses every query of any other test.
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "django_db_setup",
        "live_server",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    """Each test process keeps its cache in memory (``PEJLING_CACHE_URL=locmem://``), not in
    the data directory's files that every xdist worker would share and clear under the others
    (``_fresh_cache``). Set before anything reads the cache; tests of the file cache make
    their own (tests/core/test_file_cache.py, tests/ops)."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests that use the database (make test-postgres: the tests that "
        "touch no database run the same on every database, and the SQLite pass ran them)",
    )


def uses_database(item: pytest.Item) -> bool:
    """Whether ``item`` can reach the database, or says its outcome depends on it."""
    if item.get_closest_marker("django_db") or item.get_closest_marker("each_database"):
        return True
    if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    from django.test import SimpleTestCase, TransactionTestCase

    cls = getattr(item, "cls", None)
    return isinstance(cls, type) and (
        issubclass(cls, TransactionTestCase)
        or (issubclass(cls, SimpleTestCase) and bool(cls.databases))
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--database-tests-only`` (the PostgreSQL pass), leave out the tests that touch no
    database: parsers, formatters, property tests of pure functions, child processes on their
    own SQLite. They ran in the SQLite pass, and would run there identically again.

    Nothing that uses the database is dropped unseen: a test that queried it without a
    database fixture or marker would fail in the SQLite pass ("Database access not
    allowed"). A test whose outcome depends on the database settings in another way (a
    child process handed them) is marked ``each_database``."""
    if not config.getoption("database_tests_only"):
        return
    kept = [item for item in items if uses_database(item)]
    if len(kept) < len(items):
        kept_ids = {id(item) for item in kept}
        config.hook.pytest_deselected(items=[i for i in items if id(i) not in kept_ids])
        items[:] = kept


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """PostgreSQL test databases commit without waiting for the WAL to reach the disk
    (``synchronous_commit=off``, for the tests' own connections only): a crash could lose the
    last commits of a database that is dropped at the end anyway. Transactional tests commit
    and flush after every test, and each of those commits otherwise waits for an fsync."""
    for alias in connections:
        settings_dict = connections[alias].settings_dict
        if connections[alias].vendor == "postgresql":
            options = settings_dict.setdefault("OPTIONS", {})
            flags = options.get("options", "")
            if "synchronous_commit" not in flags:
                options["options"] = f"{flags} -c synchronous_commit=off".strip()


# A copy of this test process's SQLite test database as the migrations left it (see below).
MIGRATED_COPY = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def django_db_setup(
    django_db_setup: None,
    django_db_blocker: Any,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """After a transactional test (the live-server and race tests) Django empties every table;
    on PostgreSQL it does so with one TRUNCATE of all of them, which takes a lock and files
    per table and costs about a second each time. DELETE of the few rows such a test wrote
    leaves the same empty tables (see e2e/database.py, which the browser tests use as well).

    On SQLite the test database, just migrated, is also copied into a file (SQLite's backup
    API, milliseconds): the tests that start Pejling in a child process on a migrated
    installation copy that file rather than run the migrations again (tests/ops/conftest.py)."""
    connection = connections["default"]
    if connection.vendor == "sqlite":
        with django_db_blocker.unblock():
            if _freshly_migrated_test_database(connection):
                copy = tmp_path_factory.mktemp("migrated") / "pejling.sqlite3"
                connection.ensure_connection()
                with closing(sqlite3.connect(copy)) as target:
                    connection.connection.backup(target)
                request.config.stash[MIGRATED_COPY] = copy
    with flush_by_delete(connection):
        yield


def _freshly_migrated_test_database(connection: Any) -> bool:
    """Whether pytest-django made this connection's test database (it does only when a
    collected test asks for the database) and every migration is applied to it."""
    from django.db.migrations.executor import MigrationExecutor

    test_name = connection.settings_dict.get("TEST", {}).get("NAME")
    name = str(connection.settings_dict["NAME"])
    if not (connection.creation.is_in_memory_db(name) or (test_name and name == test_name)):
        return False
    executor = MigrationExecutor(connection)
    return not executor.migration_plan(executor.loader.graph.leaf_nodes())


# The demo organisation, loaded once per test process -----------------------------------------


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup: None, django_db_blocker: Any) -> str:
    """``pejling demo`` run once per test process (each pytest-xdist worker) and its rows
    copied in SQL into a snapshot (``e2e/database.py``); the database is then put back as it
    was before (from a snapshot of it taken first). Loading the demo takes tens of seconds on
    a busy machine, a restore of the snapshot a fraction of one. Returns what the command
    printed.

    The modules that need the demo restore it with ``demo_restored()`` (tests/demo/test_demo.py
    still loads it a second time through the command, over the restored copy, and checks that
    nothing changes)."""
    connection = connections["default"]
    out = StringIO()
    with django_db_blocker.unblock():
        take_snapshot(connection, BASE_SNAPSHOT)
        try:
            with transaction.atomic():
                call_command("demo", stdout=out)
                # As when the demo was loaded in each module's transaction, rolled back at its
                # end: what the load asked to run on commit (jobs it queued, the raise of the
                # data generation) never runs, and the snapshot holds only the rows it wrote.
                connection.run_on_commit.clear()
            take_snapshot(connection, DEMO_SNAPSHOT)
        finally:
            restore_snapshot(connection, BASE_SNAPSHOT)
            ContentType.objects.clear_cache()
    return out.getvalue()


@pytest.fixture(scope="session", autouse=True)
def _static_files_scanned_once() -> Iterator[None]:
    """WhiteNoise walks every static file (the finders' directories, node_modules' fonts and
    CSS among them) whenever its middleware is built, and Django's test client builds the
    middleware anew for every client: about a tenth of a second per test that uses a client.
    The static files do not change during a run, so the walk is done once per distinct
    configuration and its result (the same ``StaticFile`` objects) handed to later instances."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    scanned: dict[str, dict[str, Any]] = {}
    original = WhiteNoiseMiddleware.add_files_from_finders

    def add_files_from_finders(self: WhiteNoiseMiddleware) -> None:
        key = repr(
            (
                self.max_age,
                self.allow_all_origins,
                self.charset,
                self.add_headers_function,
                self.index_file,
                getattr(self.immutable_file_test, "__func__", self.immutable_file_test),
                self.static_prefix,
                settings.STATICFILES_DIRS,
                settings.STATICFILES_FINDERS,
                settings.INSTALLED_APPS,
                settings.STORAGES,
            )
        )
        if key not in scanned:
            found, self.files = self.files, {}
            try:
                original(self)
                scanned[key] = self.files
            finally:
                self.files = found | self.files
            return
        self.files.update(scanned[key])

    WhiteNoiseMiddleware.add_files_from_finders = add_files_from_finders  # type: ignore[method-assign]
    yield
    WhiteNoiseMiddleware.add_files_from_finders = original  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def _fast_and_self_contained() -> Iterator[None]:
    """Fast password hashing, and static files without a collectstatic manifest.

    Session-wide, so that module-scoped data (the demo) is hashed the same way as the rest.
    """
    uploads = tempfile.TemporaryDirectory(prefix="pejling-imports-")
    override = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            # Uploaded KPI files of the tests: a directory of their own, removed at the end.
            "imports": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": uploads.name},
            },
        },
    )
    override.enable()
    yield
    override.disable()
    uploads.cleanup()


@pytest.fixture
def run_jobs(settings: Any) -> None:
    """Background jobs run at once, inside the request that queues them (Django's immediate
    task backend): an upload is checked, a confirmed import written, before the answer."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _no_login_lockout(settings: Any) -> None:
    """Tests log in many times: django-axes' lockout is off except where a test turns it on
    (tests/security/test_login_lockout.py)."""
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: answers cached by one test (the API's series,
    rate-limit counters) never leak into the next, whose database was rolled back."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def year() -> int:
    return YEAR


@dataclass
class Org:
    root: Unit
    centre_a: Unit
    centre_b: Unit
    dept_a1: Unit
    dept_a2: Unit
    dept_b1: Unit
    unit: Unit  # the unit most tests act on
    sibling: Unit
    unit_a2a: Unit
    unit_b1a: Unit
    head: Any
    parent_head: Any
    executive: Any
    office: Any
    employee: Any
    colleague: Any
    outsider: Any

    def refresh(self) -> Org:
        """Read every unit afresh: treebeard may have shifted paths while adding siblings."""
        for name, value in vars(self).items():
            if isinstance(value, Unit):
                setattr(self, name, Unit.objects.select_related("level").get(pk=value.pk))
        return self


@pytest.fixture
def org(db: None) -> Org:
    root = UnitFactory(code="exec", name="Executive board")
    centre_a = UnitFactory(parent=root, code="centre-a", name="Centre A")
    centre_b = UnitFactory(parent=root, code="centre-b", name="Centre B")
    dept_a1 = UnitFactory(parent=centre_a, code="dept-a1", name="Department A1")
    dept_a2 = UnitFactory(parent=centre_a, code="dept-a2", name="Department A2")
    dept_b1 = UnitFactory(parent=centre_b, code="dept-b1", name="Department B1")
    unit = UnitFactory(parent=dept_a1, code="unit-a1a", name="Unit A1a")
    sibling = UnitFactory(parent=dept_a1, code="unit-a1b", name="Unit A1b")
    unit_a2a = UnitFactory(parent=dept_a2, code="unit-a2a", name="Unit A2a")
    unit_b1a = UnitFactory(parent=dept_b1, code="unit-b1a", name="Unit B1a")

    def person(username: str, first: str, last: str, *roles: tuple[Unit, str]) -> Any:
        user = UserFactory(username=username, first_name=first, last_name=last)
        for where, role in roles:
            MembershipFactory(user=user, unit=where, role=role)
        return user

    return Org(
        root=root,
        centre_a=centre_a,
        centre_b=centre_b,
        dept_a1=dept_a1,
        dept_a2=dept_a2,
        dept_b1=dept_b1,
        unit=unit,
        sibling=sibling,
        unit_a2a=unit_a2a,
        unit_b1a=unit_b1a,
        head=person("head", "Hanna", "Head", (unit, Role.UNIT_HEAD), (unit, Role.MEMBER)),
        parent_head=person("parent_head", "Per", "Parent", (dept_a1, Role.UNIT_HEAD)),
        executive=person("executive", "Eva", "Executive", (root, Role.EXECUTIVE)),
        office=person("office", "Olga", "Office", (root, Role.STRATEGY_OFFICE)),
        employee=person("employee", "Erik", "Employee", (unit, Role.MEMBER)),
        colleague=person("colleague", "Cecilia", "Colleague", (sibling, Role.UNIT_HEAD)),
        outsider=person("outsider", "Otto", "Outsider"),
    ).refresh()


@dataclass
class Cascade:
    narrative: Strategy
    group: Strategy
    old: Strategy
    bearing: Element
    theme_1: Element
    theme_2: Element
    theme_3: Element
    goal_1: Element  # under theme 1, a KPI with baseline 14.9
    goal_2: Element  # under theme 2
    goal_3: Element  # under theme 3
    old_goal: Element  # a goal of a strategy that ended before YEAR


@pytest.fixture
def cascade(db: None) -> Cascade:
    """A future narrative, a group strategy serving it (themes → goals), and an ended strategy."""
    narrative = StrategyFactory(
        code="narrative", title="Future narrative 2031", start_year=2025, end_year=2031
    )
    StrategyLevelFactory(strategy=narrative, depth=1, name="Bearing", name_plural="Bearings")
    bearing = ElementFactory(strategy=narrative, code="B1", title="We look outwards")
    ElementFactory(strategy=narrative, code="B2", title="We lead with trust")

    group = StrategyFactory(
        code="group", title="Group strategy", start_year=2025, end_year=2026, parent=narrative
    )
    StrategyLevelFactory(strategy=group, depth=1, name="Theme", name_plural="Themes")
    StrategyLevelFactory(
        strategy=group, depth=2, name="Common goal", name_plural="Common goals", holds_goals=True
    )
    theme_1 = ElementFactory(strategy=group, code="T1", title="Together", position=1)
    theme_2 = ElementFactory(strategy=group, code="T2", title="Shared culture", position=2)
    theme_3 = ElementFactory(strategy=group, code="T3", title="Attractive workplace", position=3)
    goal_1 = ElementFactory(
        parent=theme_1,
        code="T1.1",
        title="Sick leave falls",
        measure_kind="kpi",
        baseline_value=Decimal("14.9"),
        target_value=Decimal("13.5"),
        measure_unit="days",
    )
    goal_2 = ElementFactory(parent=theme_2, code="T2.1", title="Competence plans everywhere")
    goal_3 = ElementFactory(parent=theme_3, code="T3.1", title="Recruitment toolbox used")

    old = StrategyFactory(code="old", title="Old strategy", start_year=2020, end_year=2022)
    StrategyLevelFactory(strategy=old, depth=1, name="Area", name_plural="Areas")
    StrategyLevelFactory(strategy=old, depth=2, name="Goal", name_plural="Goals", holds_goals=True)
    old_area = ElementFactory(strategy=old, code="O1", title="Old area")
    old_goal = ElementFactory(parent=old_area, code="O1.1", title="An expired goal")

    return Cascade(
        narrative=narrative,
        group=group,
        old=old,
        bearing=bearing,
        theme_1=theme_1,
        theme_2=theme_2,
        theme_3=theme_3,
        goal_1=goal_1,
        goal_2=goal_2,
        goal_3=goal_3,
        old_goal=old_goal,
    )


@pytest.fixture
def agreement(org: Org, cascade: Cascade) -> Any:
    """A draft agreement of ``org.unit`` for YEAR with one initiative linked to goal 1."""
    agreement = AgreementFactory(unit=org.unit, year=YEAR, summary="Our year")
    InitiativeFactory(agreement=agreement, title="Early health talks", goals=[cascade.goal_1])
    return agreement
