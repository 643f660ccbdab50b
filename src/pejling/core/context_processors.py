from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from pejling.organisation.permissions import is_strategy_office


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "organisation_name": settings.PEJLING_ORGANISATION_NAME,
        "is_strategy_office": bool(user and user.is_authenticated and is_strategy_office(user)),
    }
