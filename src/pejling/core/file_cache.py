"""The cache every server process of one machine shares when no Redis is configured: Django's
file cache under the data directory (``PEJLING_CACHE_URL`` empty, ``config/settings.py``).

Files, not each process's memory, because a figure computed by one worker then serves the
others, and a restarted server answers from what it computed before: its first request costs
what any other does. Entries are keyed by the data generation kept in the database
(``core/generation.py``) or by their own content, so an old file is never read as new.

One change to Django's backend: it counts its files (lists the directory) before every write to
keep to ``MAX_ENTRIES``, which costs milliseconds at a few thousand files, on every API call
(its rate-limit counter is written each time). This one counts at most once every
``CULL_SECONDS`` in each process (the first time that long after its first write); between
counts the directory may hold a few more files than ``MAX_ENTRIES``, each expiring on its own.
"""

from __future__ import annotations

import time

from django.core.cache.backends.filebased import FileBasedCache

CULL_SECONDS = 30.0

_next_cull: dict[str, float] = {}


class DataDirCache(FileBasedCache):
    def _cull(self) -> None:
        directory: str = self._dir  # type: ignore[attr-defined]
        now = time.monotonic()
        if now < _next_cull.setdefault(directory, now + CULL_SECONDS):
            return
        _next_cull[directory] = now + CULL_SECONDS
        super()._cull()  # type: ignore[misc]
