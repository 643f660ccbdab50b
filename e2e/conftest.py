"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

The demo organisation is loaded once per session into the test database and copied into a
snapshot; every test is transactional and starts from the snapshot, restored in SQL (far
cheaper than running ``demo`` again). On PostgreSQL the flush after each test puts back only
the tables the test wrote (noted by triggers, e2e/database.py); on SQLite it empties every
table and the next test copies all of them back.

Every page a test visits must be checked with axe-core (``check_a11y``); the ``page`` fixture
fails a test that navigated to a page it did not check, that logged a console error (which is
how CSP violations show) or whose same-origin requests failed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any
from urllib.request import urlopen

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls made from the
# same thread (fixtures, assertions on the database) are safe because nothing else runs there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from django.core.management import call_command
from django.db import connections
from django.test.utils import override_settings
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from e2e.browser import CHROMIUM, CHROMIUM_ARGS, open_page, watch_of
from e2e.database import (
    flush_by_delete,
    flush_by_restoring_written,
    restore_snapshot,
    restore_written,
    take_snapshot,
    track_writes,
)


def pytest_configure(config: pytest.Config) -> None:
    """Each test process keeps its cache in memory, not in the data directory's files that
    both xdist workers, each on a database of its own, would share."""
    from django.conf import settings

    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }


# Database -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request: pytest.FixtureRequest) -> None:
    """A test database of its own (``test_<name>_e2e``, ``test_<name>_e2e_gw0`` … under
    pytest-xdist: each worker has its own database, live server and Chromium), so that the
    browser tests never collide with a unit-test run on the same PostgreSQL server.

    The schema is created from the models, not by running the migrations (seconds saved):
    the unit tests run the migrations, and none of them carries data. Set
    ``PEJLING_E2E_MIGRATE=1`` to run them here too.

    The live server commits after every request: on PostgreSQL the test connections do not
    wait for the WAL to reach the disk (``synchronous_commit=off``; the database is dropped
    at the end).
    """
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    for alias in connections:
        settings_dict = connections[alias].settings_dict
        test_settings = settings_dict.setdefault("TEST", {})
        if connections[alias].vendor != "sqlite" and not test_settings.get("NAME"):
            name = f"test_{settings_dict['NAME']}_e2e"
            test_settings["NAME"] = f"{name}_{worker}" if worker else name
        test_settings.setdefault("MIGRATE", os.environ.get("PEJLING_E2E_MIGRATE", "") == "1")
        if connections[alias].vendor == "postgresql":
            options = settings_dict.setdefault("OPTIONS", {})
            flags = options.get("options", "")
            if "synchronous_commit" not in flags:
                options["options"] = f"{flags} -c synchronous_commit=off".strip()


@pytest.fixture(scope="session")
def django_db_setup(
    e2e_settings: None, django_db_setup: None, django_db_blocker: Any
) -> Iterator[bool]:
    """Load the demo once, into the test database and its snapshot.

    On PostgreSQL the tables each test writes are noted (``track_writes``), and Django's
    flush after the test puts back just those from the snapshot: every test still starts
    from the demo as loaded, without copying every table of it twice per test (emptied
    by the flush, refilled by the next test), which cost seconds a test. On SQLite the
    flush empties the tables and the next test refills every one (``demo``)."""
    connection = connections["default"]
    with django_db_blocker.unblock():
        call_command("demo", verbosity=0)
        take_snapshot(connection)
        tracked = track_writes(connection)
        # The snapshot replaces serialized rollback: a test marked with it must not reload
        # the (pre-demo) serialized contents on top of the restored demo.
        for alias in connections:
            if hasattr(connections[alias], "_test_serialized_contents"):
                del connections[alias]._test_serialized_contents  # type: ignore[attr-defined]
    flush = flush_by_restoring_written if tracked else flush_by_delete
    with flush(connection):
        yield tracked


@pytest.fixture(autouse=True)
def demo(request: pytest.FixtureRequest) -> None:
    """Each browser test starts from the freshly loaded demo organisation."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("transactional_db")
    if request.getfixturevalue("django_db_setup"):  # the tables written are noted
        restore_written(connections["default"])  # what was written since the last flush
    else:
        restore_snapshot(connections["default"])


@pytest.fixture(scope="session", autouse=True)
def e2e_settings() -> Iterator[None]:
    """Settings for the browser tests.

    Static files come through the finders (the manifest storage needs collectstatic), and
    passwords are hashed cheaply: PBKDF2 costs about a second per log-in on a busy machine.
    """
    uploads = tempfile.TemporaryDirectory(prefix="pejling-e2e-imports-")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "imports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": uploads.name},
        },
    }
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(STORAGES=storages, PASSWORD_HASHERS=hashers):
        yield
    uploads.cleanup()


# Browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def warm_server(live_server: Any) -> str:
    """The live server, asked once for the log-in page before any browser goes there: its first
    answer imports the URLs, views and templates, seconds on a busy machine (two workers start
    at once), which would otherwise count against the first test's navigation timeout."""
    with urlopen(f"{live_server.url}/accounts/login/", timeout=120) as answer:  # noqa: S310
        answer.read()
    return str(live_server.url)


@pytest.fixture
def page(browser: Browser, live_server: Any, warm_server: str) -> Iterator[Page]:
    """A fresh page with its own cookies, in a context that bypasses CSP so that axe-core
    can be injected. Fails the test on console errors, failed same-origin requests and pages
    visited without an axe check."""
    context, page = open_page(browser, live_server.url, bypass_csp=True)
    yield page
    context.close()
    problems = watch_of(page).problems()
    if problems:
        pytest.fail("The browser reported problems:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def strict_page(browser: Browser, live_server: Any, warm_server: str) -> Iterator[Page]:
    """A page that obeys the app's Content-Security-Policy (so axe-core cannot be injected).
    Fails the test on console errors (CSP violations among them) and failed requests."""
    context, page = open_page(browser, live_server.url, bypass_csp=False)
    yield page
    context.close()
    problems = watch_of(page).problems()
    if problems:
        pytest.fail("The browser reported problems:\n  " + "\n  ".join(problems), pytrace=False)
