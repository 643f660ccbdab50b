"""The ``pejling`` console script: Django's management commands plus ``serve``."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pejling.config.settings")
    if len(argv) > 1 and argv[1] == "serve":
        _serve(argv[2:])
        return
    if len(argv) > 1 and argv[1] == "bench":
        sys.exit(_bench(argv[2:]))
    from django.core.management import execute_from_command_line

    execute_from_command_line(["pejling", *argv[1:]])


def _serve(args: list[str]) -> None:
    """Run the production server (gunicorn) on the same WSGI app."""
    from gunicorn.app.wsgiapp import run

    bind = os.environ.get("PEJLING_BIND", "127.0.0.1:8000")
    workers = os.environ.get("PEJLING_WORKERS", "2")
    threads = os.environ.get("PEJLING_THREADS", "1")
    # A served process keeps its database connections (docs/operations.md): opening one per
    # request costs more than most pages.
    os.environ.setdefault("PEJLING_DB_CONN_MAX_AGE", "60")
    sys.argv = [
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        workers,
        "--threads",
        threads,
        "--config",
        "python:pejling.config.gunicorn",
        # No control socket: gunicorn would otherwise write one under $HOME (~/.gunicorn).
        "--no-control-socket",
        # Load (and warm up, config/wsgi.py) the application once in the master, then fork:
        # no worker pays for importing it at its first request, and they share its memory.
        "--preload",
        *args,
        "pejling.config.wsgi:application",
    ]
    run()


def _bench(args: list[str]) -> int:
    """``pejling bench --scale small|large [--json]``: the benchmark of a checkout (bench/)."""
    from pathlib import Path

    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "bench" / "scale.py").is_file():
        print("pejling bench runs from a checkout of Pejling (its bench/ folder).", file=sys.stderr)
        return 2
    sys.path.insert(0, str(checkout))
    from bench.__main__ import main as bench_main

    return bench_main(args)


if __name__ == "__main__":
    main()
