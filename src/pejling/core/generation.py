"""The data generation: one number, raised by every write that changes figures kept in the
cache under it (the executive dashboard's, ``followup/figures.py``; a unit page's,
``organisation/views.py``). A cached figure carries the
generation in its key, so a write makes every server process stop reading the old figure at
once; nothing is deleted, old entries expire.

Where it lives: one row in the database (``core.DataGeneration``), read in one query. It is
raised after the writing transaction commits, in a statement of its own (raising it inside the
transaction would lock the row until the commit and make every other writer wait for, say, a
long import). Why that is enough: a reader reads the generation first and the data after it; a
write's data are visible before its raise, so a figure cached under generation *g* was computed
from data at least as new as every write whose raise led to *g*. A process whose transaction
holds writes not yet raised (not committed) reads and caches under a key of its own (a random
token of the process and a counter raised by every write, ``_local``): it sees its own writes
before the commit (and tests, whose transactions never commit, see every write), and what it
computed from them, which may yet be rolled back, is never read by another process from a
shared cache. A database made anew starts its generation at the clock's microseconds, not at 1,
so figures kept in a cache that outlived the old database (files in the data directory) are
never read as the new one's.

Who raises it: ``watch(model)`` raises it on every save and delete of the model (and its
many-to-many changes); writes that send no signals (``QuerySet.update``, ``bulk_create``,
``COPY``) call ``bump()`` themselves. The apps whose figures are cached say which models they
read (``followup/apps.py``: the dashboard's figures; ``organisation/apps.py``: the unit page, which
also shows people's names, so a save that may change a name raises it too). A crash between a commit and its raise would leave a figure stale:
cached figures also expire (``TIMEOUT``).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, cast

from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from pejling.core.caching import cache_key
from pejling.core.models import DataGeneration

# Cached figures expire after this many seconds even without a write (see above).
TIMEOUT = 600

_lock = threading.Lock()
_local = 0


# Within a request the database's generation is read once (``current``): the page's figures
# are then as new as the request's start. A write of the request's own forgets it (``bump``,
# ``_raise_stored``), so what the request shows after its write is read under the new one.
_request_memo: ContextVar[dict[str, int | None] | None] = ContextVar(
    "pejling_generation", default=None
)


def _request_began(**_kwargs: Any) -> None:
    _request_memo.set({})


def _request_ended(**_kwargs: Any) -> None:
    _request_memo.set(None)


request_started.connect(_request_began, dispatch_uid="core.generation.request_started")
request_finished.connect(_request_ended, dispatch_uid="core.generation.request_finished")


def _forget() -> None:
    memo = _request_memo.get()
    if memo:
        memo.clear()


def current(using: str = DEFAULT_DB_ALIAS) -> str:
    """The generation as a cache key's part: the database's, and this process's own while its
    transaction holds writes not yet raised. One query, once per request."""
    memo = _request_memo.get()
    if memo is not None and using in memo:
        value = memo[using]
    else:
        value = (
            DataGeneration.objects.using(using).filter(pk=1).values_list("value", flat=True).first()
        )
        if memo is not None:
            memo[using] = value
    if _pending(connections[using]):
        return f"{value or 0}.{_process_token()}.{_local}"
    return str(value or 0)


def _pending(connection: Any) -> bool:
    return bool(connection.in_atomic_block) and any(
        entry[1] is _raise_stored for entry in connection.run_on_commit
    )


_token: tuple[int, str] = (0, "")


def _process_token() -> str:
    """Random, and made again in a forked child (the server's workers fork from one master)."""
    global _token
    pid = os.getpid()
    if _token[0] != pid:
        _token = (pid, secrets.token_hex(8))
    return _token[1]


def _raise_stored() -> None:
    _forget()
    if not DataGeneration.objects.filter(pk=1).update(value=F("value") + 1):
        # No row yet (a new or emptied database): made at the clock's microseconds (see above),
        # or by another writer just now.
        DataGeneration.objects.bulk_create(
            [DataGeneration(pk=1, value=time.time_ns() // 1000)], ignore_conflicts=True
        )


def bump(using: str = DEFAULT_DB_ALIAS) -> None:
    """A write changed cached figures: this process stops reading them now, every process once
    the write commits (once per transaction, however many writes it holds)."""
    global _local
    with _lock:
        _local += 1
    _forget()
    connection = connections[using]
    if not connection.in_atomic_block:
        _raise_stored()
        return
    # One raise per transaction: a callback already waiting (and not undone with a savepoint
    # rolled back, which removes it from this list) raises it for this write too.
    if not _pending(connection):
        connection.on_commit(_raise_stored)


def _on_write(sender: Any, using: str = DEFAULT_DB_ALIAS, **_kwargs: Any) -> None:
    bump(using)


def watch(model: type[Model], fields: Iterable[str] | None = None) -> None:
    """Raise the generation on every save and delete of ``model`` and its many-to-many changes;
    with ``fields``, on a save only when it may change one of them (a save of named other fields,
    such as a log-in's ``save(update_fields=["last_login"])``, raises nothing)."""
    uid = f"core.generation.{model._meta.label}"
    if fields is None:
        post_save.connect(_on_write, sender=model, dispatch_uid=uid)
    else:
        shown = frozenset(fields)

        def on_save(
            sender: Any, using: str = DEFAULT_DB_ALIAS, update_fields: Any = None, **_kw: Any
        ) -> None:
            if update_fields is None or shown & set(update_fields):
                bump(using)

        post_save.connect(on_save, sender=model, dispatch_uid=uid, weak=False)
    post_delete.connect(_on_write, sender=model, dispatch_uid=uid)
    for field in model._meta.local_many_to_many:
        through = field.remote_field.through
        m2m_changed.connect(_on_write, sender=through, dispatch_uid=f"{uid}.{field.name}")


def cached[T](parts: Iterable[object], compute: Callable[[], T]) -> T:
    """``compute()``, kept in the shared cache under ``parts`` (everything the answer depends
    on besides the data: the year, the day, the language, the reader's rights…) and the
    current generation; computed again after any watched write."""
    key = cache_key("generation", *parts, current())
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = compute()
        cache.set(key, found, TIMEOUT)
    return cast(T, found)


_MISSING = object()
