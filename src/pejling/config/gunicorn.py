"""Gunicorn settings of ``pejling serve`` (``--config python:pejling.config.gunicorn``).

The application is loaded and warmed up in the master before the workers fork (``--preload``,
``config/wsgi.py``). Each worker then opens its database connection as it starts and runs the
queries nearly every request makes once (:func:`post_worker_init`, ``config/wsgi.py:
warm_database``), so its first request costs what any other does; connections are kept
(``PEJLING_DB_CONN_MAX_AGE``, 60 s by default under ``pejling serve``) and checked before
reuse, rather than opened for every request.
"""

from __future__ import annotations

import gc
import logging
from contextlib import suppress
from typing import Any


def when_ready(_server: Any) -> None:
    """The master, the application loaded and warmed up, before it forks its workers: every
    object it made so far is moved out of the garbage collector's reach (``gc.freeze``).
    Otherwise a worker's first full collection walks them all, writing to each object's
    page and so copying the master's memory into the worker, in the middle of a request."""
    gc.collect()
    gc.freeze()


def post_worker_init(_worker: Any) -> None:
    from django.db import DatabaseError, connections

    # The master never opened one (config/wsgi.py warms up without the database); a worker
    # connects now, not at its first request. A database that is down is not fatal here: the
    # first request connects (and reports) as it would have.
    for connection in connections.all(initialized_only=False):
        with suppress(DatabaseError):
            connection.ensure_connection()
    # Then runs the queries nearly every request makes, once, on that connection. A warm-up
    # that fails costs the first request its time, never the worker.
    from pejling.config.wsgi import warm_database

    try:
        warm_database()
    except Exception:  # any failure: the first request meets it and reports it
        logging.getLogger("pejling").warning("The worker's warm-up failed", exc_info=True)
