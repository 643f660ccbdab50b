from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _


def requested_year(request: HttpRequest) -> int:
    """The ``year`` query parameter if it is a sensible year, else the current year."""
    raw = request.GET.get("year", "")
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return timezone.localdate().year


def person_name(user: Any) -> str:
    """How a person is named on a page, in a list or a document: full name, else user name."""
    if user is None:
        return ""
    return str(user.get_full_name() or user.get_username())


def int_param(value: str | None) -> int | None:
    """A query or form parameter that should be an id or a count, or None if it is not one."""
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def require(allowed: bool) -> None:
    """Refuse with 403 (and the layout's translated explanation) unless ``allowed``."""
    if not allowed:
        raise PermissionDenied(_("You do not have permission to do this."))
