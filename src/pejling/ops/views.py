"""Health, readiness and metrics: for load balancers, orchestrators and Prometheus.

None needs a log-in, none is cached, none names a person. ``/metrics`` answers only to the
bearer token ``PEJLING_METRICS_TOKEN`` or to an address in ``PEJLING_METRICS_ALLOW``.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from pejling.core.security import client_ip
from pejling.ops import metrics
from pejling.ops.health import readiness


@login_not_required
@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The process answers. Touches nothing else (no database)."""
    return JsonResponse({"status": "alive", "time": timezone.now().isoformat()})


@login_not_required
@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Ready for traffic: database reachable and migrated, cache, worker heartbeat, disk."""
    checks = readiness()
    ok = all(c.ok for c in checks)
    response = JsonResponse(
        {
            "status": "ready" if ok else "not ready",
            "time": timezone.now().isoformat(),
            "checks": {c.name: {"ok": c.ok, "detail": c.detail, "ms": c.ms} for c in checks},
        },
        status=200 if ok else 503,
    )
    # "Not ready" is an answer, not an error: the request line says it, Django need not.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _allowed_address(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(client_ip(request) or "")
    except ValueError:
        return False
    for network in settings.PEJLING_METRICS_ALLOW:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def _has_token(request: HttpRequest) -> bool:
    expected = settings.PEJLING_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(expected) and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())


@login_not_required
@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not (_has_token(request) or _allowed_address(request)):
        # 403 for everyone else, signed in or not: metrics are for the monitoring system.
        return HttpResponse(
            "metrics need a token or an allowed address\n", status=403, content_type="text/plain"
        )
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)
