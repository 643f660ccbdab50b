from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from pejling.organisation.permissions import can_see_overview, is_strategy_office, memberships_of


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    office = signed_in and is_strategy_office(user)
    return {
        "organisation_name": settings.PEJLING_ORGANISATION_NAME,
        "is_strategy_office": office,
        "can_overview": signed_in and can_see_overview(user),
        # Called only by the templates that show it (the error pages): who am I here?
        "my_roles": lambda: [
            f"{m.get_role_display()}, {m.unit.name}" for m in memberships_of(user)
        ],
    }
