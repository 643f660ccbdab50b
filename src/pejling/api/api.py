"""The NinjaAPI behind ``/api/v1/``: routers, authentication, rate limit, error handlers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, reverse
from ninja import NinjaAPI

from pejling.api.auth import BrowserSession, FixedWindowThrottle, TokenAuth
from pejling.api.docs import docs_page
from pejling.api.endpoints import agreements, audit, followup, indicators, organisation, strategy
from pejling.api.errors import register_error_handlers

DESCRIPTION = """\
Everything in Pejling, scriptable. Authenticate with a personal API token
(`Authorization: Bearer <token>`, made on the API tokens page) or, from the browser, with
your session (unsafe methods then need Django's CSRF token). A token acts as its owner and
can never do more than its owner may; a read-only token cannot write.

Errors are JSON: `{"code": "...", "message": "...", "fields": {"field": ["message"]}}`.
Lists return `{"items": [...], "next": "<cursor or null>"}`: pass `next` as `cursor` for
the following page (`limit` up to 500). At most 600 requests a minute per token or person
(429 beyond).
"""


class PejlingAPI(NinjaAPI):
    def _get_urls(self) -> list[URLPattern | URLResolver]:
        """The API authenticates each request itself (401 JSON, never a redirect to the
        login page), so Django's LoginRequiredMiddleware lets its views through."""
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback.login_required = False  # type: ignore[attr-defined]
        return patterns


api = PejlingAPI(
    title="Pejling API",
    version="1",
    description=DESCRIPTION,
    docs_url=None,
    urls_namespace="api-v1",
    auth=[TokenAuth(), BrowserSession(csrf=True)],
    throttle=[FixedWindowThrottle()],
)
register_error_handlers(api)

api.add_router("", organisation.router)
api.add_router("", strategy.router)
api.add_router("", indicators.router)
api.add_router("", agreements.router)
api.add_router("", followup.router)
api.add_router("", audit.router)


@api.get("/docs", auth=None, include_in_schema=False, throttle=[])
def docs(request: HttpRequest) -> HttpResponse:
    return docs_page(request, api.get_openapi_schema(), reverse("api-v1:openapi-json"))
