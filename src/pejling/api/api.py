"""The NinjaAPI behind ``/api/v1/``: routers, authentication, rate limit, error handlers."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, reverse
from ninja import NinjaAPI, Schema
from ninja.openapi.views import default_home
from pydantic import Field

from pejling.api.auth import BrowserSession, FixedWindowThrottle, TokenAuth
from pejling.api.docs import docs_page
from pejling.api.endpoints import (
    agreements,
    audit,
    followup,
    indicators,
    organisation,
    portfolio,
    strategy,
)
from pejling.api.errors import method_not_allowed, register_error_handlers
from pejling.api.schemas import responses

DESCRIPTION = """\
Everything in Pejling, scriptable. Authenticate with a personal API token
(`Authorization: Bearer <token>`, made on the API tokens page) or, from the browser, with
your session (unsafe methods then need Django's CSRF token). A token acts as its owner and
can never do more than its owner may; a read-only token cannot write.

Start at `GET /api/v1/`: the API's name and version, and links to this document, the
reference page and every top-level resource.

Errors are JSON: `{"code": "...", "message": "...", "fields": {"field": ["message"]}}`
(a method a path does not take: 405 `method_not_allowed`, with an `Allow` header).
Lists return `{"items": [...], "next": "<cursor or null>"}`: pass `next` as `cursor` for
the following page (`limit` up to 500). At most 600 requests a minute per token or person
(429 beyond).
"""


View = Callable[..., HttpResponseBase]


def _json_not_allowed(api: NinjaAPI, view: View, *, methods: frozenset[str] | None = None) -> View:
    """``view``, answering a method the path does not take in the API's error format (405, an
    ``Allow`` header) instead of ninja's plain text. ``methods``: the ones a view that takes
    any method (the OpenAPI document) should take."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if methods is not None and request.method not in methods:
            return method_not_allowed(api, request, sorted(methods))
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):  # ninja: no operation for the method
            allowed = [m.strip() for m in response["Allow"].split(",") if m.strip()]
            return method_not_allowed(api, request, sorted(allowed))
        return response

    wrapper.csrf_exempt = True  # type: ignore[attr-defined]  # as ninja's views: auth checks CSRF
    return wrapper


class PejlingAPI(NinjaAPI):
    def _get_urls(self) -> list[URLPattern | URLResolver]:
        """The API's URL patterns, adjusted:

        * the API authenticates each request itself (401 JSON, never a redirect to the login
          page), so Django's LoginRequiredMiddleware lets its views through;
        * a method a path does not take is a JSON error (405 with ``Allow``), not plain text;
        * ninja's placeholder at the root (a 404 page) gives way to the ``api_root`` operation,
          which carries its URL name."""
        patterns: list[URLPattern | URLResolver] = []
        for pattern in super()._get_urls():
            if isinstance(pattern, URLPattern):
                callback = pattern.callback
                if getattr(callback, "func", None) is default_home:
                    continue
                only = frozenset({"GET", "HEAD"}) if pattern.name == "openapi-json" else None
                pattern.callback = _json_not_allowed(self, callback, methods=only)
                pattern.callback.login_required = False  # type: ignore[attr-defined]
            patterns.append(pattern)
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
api.add_router("", portfolio.router)


@api.get("/docs", auth=None, include_in_schema=False, throttle=[])
def docs(request: HttpRequest) -> HttpResponse:
    return docs_page(request, api.get_openapi_schema(), reverse("api-v1:openapi-json"))


# The root ---------------------------------------------------------------------------------


class RootLinks(Schema):
    openapi: str = Field(description="The OpenAPI 3 document")
    docs: str = Field(description="The reference page, for people")


class RootOut(Schema):
    name: str
    version: str
    links: RootLinks
    resources: dict[str, str] = Field(description="Each top-level resource and its address")


@cache
def _top_level_resources() -> tuple[str, ...]:
    """The first segment of every path with a GET operation and no parameters
    (``/api/v1/units`` → ``units``), in the order of the OpenAPI document."""
    root = reverse("api-v1:api-root")
    names: list[str] = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        rest = path.removeprefix(root)
        if "get" in operations and rest and "/" not in rest and "{" not in rest:
            names.append(rest)
    return tuple(names)


@api.get(
    "/",
    response=responses(RootOut),
    url_name="api-root",
    tags=["api"],
    summary="The API's root: its version and where everything is",
)
def api_root(request: HttpRequest) -> RootOut:
    """The API's name and version, and links to its document, its reference page and every
    top-level resource."""
    root = reverse("api-v1:api-root")
    return RootOut(
        name=api.title,
        version=api.version,
        links=RootLinks(
            openapi=request.build_absolute_uri(reverse("api-v1:openapi-json")),
            docs=request.build_absolute_uri(reverse("api-v1:docs")),
        ),
        resources={
            name: request.build_absolute_uri(root + name) for name in _top_level_resources()
        },
    )
