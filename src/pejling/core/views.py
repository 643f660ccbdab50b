from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on non-HTML pages (JSON, CSV): answer with nothing."""
    response = HttpResponse(status=204)
    response["Cache-Control"] = "max-age=86400"
    return response


# Error pages -----------------------------------------------------------------------------------
# In the layout and the reader's language; each says why and where to go. The roles a signed-in
# person holds come from the ``my_roles`` context processor (organisation), so core knows no domain.


def _error(request: HttpRequest, template: str, status: int, **context: object) -> HttpResponse:
    return render(request, template, context, status=status)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if exception is not None and str(exception) else ""
    return _error(request, "errors/403.html", 403, reason=reason)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "errors/404.html", 404)


def error_500(request: HttpRequest) -> HttpResponse:
    """The server failed: a plain page that needs no database (the failure may be there)."""
    try:
        return render(request, "errors/500.html", {"plain": True}, status=500)
    except Exception:
        return HttpResponse(_("Something went wrong on our side."), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(request, "errors/csrf.html", 403)
