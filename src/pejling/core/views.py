from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from pejling.agreements.selectors import line_of_sight
from pejling.core.utils import requested_year


def home(request: HttpRequest) -> HttpResponse:
    """What is my part of the whole? The line of sight from my unit's work to the strategy."""
    year = requested_year(request)
    sight = line_of_sight(user=request.user, year=year)
    return render(request, "core/home.html", {"sight": sight, "year": year})


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
