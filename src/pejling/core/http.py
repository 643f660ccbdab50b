from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (for type checking)."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HttpRequest):
    """A request of a signed-in person (LoginRequiredMiddleware guarantees it for type checking)."""

    user: User


def render_panel(
    request: HtmxHttpRequest, template: str, title: str, context: dict[str, object]
) -> HttpResponse:
    """One URL serves a fragment to htmx and, without JavaScript, a full page around it.

    Used where a page of a lower app shows data of a higher one (a unit's indicators, its
    overdue items, a goal's measurement): the lower page loads the fragment by URL."""
    if request.htmx:
        return render(request, template, context)
    return render(
        request,
        "core/panel_page.html",
        {**context, "panel_template": template, "page_title": title},
    )
