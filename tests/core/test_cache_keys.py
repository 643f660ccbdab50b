"""Every key Pejling puts in Django's cache is one memcached takes: no spaces or control
characters, at most 250 characters (``core/caching.py: cache_key``). Django's own check
(``memcache_key_warnings``) finds nothing in them; the suite also makes its warning an error
(pyproject's ``filterwarnings``), so a key made another way fails where it is used."""

from __future__ import annotations

import warnings

import pytest
from django.core.cache import cache
from django.core.cache.backends.base import CacheKeyWarning, memcache_key_warnings
from django.test import RequestFactory

from pejling.api.auth import FixedWindowThrottle
from pejling.core import generation
from pejling.core.caching import cache_key

AWKWARD = ("a b", "tab\there", "nul\x00", "ünïcödé", "x" * 400, None, 2026)


def test_a_key_is_safe_for_memcached_whatever_its_parts_hold() -> None:
    key = cache_key("api:series", *AWKWARD)
    assert list(memcache_key_warnings(key)) == []
    assert len(key) < 250 and key.startswith("api:series:")
    # Different parts, different keys; the same parts, the same key.
    assert cache_key("api:series", *AWKWARD) == key
    assert cache_key("api:series", "a", "b") != cache_key("api:series", "a b")
    assert cache_key("api:series", None) != cache_key("api:series", "None")


@pytest.mark.django_db
def test_a_figure_cached_under_the_generation_has_a_memcached_key() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        assert generation.cached(("overview:dashboard", "/a path/", "x" * 300), lambda: 1) == 1
        assert generation.cached(("overview:dashboard", "/a path/", "x" * 300), lambda: 2) == 1


def test_the_rate_limit_of_a_caller_known_by_address_has_a_memcached_key() -> None:
    """Without a proxy count the address is the whole ``X-Forwarded-For``: the client's text."""
    request = RequestFactory().get("/api/v1/units", HTTP_X_FORWARDED_FOR="10.0.0.1, " * 40)
    cache.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        assert FixedWindowThrottle().allow_request(request)
    cache.clear()
