"""Fixtures for the organisation sync tests: OS2mo served over HTTP from its recordings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.organisation.fake_os2mo import FakeOS2mo, capture


def serve(name: str, **kwargs: Any) -> Iterator[FakeOS2mo]:
    server = FakeOS2mo(capture(name), **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kolding() -> Iterator[FakeOS2mo]:
    """OS2mo 66.1.2 (keyset cursors) serving the Kolding Kommune sample: 84 units, 4 pages of 25."""
    yield from serve("os2mo-66.1.2/kolding_org_units_v29_paged.json")


@pytest.fixture
def kolding_57() -> Iterator[FakeOS2mo]:
    """OS2mo 57.0.0 (offset cursors) serving the same units: 4 full pages and an empty one."""
    yield from serve("os2mo-57.0.0/kolding_org_units_v29_paged.json")


@pytest.fixture
def sample_org() -> Iterator[FakeOS2mo]:
    """OS2mo 66.1.2 serving its test-suite organisation (hierarchy labels), pages of 3."""
    yield from serve("os2mo-66.1.2/au_org_units_v29_deprecated_fields_paged.json")
