"""The cache in the data directory (``core/file_cache.py``): shared by the processes of one
machine through its files; it counts its files at most once every ``CULL_SECONDS``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pejling.core import file_cache
from pejling.core.file_cache import DataDirCache


def test_two_caches_on_one_directory_share_their_entries(tmp_path: Path) -> None:
    a = DataDirCache(str(tmp_path), {})
    b = DataDirCache(str(tmp_path), {})  # as another process opens it
    a.set("series", {"points": [1, 2, 3]}, 60)
    assert b.get("series") == {"points": [1, 2, 3]}
    b.delete("series")
    assert a.get("series") is None


def test_it_counts_its_files_at_most_once_in_a_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = DataDirCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2}})
    clock = [1000.0]
    monkeypatch.setattr(file_cache.time, "monotonic", lambda: clock[0])
    for n in range(30):
        cache.set(f"k{n}", n, 600)
    assert len(list(tmp_path.glob("*.djcache"))) == 30  # no count yet: a few more than 10
    clock[0] += file_cache.CULL_SECONDS + 1
    cache.set("one-more", 1, 600)  # counted now: over MAX_ENTRIES, culled
    assert len(list(tmp_path.glob("*.djcache"))) < 30
