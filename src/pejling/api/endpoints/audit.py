"""The audit trail: the change history django-simple-history keeps for the domain models.

Rows of every model are merged into one stream, oldest first, ordered by (when, model,
history id), so a script can page through it or poll for what changed ``since`` a time.
Only the strategy office reads it (it spans every unit, draft and person).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field
from simple_history.models import registered_models

from pejling.api.auth import principal
from pejling.api.errors import ApiError, invalid
from pejling.api.pagination import decode_cursor, encode_cursor
from pejling.api.schemas import MAX_ID, NO_NUL, Cursor, Limit, responses
from pejling.organisation.permissions import is_strategy_office

router = Router(tags=["audit"])

WHAT = {"+": "created", "~": "changed", "-": "deleted"}


def history_models() -> dict[str, Any]:
    """``app.model`` label → the historical model, for the models of Pejling's apps."""
    result = {}
    for model in registered_models.values():
        config = model._meta.app_config
        if config is not None and config.name.startswith("pejling."):
            manager = getattr(model, model._meta.simple_history_manager_attribute)
            result[model._meta.label_lower] = manager.model
    return dict(sorted(result.items()))


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


def _changes(label: str, historical: Any, rows: list[Any]) -> dict[int, list[ChangeOut]]:
    """Field changes of each "changed" row against the object's row before it (one query)."""
    changed = [r for r in rows if r.history_type == "~"]
    if not changed:
        return {}
    latest = max(r.history_date for r in changed)
    earlier: dict[Any, list[Any]] = {}
    for row in historical.objects.filter(
        id__in={r.id for r in changed}, history_date__lte=latest
    ).order_by("history_date", "history_id"):
        earlier.setdefault(row.id, []).append(row)
    result: dict[int, list[ChangeOut]] = {}
    for row in changed:
        before = [
            r
            for r in earlier.get(row.id, [])
            if (r.history_date, r.history_id) < (row.history_date, row.history_id)
        ]
        if not before:
            result[row.history_id] = []
            continue
        delta = row.diff_against(before[-1])
        result[row.history_id] = [
            ChangeOut(field=c.field, old=_text(c.old), new=_text(c.new)) for c in delta.changes
        ]
    return result


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
    models = history_models()
    if model:
        if model not in models:
            raise invalid("model", _("No model with a history has this name."))
        models = {model: models[model]}
    after: tuple[str, str, int] | None = None
    if cursor:
        values = decode_cursor(cursor, 3)
        after = (str(values[0]), str(values[1]), int(values[2]))
    candidates: list[tuple[datetime, str, int, Any]] = []
    for label, historical in models.items():
        qs = historical.objects.select_related("history_user")
        if object_id is not None:
            qs = qs.filter(id=object_id)
        if person:
            qs = qs.filter(history_user__username=person)
        if since is not None:
            qs = qs.filter(history_date__gte=since)
        if until is not None:
            qs = qs.filter(history_date__lt=until)
        if after is not None:
            when, after_label, history_id = after
            if label > after_label:
                qs = qs.filter(history_date__gte=when)
            elif label == after_label:
                qs = qs.filter(
                    Q(history_date__gt=when) | Q(history_date=when, history_id__gt=history_id)
                )
            else:
                qs = qs.filter(history_date__gt=when)
        for row in qs.order_by("history_date", "history_id")[: limit + 1]:
            candidates.append((row.history_date, label, row.history_id, row))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    page = candidates[:limit]
    following = None
    if len(candidates) > limit:
        last = page[-1]
        following = encode_cursor([last[0].isoformat(), last[1], last[2]])
    changes: dict[tuple[str, int], list[ChangeOut]] = {}
    for label, historical in models.items():
        rows = [c[3] for c in page if c[1] == label]
        for history_id, found in _changes(label, historical, rows).items():
            changes[(label, history_id)] = found
    items = []
    for _when, label, history_id, row in page:
        items.append(
            AuditOut(
                history_id=history_id,
                model=label,
                object_id=row.id,
                when=row.history_date,
                who=row.history_user.get_username() if row.history_user else None,
                what=WHAT.get(row.history_type, row.history_type),
                reason=row.history_change_reason or "",
                changes=changes.get((label, history_id), []),
            )
        )
    return AuditPage(items=items, next=following)
