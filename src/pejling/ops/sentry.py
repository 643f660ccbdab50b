"""Optional error reports to a Sentry-compatible service (sentry-sdk), by ``PEJLING_SENTRY_DSN``.

Off unless the DSN is set. Reports never carry personal data: ``send_default_pii`` is off (no
user names, e-mail addresses, cookies or IP addresses), and ``scrub_event`` takes out what the
SDK would still send — request bodies, query strings, cookies and headers other than a few
harmless ones, local variables' values that name secrets, the user beyond its id — and runs the
log redaction (``pejling.ops.logs.redact``) over every remaining string.
"""

from __future__ import annotations

from typing import Any

from pejling.ops.logs import REDACTED, redact_value

_KEPT_HEADERS = {
    "accept",
    "accept-language",
    "content-type",
    "content-length",
    "user-agent",
    "x-request-id",
}


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's ``before_send``: the event without personal data or secrets."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            if key in request:
                request[key] = REDACTED
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                k: (v if k.lower() in _KEPT_HEADERS else REDACTED) for k, v in headers.items()
            }
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    scrubbed = redact_value(event)
    assert isinstance(scrubbed, dict)
    return scrubbed


def init_sentry(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        before_send=scrub_event,  # type: ignore[arg-type]
        integrations=[DjangoIntegration()],
    )
