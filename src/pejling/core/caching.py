"""Caching headers that know no domain.

``PrivateByDefaultMiddleware``: an answer that sets no ``Cache-Control`` is marked
``private, no-cache``, so a page of a signed-in person is never kept by a shared cache (a
proxy, a CDN) and is revalidated by the browser. Only views that say so (the public site,
``publication``) answer ``public``; static files carry WhiteNoise's own header.

``conditional_public``: the headers and the conditional GET of a public answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date


class PrivateByDefaultMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_cache=True)
        return response


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
