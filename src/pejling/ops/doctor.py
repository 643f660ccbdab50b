"""What an operator needs to know about an installation, as (section, label, state, detail) rows:
version, database and its size, pending migrations, worker heartbeat and jobs, and each
configured integration (single sign-on, OS2mo, statistics sources, e-mail, cache, error reports)
with whether it answers. Each probe has a short timeout and no probe raises."""

from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from pejling.ops import health
from pejling.ops.models import WorkerHeartbeat
from pejling.ops.version import app_version

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"


@dataclass(frozen=True)
class Line:
    label: str
    state: str
    detail: str


def probe_url(url: str, timeout: float) -> tuple[str, str]:
    """Whether something answers at ``url`` (any HTTP status counts as an answer)."""
    if not url.startswith(("http://", "https://")):
        return FAIL, "not an http(s) address"
    request = urllib.request.Request(url, headers={"User-Agent": "pejling-doctor"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return OK, f"answers ({response.status})"
    except urllib.error.HTTPError as error:
        return (OK if error.code < 500 else FAIL), f"answers ({error.code})"
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return FAIL, f"does not answer ({type(reason).__name__}: {reason})"[:200]


def probe_tcp(host: str, port: int, timeout: float) -> tuple[str, str]:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return OK, f"{host}:{port} answers"
    except OSError as error:
        return FAIL, f"{host}:{port} does not answer ({type(error).__name__})"


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def database_lines() -> Iterator[Line]:
    ok, detail = health.check_database()
    if not ok:
        yield Line("database", FAIL, detail)
        return
    name = settings.DATABASES["default"]["NAME"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT version(), pg_database_size(current_database())")
            server, size = cursor.fetchone()
        host = settings.DATABASES["default"].get("HOST") or "local socket"
        yield Line("database", OK, f"PostgreSQL {name} on {host} ({server.split(',')[0]})")
    else:
        size = Path(name).stat().st_size if Path(name).exists() else 0
        yield Line("database", WARN, f"SQLite {name} (fine for trying out; use PostgreSQL)")
    yield Line("database size", INFO, _human_size(int(size)))
    pending = health.pending_migrations()
    if pending:
        yield Line("migrations", FAIL, f"{len(pending)} not applied: " + ", ".join(pending[:5]))
    else:
        yield Line("migrations", OK, "all applied")


def worker_lines() -> Iterator[Line]:
    from django_tasks_db.models import DBTaskResult

    if not health.worker_required():
        yield Line("worker", INFO, f"jobs run by {settings.TASKS['default']['BACKEND']}")
        return
    ok, detail = health.check_worker()
    yield Line("worker heartbeat", OK if ok else FAIL, detail)
    for beat in WorkerHeartbeat.objects.order_by("-seen_at")[:5]:
        age = int((timezone.now() - beat.seen_at).total_seconds())
        yield Line("  worker", INFO, f"{beat.host} pid {beat.pid}, seen {age} s ago")
    counts = dict(
        DBTaskResult.objects.values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    yield Line(
        "jobs",
        WARN if counts.get("FAILED") else INFO,
        ", ".join(f"{k.lower()} {v}" for k, v in sorted(counts.items())) or "none yet",
    )


def integration_lines(timeout: float, probe: bool) -> Iterator[Line]:
    def check(
        label: str, configured: bool, target: str, run: Callable[[], tuple[str, str]]
    ) -> Line:
        if not configured:
            return Line(label, INFO, "not configured")
        if not probe:
            return Line(label, INFO, f"{target} (not probed)")
        state, detail = run()
        return Line(label, state, f"{target}: {detail}")

    oidc = settings.PEJLING_OIDC
    discovery = f"{oidc['issuer']}/.well-known/openid-configuration"
    yield check(
        "SSO OpenID Connect",
        bool(oidc["enabled"]),
        str(oidc["issuer"]),
        lambda: probe_url(discovery, timeout),
    )
    metadata = os.environ.get("PEJLING_SAML_IDP_METADATA", "")

    def saml_run() -> tuple[str, str]:
        if metadata.startswith(("http://", "https://")):
            return probe_url(metadata, timeout)
        return (OK, "file found") if Path(metadata).exists() else (FAIL, "file missing")

    yield check("SSO SAML", bool(settings.PEJLING_SAML["enabled"]), metadata, saml_run)
    os2mo = settings.PEJLING_OS2MO_URL
    yield check("OS2mo", bool(os2mo), os2mo, lambda: probe_url(os2mo, timeout))
    for label, url in (
        ("Kolada", settings.PEJLING_KOLADA_URL),
        ("Statbank (DST)", settings.PEJLING_STATBANK_URL),
        ("SSB", settings.PEJLING_SSB_URL),
    ):
        yield check(label, bool(url), url, _prober(url, timeout))
    backend = str(settings.MAILERS["default"]["BACKEND"])
    if "smtp" in backend:
        options: Any = settings.MAILERS["default"].get("OPTIONS") or {}
        host, port = str(options.get("host", "localhost")), int(options.get("port", 25))
        yield check("e-mail", True, f"SMTP {host}:{port}", lambda: probe_tcp(host, port, timeout))
    else:
        yield Line(
            "e-mail", WARN if "console" in backend else INFO, ".".join(backend.split(".")[-2:])
        )
    cache_url = settings.PEJLING_CACHE_URL
    if cache_url:
        parts = urlsplit(cache_url)
        yield check(
            "cache (Redis)",
            True,
            f"{parts.hostname}:{parts.port or 6379}",
            lambda: health_to_state(health.check_cache()),
        )
    else:
        yield Line("cache", INFO, "in-process (set PEJLING_CACHE_URL for several servers)")
    dsn = settings.PEJLING_SENTRY_DSN
    yield Line("error reports", INFO, f"to {urlsplit(dsn).hostname}" if dsn else "off")


def _prober(url: str, timeout: float) -> Callable[[], tuple[str, str]]:
    return lambda: probe_url(url, timeout)


def health_to_state(result: tuple[bool, str]) -> tuple[str, str]:
    return (OK if result[0] else FAIL), result[1]


def sections(
    *, timeout: float = 3.0, probe: bool = True
) -> Iterator[tuple[str, Callable[[], Iterator[Line]]]]:
    yield (
        "Pejling",
        lambda: iter(
            [
                Line("version", INFO, app_version()),
                Line("debug", FAIL if settings.DEBUG else OK, "on" if settings.DEBUG else "off"),
            ]
        ),
    )
    yield "Database", database_lines
    yield "Background jobs", worker_lines
    yield "Integrations", lambda: integration_lines(timeout, probe)
    yield "Disk", lambda: iter([Line("data directory", *health_to_state(health.check_disk()))])
