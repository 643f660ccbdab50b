"""The security settings: `check --deploy` is clean for a TLS installation, headers, and CSRF
on htmx requests."""

from __future__ import annotations

import io
import re
import runpy
import secrets
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

import pejling.config.settings as settings_module

# Deployment warnings we accept, each justified in docs/security.md.
JUSTIFIED = {
    # HSTS preload is opt-in (PEJLING_HSTS_PRELOAD): it binds the whole registrable domain.
    "security.W021",
}

SECURITY_SETTINGS = [
    "DEBUG",
    "SECRET_KEY",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE",
    "PEJLING_PROXY_COUNT",
    "MAILERS",
]


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """The settings module evaluated afresh with these environment variables."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    values = runpy.run_path(str(Path(settings_module.__file__)))
    return {name: values[name] for name in SECURITY_SETTINGS if name in values}


def test_check_deploy_is_clean_for_a_tls_installation(monkeypatch: pytest.MonkeyPatch) -> None:
    tls = settings_with(
        monkeypatch,
        PEJLING_TLS="true",
        PEJLING_SECRET_KEY=secrets.token_urlsafe(60),
        PEJLING_DEBUG="false",
        # mail.E001 (rightly) refuses the console e-mail backend in production.
        PEJLING_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    )
    assert tls["SECURE_SSL_REDIRECT"] is True
    assert tls["SECURE_HSTS_SECONDS"] >= 31536000
    assert tls["SESSION_COOKIE_SECURE"] and tls["CSRF_COOKIE_SECURE"]
    with override_settings(**tls):
        found = {m.id for m in checks.run_checks(include_deployment_checks=True)}
        assert found <= JUSTIFIED, found - JUSTIFIED
        out = io.StringIO()
        with override_settings(SILENCED_SYSTEM_CHECKS=sorted(JUSTIFIED)):
            call_command("check", deploy=True, fail_level="WARNING", stdout=out, stderr=out)
        assert "no issues" in out.getvalue()


def test_without_tls_the_deploy_check_asks_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = settings_with(monkeypatch, PEJLING_TLS="", PEJLING_SECRET_KEY=secrets.token_urlsafe(60))
    with override_settings(**plain):
        found = {m.id for m in checks.run_checks(include_deployment_checks=True)}
    assert {"security.W004", "security.W008", "security.W012"} <= found


def test_sessions_can_end_when_the_browser_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_with(monkeypatch)["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is False
    values = settings_with(monkeypatch, PEJLING_SESSION_EXPIRE_AT_BROWSER_CLOSE="true")
    assert values["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True


@pytest.mark.django_db
def test_pages_send_the_security_headers(client: Client, org: Any) -> None:
    client.force_login(org.head)
    response = client.get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_htmx_requests_carry_the_csrf_token_from_the_body(org: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.head)
    page = client.get(reverse("home")).content.decode()
    match = re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"([A-Za-z0-9]+)\"\}'>", page)
    assert match, "the body carries the CSRF token for htmx"
    # No inline script or event handler: the token is data, so the CSP is untouched.
    assert "<script>" not in page and " onclick=" not in page
    url = reverse("set_language")
    refused = client.post(url, {"language": "en"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    accepted = client.post(
        url, {"language": "en"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=match.group(1)
    )
    assert accepted.status_code in (200, 204, 302)


@pytest.mark.django_db
def test_html_in_user_text_is_escaped_everywhere_it_is_shown(client: Client, org, cascade) -> None:
    """Comments have their own test (tests/followup/test_comments.py); titles and summaries too."""
    from tests.factories import AgreementFactory

    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    cascade.group.title = evil
    cascade.group.save()
    AgreementFactory(unit=org.unit, year=2026, summary=evil)
    client.force_login(org.head)
    for url in (
        reverse("strategy:strategy_detail", args=[cascade.group.code]),
        reverse("agreements:agreement_detail", args=[org.unit.code, 2026]),
    ):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url
