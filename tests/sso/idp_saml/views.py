"""The test IdP's own views: the signed-request check, and the harness endpoint."""

from __future__ import annotations

import hmac
import json
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from djangosaml2idp.idp import IDP
from djangosaml2idp.models import ServiceProvider
from djangosaml2idp.views import sso_entry
from saml2 import BINDING_HTTP_REDIRECT
from saml2.sigver import verify_redirect_signature


@require_GET
def sso_redirect(request: HttpRequest) -> HttpResponse:
    """HTTP-Redirect binding: refuse an AuthnRequest unless its query-string signature verifies
    against a signing certificate in the registered SP's metadata, then go on as usual."""
    saml_request = request.GET.get("SAMLRequest")
    sigalg = request.GET.get("SigAlg")
    signature = request.GET.get("Signature")
    if not (saml_request and sigalg and signature):
        return HttpResponseBadRequest("unsigned AuthnRequest refused", content_type="text/plain")
    server = IDP.load()
    try:
        parsed = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
        issuer = parsed.message.issuer.text
        certs = server.metadata.certs(issuer, "any", "signing")
    except Exception as error:  # unknown SP, malformed request
        return HttpResponseBadRequest(f"bad AuthnRequest: {error}", content_type="text/plain")
    message = {"SAMLRequest": saml_request, "SigAlg": sigalg, "Signature": signature}
    if "RelayState" in request.GET:
        message["RelayState"] = request.GET["RelayState"]
    if not any(
        verify_redirect_signature(message, server.sec.sec_backend, cert) for _, cert in certs
    ):
        return HttpResponseBadRequest("AuthnRequest signature invalid", content_type="text/plain")
    return sso_entry(request)


def _authorised(request: HttpRequest) -> bool:
    given = request.headers.get("X-Harness-Token", "")
    return hmac.compare_digest(given, settings.IDP_HARNESS_TOKEN)


@csrf_exempt
@require_POST
def harness_person(request: HttpRequest) -> HttpResponse:
    """Create or update a person of the IdP, with their groups (replacing the old ones)."""
    if not _authorised(request):
        return HttpResponse(status=403)
    data: dict[str, Any] = json.loads(request.body)
    user, _ = get_user_model().objects.get_or_create(username=data["username"])
    for field in ("first_name", "last_name", "email"):
        setattr(user, field, data.get(field, ""))
    user.set_password(data["password"])
    user.save()
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in data.get("groups", [])])
    return JsonResponse({"id": user.pk})


@csrf_exempt
@require_POST
def harness_service_provider(request: HttpRequest) -> HttpResponse:
    """Register (or update) an SP from its metadata, with the attributes to release."""
    if not _authorised(request):
        return HttpResponse(status=403)
    data: dict[str, Any] = json.loads(request.body)
    sp = ServiceProvider.objects.filter(entity_id=data["entity_id"]).first() or ServiceProvider(
        entity_id=data["entity_id"]
    )
    sp.local_metadata = data["metadata"]
    sp.metadata_expiration_dt = None
    sp._attribute_mapping = json.dumps(data["attribute_mapping"])
    sp.active = True
    # Explicit: djangosaml2idp's defaults read attributes pysaml2's config does not have.
    sp._sign_assertion = bool(data.get("sign_assertion", True))
    sp._sign_response = True
    sp.save()
    return JsonResponse({"id": sp.pk})
