"""The test identity provider's own parts: which claims it sends, and the harness endpoints
through which the tests tell it about people and clients.

The claims of each person are exactly what a test asked for (``POST /harness/users``), so a
test can leave out the user name claim, send groups or not, or have the provider issue an ID
token for another audience, as a misconfigured or hostile provider would. They live in this
process's memory: the provider runs as one gunicorn worker.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from jwcrypto import jwk
from oauth2_provider.models import Application
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings

_CLAIMS: dict[str, dict[str, Any]] = {}
_LOCK = threading.Lock()


class ClaimsValidator(OAuth2Validator):
    # Send every claim the harness was given, whatever the scopes (groups have no scope).
    oidc_claim_scope = None

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        with _LOCK:
            return dict(_CLAIMS.get(request.user.username, {}))


def _allowed(request: HttpRequest) -> bool:
    given = request.headers.get("X-Harness-Token", "")
    return secrets.compare_digest(given, os.environ["IDP_HARNESS_TOKEN"])


@csrf_exempt
def harness_user(request: HttpRequest) -> HttpResponse:
    """Create or update a person: ``{"username", "password", "claims": {...}}``."""
    if request.method != "POST" or not _allowed(request):
        return HttpResponse(status=403)
    data = json.loads(request.body)
    user, _created = User.objects.get_or_create(username=data["username"])
    user.set_password(data["password"])
    user.save()
    with _LOCK:
        _CLAIMS[user.username] = dict(data.get("claims", {}))
    return JsonResponse({"sub": str(user.pk)})


@csrf_exempt
def harness_client(request: HttpRequest) -> HttpResponse:
    """Create or update a confidential client using the authorization code flow:
    ``{"client_id", "client_secret", "redirect_uri", "algorithm"}``."""
    if request.method != "POST" or not _allowed(request):
        return HttpResponse(status=403)
    data = json.loads(request.body)
    algorithm = data.get("algorithm", Application.RS256_ALGORITHM)
    Application.objects.filter(client_id=data["client_id"]).delete()
    Application.objects.create(
        name=data["client_id"],
        client_id=data["client_id"],
        client_secret=data["client_secret"],
        # An HS256 client signs with its secret, which must then be kept in clear.
        hash_client_secret=algorithm != Application.HS256_ALGORITHM,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=data["redirect_uri"],
        algorithm=algorithm,
        skip_authorization=True,
    )
    return JsonResponse({"client_id": data["client_id"]})


_OTHER_KEY: list[jwk.JWK] = []


def wrong_jwks(request: HttpRequest) -> HttpResponse:
    """A key set with another RSA key under the signing key's key id: what a client that
    really checks signatures must refuse tokens against."""
    with _LOCK:
        if not _OTHER_KEY:
            _OTHER_KEY.append(jwk.JWK.generate(kty="RSA", size=2048))
    real = jwk.JWK.from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY.encode())
    public = _OTHER_KEY[0].export_public(as_dict=True)
    public.update({"kid": real.thumbprint(), "alg": "RS256", "use": "sig"})
    return JsonResponse({"keys": [public]})
