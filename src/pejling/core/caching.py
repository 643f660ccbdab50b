"""Caching that knows no domain.

``conditional_public``: the headers and the conditional GET of a public answer (the public
site, ``publication``). Every other answer is kept by no cache:
``core/security.py: PrivateCacheMiddleware`` marks it ``private, no-store``.

``cache_key``: the one way a key for Django's cache is made, safe for every backend.
"""

from __future__ import annotations

import hashlib
import json
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


def cache_key(name: str, *parts: object) -> str:
    """A key for Django's cache: ``name`` (a fixed ASCII name such as ``"api:series"``) and a
    digest of ``parts`` (everything the entry depends on). Whatever the parts hold (spaces,
    control characters, any length, text from a request) the key is short, printable ASCII
    without spaces: memcached takes it as well as Redis and the in-process cache do."""
    text = json.dumps(parts, default=str, ensure_ascii=False)  # None stays apart from "None"
    return f"{name}:{hashlib.sha256(text.encode()).hexdigest()}"
