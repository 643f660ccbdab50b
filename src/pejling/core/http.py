from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (for type checking)."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HttpRequest):
    """A request of a signed-in person (LoginRequiredMiddleware guarantees it for type checking)."""

    user: User
