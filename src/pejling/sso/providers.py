"""The identity providers offered on the log-in page, as configured in the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    login_url: str


# (key, settings name, URL name of the view that starts the sign-in, default label)
_PROTOCOLS = (
    ("oidc", "PEJLING_OIDC", "oidc_authentication_init", "OpenID Connect"),
    ("saml", "PEJLING_SAML", "saml2_login", "SAML"),
)


def providers() -> list[Provider]:
    found = []
    for key, setting, url_name, default_name in _PROTOCOLS:
        config: dict[str, Any] = getattr(settings, setting, None) or {}
        if not config.get("enabled"):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        found.append(Provider(key=key, name=str(config.get("name") or default_name), login_url=url))
    return found
