"""A server worker's start (``config/gunicorn.py``, ``config/wsgi.py``): the master warms the
application up and freezes its objects before forking; each worker connects and runs the
queries nearly every request makes, and one liveness check through every middleware, before
its first request. None of it writes, logs a request line or may stop a worker."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.db import connection

from pejling.api.models import ApiToken
from pejling.config import gunicorn, wsgi
from pejling.core.models import DataGeneration


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.mark.django_db(transaction=True)  # the test closes the connection, as a fork starts
def test_a_worker_connects_and_warms_up_without_writing_or_logging_a_request(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (Session.objects.count(), ApiToken.objects.count(), DataGeneration.objects.count())
    # Connections kept between requests, as under `pejling serve` (PEJLING_DB_CONN_MAX_AGE).
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()
    with caplog.at_level(logging.INFO):
        gunicorn.post_worker_init(None)
    assert connection.connection is not None  # connected before the first request
    assert not [r for r in caplog.records if r.name == "pejling.request"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    after = (Session.objects.count(), ApiToken.objects.count(), DataGeneration.objects.count())
    assert after == before


@pytest.mark.django_db
def test_a_failing_warm_up_is_reported_and_leaves_the_worker_running(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("warm-up broke")

    monkeypatch.setattr(wsgi, "warm_database", broken)
    with caplog.at_level(logging.WARNING):
        gunicorn.post_worker_init(None)  # does not raise
    assert any("warm-up failed" in r.getMessage() for r in caplog.records)


def test_the_master_freezes_what_it_loaded_before_forking(unfrozen: None) -> None:
    gc.unfreeze()
    gunicorn.when_ready(None)
    assert gc.get_freeze_count() > 0


def test_the_warm_up_compiles_every_url_pattern_in_every_language() -> None:
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils import translation

    wsgi.warm_up()
    resolver = get_resolver()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            assert code in resolver._reverse_dict  # filled per language, not at a request
    languages = {code for code, _name in settings.LANGUAGES}
    compiled: list[bool] = []

    def walk(patterns: list[object]) -> None:
        for entry in patterns:
            pattern = entry.pattern  # type: ignore[attr-defined]
            if hasattr(pattern, "_regex"):  # compiled lazily: once, or once per language
                compiled.append(
                    "regex" in pattern.__dict__ or languages <= set(pattern._regex_dict)
                )
            if hasattr(entry, "url_patterns"):
                walk(entry.url_patterns)

    walk(resolver.url_patterns)
    assert len(compiled) > 100 and all(compiled)


def test_the_cache_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Empty: the data directory's files; locmem:// and redis:// as named; anything else is
    refused with a message naming the setting."""
    import runpy

    from django.core.exceptions import ImproperlyConfigured

    import pejling.config.settings as settings_module

    def caches(url: str) -> dict[str, object]:
        monkeypatch.setenv("PEJLING_CACHE_URL", url)
        monkeypatch.setenv("PEJLING_DATA_DIR", str(tmp_path))
        return runpy.run_path(str(Path(settings_module.__file__)))["CACHES"]["default"]

    files = caches("")
    assert files["BACKEND"] == "pejling.core.file_cache.DataDirCache"
    assert files["LOCATION"] == str(tmp_path / "cache")
    assert caches("locmem://")["BACKEND"].endswith("LocMemCache")
    assert caches("redis://127.0.0.1:6379/0")["BACKEND"].endswith("RedisCache")
    with pytest.raises(ImproperlyConfigured, match="PEJLING_CACHE_URL"):
        caches("memcached://127.0.0.1")


def test_the_api_rate_limit_is_set_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Documented as PEJLING_API_RATE_LIMIT (docs/operations.md); it was read by nothing."""
    import runpy

    import pejling.config.settings as settings_module

    monkeypatch.setenv("PEJLING_API_RATE_LIMIT", "1234")
    assert runpy.run_path(str(Path(settings_module.__file__)))["PEJLING_API_RATE_LIMIT"] == 1234
    monkeypatch.delenv("PEJLING_API_RATE_LIMIT")
    assert runpy.run_path(str(Path(settings_module.__file__)))["PEJLING_API_RATE_LIMIT"] == 600
