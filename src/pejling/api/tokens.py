"""Creating, revoking and checking personal API tokens.

A token is ``pjl_`` followed by 43 random URL-safe characters (256 bits). Only its SHA-256
hash is stored, so a database leak does not leak usable tokens; the secret is shown once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from pejling.api.models import ApiToken, TokenScope
from pejling.core.history import save_as

PREFIX = "pjl_"
MAX_EXPIRY_DAYS = 366
# Writing last_used_at on every request would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown to its owner once, never stored


def token_create(*, user: Any, name: str, scope: str, expires_in_days: int) -> NewToken:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        raise PermissionDenied
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Give the token a name.")
    if scope not in TokenScope.values:
        errors["scope"] = _("Choose read only or read and write.")
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        errors["expires_in_days"] = _("A token lasts between 1 and %(max)s days.") % {
            "max": MAX_EXPIRY_DAYS
        }
    if errors:
        raise ValidationError(errors)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name[:100],
        prefix=secret[:10],
        key_hash=hash_secret(secret),
        scope=scope,
        expires_at=timezone.now() + timedelta(days=expires_in_days),
    )
    save_as(token, user, reason="token created")
    return NewToken(token, secret)


def token_revoke(*, token: ApiToken, by: Any) -> ApiToken:
    """Revoke a token; only its owner can. Revoking twice keeps the first time."""
    if token.user_id != getattr(by, "pk", None):
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        save_as(token, by, reason="token revoked", update_fields=["revoked_at"])
    return token


class TokenProblem(Exception):
    """The presented token is unknown, expired, revoked or its owner cannot sign in."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def token_check(secret: str) -> ApiToken:
    """The active token with this secret (and its owner), or ``TokenProblem``."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise TokenProblem("invalid_token")
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_secret(secret)).first()
    if token is None or not token.user.is_active:
        raise TokenProblem("invalid_token")
    if token.revoked_at is not None:
        raise TokenProblem("token_revoked")
    now = timezone.now()
    if token.expires_at <= now:
        raise TokenProblem("token_expired")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
