"""The demo organisation for the test modules that need it, loaded once per test process: see
the ``demo_snapshot`` fixture in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction
from e2e.database import restore_snapshot

# The snapshots' names (e2e/database.py): the demo's rows, and the database as it was before.
DEMO_SNAPSHOT = "demo_snapshot"
BASE_SNAPSHOT = "base_snapshot"


@contextmanager
def demo_restored() -> Iterator[None]:
    """The demo's rows (see ``demo_snapshot``) inside a transaction rolled back at the end:
    for a module-scoped fixture, whose tests then run in savepoints within it as usual."""
    try:
        with transaction.atomic():
            restore_snapshot(connections["default"], DEMO_SNAPSHOT)
            ContentType.objects.clear_cache()
            yield
            transaction.set_rollback(True)
    finally:
        ContentType.objects.clear_cache()
