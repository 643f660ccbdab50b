"""Gunicorn settings of ``pejling serve`` (``--config python:pejling.config.gunicorn``).

The application is loaded and warmed up in the master before the workers fork (``--preload``,
``config/wsgi.py``). Each worker then opens its database connection as it starts
(:func:`post_fork`), so its first request costs what any other does; connections are kept
(``PEJLING_DB_CONN_MAX_AGE``, 60 s by default under ``pejling serve``) and checked before
reuse, rather than opened for every request.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any


def post_fork(_server: Any, _worker: Any) -> None:
    from django.db import DatabaseError, connections

    # The master never opened one (config/wsgi.py warms up without the database); a worker
    # connects now, not at its first request. A database that is down is not fatal here: the
    # first request connects (and reports) as it would have.
    for connection in connections.all(initialized_only=False):
        with suppress(DatabaseError):
            connection.ensure_connection()
