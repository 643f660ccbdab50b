"""Helpers for the change history kept by django-simple-history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy


def save_as(obj: models.Model, by: Any, *, reason: str = "", **kwargs: Any) -> None:
    """Save ``obj`` recording ``by`` (and an optional reason) in its history row."""
    obj._history_user = by  # type: ignore[attr-defined]
    if reason:
        obj._change_reason = reason  # type: ignore[attr-defined]
    obj.save(**kwargs)


def delete_as(obj: models.Model, by: Any, *, reason: str = "") -> None:
    obj._history_user = by  # type: ignore[attr-defined]
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
    "rejected": gettext_lazy("rejected"),
    "uploaded": gettext_lazy("uploaded"),
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
                delta = row.diff_against(previous, excluded_fields=list(exclude))
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
