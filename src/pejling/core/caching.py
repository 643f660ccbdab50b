"""Caching headers that know no domain.

``conditional_public``: the headers and the conditional GET of a public answer (the public
site, ``publication``). Every other answer is kept by no cache:
``core/security.py: PrivateCacheMiddleware`` marks it ``private, no-store``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date


def conditional_public(
    request: HttpRequest, response: HttpResponse, *, last_modified: datetime, max_age: int
) -> HttpResponse:
    """Mark ``response`` public for ``max_age`` seconds with a strong ETag (a hash of its
    body) and ``Last-Modified``; answer 304 when the request's validators still match."""
    body = response.content
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    timestamp = int(last_modified.timestamp())
    conditional = get_conditional_response(
        request, etag=etag, last_modified=timestamp, response=response
    )
    if conditional is not None and conditional is not response:
        response = conditional
    response["ETag"] = etag
    response["Last-Modified"] = http_date(timestamp)
    patch_cache_control(response, public=True, max_age=max_age)
    return response
