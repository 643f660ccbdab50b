"""The audit trail: the change history django-simple-history keeps for the domain models.

Rows of every model are merged into one stream, oldest first, ordered by (when, model,
history id), so a script can page through it or poll for what changed ``since`` a time.
Only the strategy office reads it (it spans every unit, draft and person).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from pejling.api.auth import principal
from pejling.api.errors import ApiError, invalid
from pejling.api.pagination import decode_cursor, encode_cursor
from pejling.api.schemas import MAX_ID, NO_NUL, Cursor, Limit, responses
from pejling.audit.trail import AuditFilters, Position, audit_page, history_models
from pejling.organisation.permissions import is_strategy_office

router = Router(tags=["audit"])

WHAT = {"+": "created", "~": "changed", "-": "deleted"}


class ChangeOut(Schema):
    field: str
    old: str | None
    new: str | None


class AuditOut(Schema):
    history_id: int
    model: str = Field(description="app.model, e.g. agreements.agreement")
    object_id: int
    when: datetime
    who: str | None = Field(description="Username of the person who made the change")
    what: str = Field(description="created, changed or deleted")
    reason: str
    changes: list[ChangeOut] = Field(description="For a change: each field's old and new value")


class AuditPage(Schema):
    items: list[AuditOut]
    next: str | None


def _utc(value: datetime | None, field: str) -> datetime | None:
    """A time in UTC (a time without zone is read in the local zone). PostgreSQL refuses
    offsets beyond ±16 hours, which Python accepts."""
    if value is None:
        return None
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise invalid(field, _("The time is out of range.")) from None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@router.get(
    "/audit",
    response=responses(AuditPage),
    summary="The audit trail: who changed what, when (strategy office)",
)
def list_audit(
    request: HttpRequest,
    model: Annotated[
        str | None, Query(None, max_length=100, pattern=NO_NUL, description="app.model")
    ] = None,
    object_id: Annotated[int | None, Query(None, ge=1, le=MAX_ID)] = None,
    person: Annotated[str | None, Query(None, max_length=150, pattern=NO_NUL)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> AuditPage:
    user = principal(request).user
    if not is_strategy_office(user):
        raise ApiError(403, "forbidden", _("Only the strategy office can read the audit trail."))
    since, until = _utc(since, "since"), _utc(until, "until")
    if model and model not in history_models():
        raise invalid("model", _("No model with a history has this name."))
    after: Position | None = None
    if cursor:
        values = decode_cursor(cursor, 3)  # signed by us: its values are as we wrote them
        after = (datetime.fromisoformat(str(values[0])), str(values[1]), int(values[2]))
    filters = AuditFilters(
        model=model or "", person=person or "", object_id=object_id, since=since, until=until
    )
    entries, more = audit_page(filters, after=after, limit=limit, newest_first=False)
    following = None
    if more and entries:
        when, label, history_id = entries[-1].position
        following = encode_cursor([when.isoformat(), label, history_id])
    items = [
        AuditOut(
            history_id=entry.history_id,
            model=entry.label,
            object_id=entry.object_id,
            when=entry.when,
            who=entry.who.get_username() if entry.who else None,
            what=WHAT.get(entry.kind, entry.kind),
            reason=entry.reason_code,
            changes=[
                ChangeOut(field=c.field, old=_text(c.old), new=_text(c.new)) for c in entry.changes
            ],
        )
        for entry in entries
    ]
    return AuditPage(items=items, next=following)
