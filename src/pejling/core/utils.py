from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone


def requested_year(request: HttpRequest) -> int:
    """The ``year`` query parameter if it is a sensible year, else the current year."""
    raw = request.GET.get("year", "")
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return timezone.localdate().year
