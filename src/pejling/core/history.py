"""Helpers for the change history kept by django-simple-history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext, gettext_lazy

from pejling.core.utils import person_name


class _System:
    """The system acting on no person's behalf (package loads): services let it through their
    permission checks, and history records no user for it."""

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM: Any = _System()


def history_user(by: Any) -> Any:
    """The user to record in a history row for ``by`` (none for :data:`SYSTEM`)."""
    return None if by is SYSTEM else by


def save_as(obj: models.Model, by: Any, *, reason: str = "", **kwargs: Any) -> None:
    """Save ``obj`` recording ``by`` (and an optional reason) in its history row."""
    obj._history_user = history_user(by)  # type: ignore[attr-defined]
    if reason:
        obj._change_reason = reason  # type: ignore[attr-defined]
    obj.save(**kwargs)


class KeepsLoadedValues(models.Model):
    """Remembers the values a row had when it was read, so that ``save_changes_as`` can save
    only the fields changed since."""

    class Meta:
        abstract = True

    _loaded_values: dict[str, Any]

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> Any:
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._loaded_values = dict(zip(field_names, values, strict=True))
        return instance


def save_changes_as(obj: models.Model, by: Any, *, reason: str = "") -> None:
    """Save only the fields of ``obj`` changed since it was read (a ``KeepsLoadedValues``
    model), with its version and auto-updated times, so a save never writes back a value
    someone else stored meanwhile. Call after ``next_version`` (which locks the row) inside
    the same transaction. A new object, or one not read from the database, is saved whole."""
    loaded = getattr(obj, "_loaded_values", None)
    if obj.pk is None or loaded is None:
        save_as(obj, by, reason=reason)
        return
    fields = [
        f.attname
        for f in type(obj)._meta.concrete_fields
        if not f.primary_key
        and (
            f.attname not in loaded
            or getattr(obj, f.attname) != loaded[f.attname]
            or f.attname == "version"
            or getattr(f, "auto_now", False)
        )
    ]
    save_as(obj, by, reason=reason, update_fields=fields)
    obj._loaded_values = {  # type: ignore[attr-defined]
        f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields
    }


def delete_as(obj: models.Model, by: Any, *, reason: str = "") -> None:
    obj._history_user = history_user(by)  # type: ignore[attr-defined]
    if reason:
        obj._change_reason = reason  # type: ignore[attr-defined]
    obj.delete()


# Change reasons are stored as stable codes and shown translated.
REASONS = {
    "submitted": gettext_lazy("submitted"),
    "agreed": gettext_lazy("agreed"),
    "published": gettext_lazy("published"),
    "revision started": gettext_lazy("revision started"),
    "imported": gettext_lazy("imported"),
    "loaded": gettext_lazy("loaded from a strategy package"),
    "rejected": gettext_lazy("rejected"),
    "uploaded": gettext_lazy("uploaded"),
    "sso": gettext_lazy("from the identity provider's groups at sign-in"),
    "token created": gettext_lazy("API token created"),
    "token revoked": gettext_lazy("API token revoked"),
    "calendar reset": gettext_lazy("calendar address replaced"),
    "version frozen": gettext_lazy("version frozen"),
    "interrupted": gettext_lazy("interrupted: its job stopped"),
    "confirmed": gettext_lazy("confirmed"),
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: Any
    kind: str  # "+", "~", "-"
    object_label: str
    model_label: str
    reason: str
    changes: list[FieldChange]


def entries_for(history_rows: list[Any], *, exclude: tuple[str, ...] = ()) -> list[HistoryEntry]:
    """Turn historical rows (newest first, one object or many) into readable entries with diffs."""
    by_object: dict[Any, list[Any]] = {}
    for row in history_rows:
        # Rows of several models can share an id: group by model and id.
        by_object.setdefault((row.instance_type, row.id), []).append(row)
    entries: list[HistoryEntry] = []
    for rows in by_object.values():
        rows.sort(key=lambda r: (r.history_date, r.history_id))
        previous = None
        for row in rows:
            changes: list[FieldChange] = []
            if previous is not None and row.history_type == "~":
                excluded = [f for f in (*exclude, "version") if hasattr(row, f)]
                delta = row.diff_against(previous, excluded_fields=excluded)
                changes = [FieldChange(c.field, c.old, c.new) for c in delta.changes]
            entries.append(
                HistoryEntry(
                    when=row.history_date,
                    who=row.history_user,
                    kind=row.history_type,
                    object_label=str(row.instance) if row.history_type != "-" else str(row),
                    model_label=str(row.instance_type._meta.verbose_name),
                    reason=str(
                        REASONS.get(
                            row.history_change_reason or "", row.history_change_reason or ""
                        )
                    ),
                    changes=changes,
                )
            )
            previous = row
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


# Optimistic locking ------------------------------------------------------------------------
#
# Agreements, initiatives, strategies and elements carry a ``version`` that the services raise
# on every save. An edit form carries the version it was loaded with; when the row has moved on
# since, the save is refused with what the other person changed, taken from the history rows
# written in between, and nothing is overwritten.

NOT_SHOWN = ("version", "updated_at", "history_change_reason")


@dataclass(frozen=True)
class OtherChange:
    field: str
    old: str
    new: str
    who: str
    when: datetime


class ConcurrentEditError(ValidationError):
    """Someone else saved the object after it was loaded; ``changes`` lists what they changed
    and ``current_version`` is the version now stored."""

    def __init__(self, messages: list[str], *, changes: list[OtherChange], current_version: int):
        super().__init__(messages, code="concurrent_edit")
        self.changes = changes
        self.current_version = current_version


class StateConflictError(ValidationError):
    """The object's state changed (or is not what the step needs): the caller lost a race or
    acted on a stale page. Answered 409 by the API, shown as a message on the web."""


def _person(user: Any) -> str:
    if user is None:
        return str(gettext_lazy("system"))
    return person_name(user)


def _shown(field: Any, value: Any, related: dict[Any, str]) -> str:
    if value is None or value == "":
        return "–"
    if field is not None and field.choices:
        value = dict(field.flatchoices).get(value, value)
    elif field is not None and field.is_relation:
        value = related.get(value, value)
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"


def changes_since(
    obj: models.Model, expected_version: int, *, exclude: tuple[str, ...] = ()
) -> list[OtherChange]:
    """What was changed in ``obj`` after ``expected_version``, from its history rows: each
    field's old and new value, who and when, oldest first."""
    history = obj.history  # type: ignore[attr-defined]
    rows = list(
        history.filter(version__gte=expected_version)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    # Start from the last row of the version the form was loaded with.
    start = max((i for i, r in enumerate(rows) if r.version == expected_version), default=None)
    if start is None:
        return []
    excluded = [*NOT_SHOWN, *exclude]
    pairs = [(rows[i], rows[i + 1]) for i in range(start, len(rows) - 1)]
    deltas = [(new, new.diff_against(old, excluded_fields=excluded)) for old, new in pairs]
    model = type(obj)
    related: dict[Any, str] = {}
    wanted: dict[Any, set[Any]] = {}
    for _new, delta in deltas:
        for change in delta.changes:
            field = model._meta.get_field(change.field)
            if field.is_relation and field.related_model is not None:
                wanted.setdefault(field.related_model, set()).update({change.old, change.new})
    for related_model, ids in wanted.items():
        for item in related_model._default_manager.filter(pk__in=ids - {None}):
            label = _person(item) if hasattr(item, "get_full_name") else str(item)
            related[item.pk] = label
    result = []
    for new, delta in deltas:
        for change in delta.changes:
            field = model._meta.get_field(change.field)
            result.append(
                OtherChange(
                    field=str(getattr(field, "verbose_name", change.field)),
                    old=_shown(field, change.old, related),
                    new=_shown(field, change.new, related),
                    who=_person(new.history_user),
                    when=new.history_date,
                )
            )
    return result


def conflict_messages(obj: models.Model, changes: list[OtherChange]) -> list[str]:
    label = str(obj._meta.verbose_name)
    head = str(
        gettext(
            "Someone else saved this %(object)s after you opened it, so your changes were not "
            "saved. They are kept in the form: check what the other person changed and save again."
        )
        % {"object": label}
    )
    lines = [
        str(
            gettext("%(field)s: “%(old)s” → “%(new)s” (%(who)s, %(when)s)")
            % {
                "field": c.field[:1].upper() + c.field[1:],
                "old": c.old,
                "new": c.new,
                "who": c.who,
                "when": date_format(localtime(c.when), "SHORT_DATETIME_FORMAT"),
            }
        )
        for c in changes
    ]
    if not lines:
        lines = [gettext("The other change did not alter any field shown here.")]
    return [head, *lines]


def next_version(
    obj: models.Model,
    expected_version: int | None,
    *,
    extra: Callable[[datetime | None], list[OtherChange]] | None = None,
) -> None:
    """Lock ``obj``'s row, refuse if it moved on since ``expected_version`` (None: no check,
    for callers that did not load a form), and set ``obj.version`` to the next version.

    Call inside ``transaction.atomic`` before saving. A new object starts at version 1."""
    if obj.pk is None:
        obj.version = 1  # type: ignore[attr-defined]
        return
    model = type(obj)
    current = (
        model._default_manager.select_for_update()
        .filter(pk=obj.pk)
        .values_list("version", flat=True)
        .first()
    )
    if current is None:
        raise ValidationError(
            gettext("Someone else deleted this %(object)s in the meantime.")
            % {"object": model._meta.verbose_name}
        )
    if expected_version is not None and current != expected_version:
        changes = changes_since(obj, expected_version)
        if extra is not None:
            since = (
                obj.history.filter(version=expected_version)  # type: ignore[attr-defined]
                .order_by("-history_date")
                .values_list("history_date", flat=True)
                .first()
            )
            changes += extra(since)
        raise ConcurrentEditError(
            conflict_messages(obj, changes), changes=changes, current_version=current
        )
    obj.version = current + 1  # type: ignore[attr-defined]
