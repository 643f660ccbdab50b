"""Fixtures for the API tests: personal tokens and a client that sends them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache

from pejling.api.tokens import token_create
from tests.api.helpers import ApiClient


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counters() -> Iterator[None]:
    """Counters live in the cache, which outlives a test's database rollback."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(db: None) -> Callable[..., ApiClient]:
    """``api(user)`` → a client with a new read-and-write token of ``user``;
    ``api(user, scope="read")`` a read-only one; ``api()`` no token at all."""

    def make(user: Any = None, *, scope: str = "read_write", days: int = 30) -> ApiClient:
        if user is None:
            return ApiClient()
        new = token_create(user=user, name="test", scope=scope, expires_in_days=days)
        return ApiClient(new.secret)

    return make
