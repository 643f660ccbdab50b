"""How every public answer is made: language from the URL, the site switched on (or the
strategy office previewing), rendering without the request (no session, no CSRF cookie, no
person), and the caching headers.

The same view functions answer under two namespaces: ``public`` (``/open/``, for everyone
once the site is live; ``Cache-Control: public``, ETag, Last-Modified, 304) and ``preview``
(``/publication/preview/``, the strategy office only, even while the site is off; never
cached). ``purl`` in templates links within whichever namespace is being shown.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control

from pejling.core.caching import conditional_public
from pejling.publication import selectors
from pejling.publication.services import can_manage_publication

LANGUAGES: tuple[str, ...] = tuple(code for code, _name in settings.LANGUAGES)
PUBLIC = "public"
PREVIEW = "preview"


class NotPublic(Http404):
    """Not on the public site (does not exist, not published, or the site is off)."""


def namespace_of(request: HttpRequest) -> str:
    match = request.resolver_match
    return PREVIEW if match is not None and match.namespace == PREVIEW else PUBLIC


def alternates(request: HttpRequest, lang: str) -> list[dict[str, Any]]:
    """The same page in each language (the language links and ``hreflang``)."""
    match = request.resolver_match
    if match is None:
        return []
    query = request.META.get("QUERY_STRING", "")
    names = dict(settings.LANGUAGES)
    result = []
    for code in LANGUAGES:
        url = reverse(match.view_name, kwargs={**match.kwargs, "lang": code})
        with translation.override(code):
            label = translation.get_language_info(code)["name_local"]
        result.append(
            {
                "code": code,
                "url": url + (f"?{query}" if query else ""),
                "label": str(label).capitalize(),
                "current": code == lang,
                "english": names[code],
            }
        )
    return result


def guard(request: HttpRequest, *, always: bool = False) -> str | HttpResponse:
    """The namespace to answer in, or the refusal: preview needs the strategy office; the
    public needs the site live (``always``: the accessibility statement is never off)."""
    namespace = namespace_of(request)
    if namespace == PREVIEW:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_manage_publication(request.user):
            raise PermissionDenied
        return namespace
    if not always and not selectors.site_is_live():
        raise NotPublic
    return namespace


def public_page(*, always: bool = False) -> Callable[..., Any]:
    """Decorate a public page ``view(request, lang, ...) -> (template, context)``."""

    def decorate(view: Callable[..., tuple[str, dict[str, Any]]]) -> Callable[..., HttpResponse]:
        @login_not_required
        @wraps(view)
        def wrapper(request: HttpRequest, lang: str, **kwargs: Any) -> HttpResponse:
            if lang not in LANGUAGES:
                return not_found(request)
            try:
                namespace = guard(request, always=always)
                if isinstance(namespace, HttpResponse):
                    return namespace
                with translation.override(lang):
                    template, context = view(request, lang, **kwargs)
            except Http404:
                return not_found(request, lang=lang)
            with translation.override(lang):
                row = selectors.publication_settings()
                context = {
                    "lang": lang,
                    "ns": namespace,
                    "preview": namespace == PREVIEW,
                    "site_live": selectors.site_is_live(row),
                    "organisation": selectors.organisation_name(row),
                    "languages": alternates(request, lang),
                    **context,
                }
                html = render_to_string(template, context)
            response = HttpResponse(html)
            response["Content-Language"] = lang
            return finish(request, response, namespace)

        return wrapper

    return decorate


def finish(request: HttpRequest, response: HttpResponse, namespace: str) -> HttpResponse:
    """Public: cacheable by anyone, with validators. Preview: never stored anywhere."""
    if namespace == PREVIEW:
        patch_cache_control(response, private=True, no_store=True)
        return response
    return conditional_public(
        request,
        response,
        last_modified=selectors.last_modified(),
        max_age=settings.PEJLING_PUBLIC_MAX_AGE,
    )


def data_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate an open-data answer ``view(request) -> HttpResponse``: the same guard and
    headers as the pages; labels in ``?lang=`` (else the installation's language)."""

    @login_not_required
    @wraps(view)
    def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        lang = request.GET.get("lang", "")
        lang = lang if lang in LANGUAGES else settings.LANGUAGE_CODE
        try:
            namespace = guard(request)
            if isinstance(namespace, HttpResponse):
                return namespace
            with translation.override(lang):
                response = view(request, **kwargs)
        except Http404:
            return not_found(request, lang=lang)
        if namespace == PUBLIC:
            response["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
        return finish(request, response, namespace)

    return wrapper


def not_found(request: HttpRequest, *, lang: str = "") -> HttpResponse:
    """The public site's own 404 (without the signed-in layout's CSRF cookie)."""
    lang = lang or translation.get_language_from_request(request)
    lang = lang if lang in LANGUAGES else settings.LANGUAGE_CODE
    with translation.override(lang):
        html = render_to_string(
            "publication/not_found.html",
            {
                "lang": lang,
                "ns": PUBLIC,
                "languages": [],
                "organisation": selectors.organisation_name(),
            },
        )
    response = HttpResponse(html, status=404)
    patch_cache_control(response, private=True, no_cache=True)
    return response
