"""The audit trail: every change django-simple-history recorded, as one stream.

The one listing behind the audit page, its CSV export and the API's ``/api/v1/audit``. Reads
only. The rows of every registered historical model of Pejling's apps are merged, ordered by
(when, model, history id), newest first for the page and oldest first for the API; a page is
one query per model plus one for the diffs of each model on the page and one for the sources,
whatever the page size. History rows outlive their object, so deleted strategies, initiatives
and goal links stay in the trail.

"From where" is recorded by ``core.sources.record_source``; models whose rows are written in
bulk (imported indicator values) name their rows and sources through two optional class methods,
``audit_labels`` and ``audit_sources``, so this app knows no domain model either. Such a model
may also keep no history row for what a bulk write created (an import is recorded once, as its
batch) and say what was before a change on the change's own row: ``audit_origin(object_id)``
gives an unsaved history row standing for the object's creation when the trail of that one
object is asked for, ``audit_changes(rows)`` the (field, before, after) of rows it explains.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.models import registered_models

from pejling.core.history import NOT_SHOWN, REASONS
from pejling.core.models import ChangeSource
from pejling.core.utils import person_name

# Where a page starts: the (when, model label, history id) of the last entry already read.
Position = tuple[datetime, str, int]


def history_models() -> dict[str, Any]:
    """``app.model`` label → (model, historical model), for the models of Pejling's apps."""
    result = {}
    for model in registered_models.values():
        config = model._meta.app_config
        if config is not None and config.name.startswith("pejling."):
            manager = getattr(model, model._meta.simple_history_manager_attribute)
            result[model._meta.label_lower] = (model, manager.model)
    return dict(sorted(result.items()))


@dataclass(frozen=True)
class AuditFilters:
    """What to list. ``since`` is inclusive, ``until`` exclusive (aware datetimes)."""

    model: str = ""
    person: str = ""
    object_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Change:
    field: str
    name: str  # the field's verbose name
    old: Any
    new: Any


@dataclass
class AuditEntry:
    label: str
    model_name: str
    object_id: int
    object_label: str
    history_id: int
    when: datetime
    who: Any
    kind: str
    reason_code: str
    changes: list[Change] = field(default_factory=list)
    source: ChangeSource | None = None

    @property
    def position(self) -> Position:
        return (self.when, self.label, self.history_id)

    @property
    def reason(self) -> str:
        return str(REASONS.get(self.reason_code, self.reason_code))

    @property
    def what(self) -> str:
        return {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}.get(self.kind, self.kind)

    @property
    def who_label(self) -> str:
        if self.who is None:
            return _("system")
        return person_name(self.who)

    @property
    def via_label(self) -> str:
        if self.source is None:
            return _("command or task")
        text = str(self.source.get_via_display())
        if self.source.token_name:
            text += f": {self.source.token_name}"
        return text

    @property
    def request_id(self) -> str:
        """The request id of the change (the same as in the request's and job's log lines)."""
        return self.source.request_id if self.source is not None else ""

    @property
    def shown_changes(self) -> list[tuple[str, str, str]]:
        """(field name, before, after) for people: without bookkeeping fields (the version,
        the time of the last update), values shortened."""
        return [
            (c.name, _text(c.old), _text(c.new)) for c in self.changes if c.field not in NOT_SHOWN
        ]


def encode_cursor(entry: AuditEntry) -> str:
    raw = f"{entry.when.isoformat()}|{entry.label}|{entry.history_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> Position | None:
    """The position after which the next page starts; None for a cursor that is not ours."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        when, label, history_id = raw.split("|")
        moment = datetime.fromisoformat(when)
        if timezone.is_naive(moment):
            return None
        return moment, label, int(history_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _object_label(row: Any) -> str:
    """A label from the row's own fields, without a query."""
    for name in ("title", "name", "code", "username"):
        value = getattr(row, name, None)
        if value:
            return str(value)
    return f"#{row.id}"


def _after(label: str, after: Position, *, newest_first: bool) -> Q:
    """Rows of model ``label`` that come after ``after`` in the trail's order."""
    when, after_label, history_id = after
    if newest_first:
        if label < after_label:
            return Q(history_date__lte=when)
        if label == after_label:
            return Q(history_date__lt=when) | Q(history_date=when, history_id__lt=history_id)
        return Q(history_date__lt=when)
    if label > after_label:
        return Q(history_date__gte=when)
    if label == after_label:
        return Q(history_date__gt=when) | Q(history_date=when, history_id__gt=history_id)
    return Q(history_date__gt=when)


def audit_page(
    filters: AuditFilters,
    *,
    after: Position | None,
    limit: int,
    newest_first: bool = True,
) -> tuple[list[AuditEntry], bool]:
    """A page of the trail after ``after``; and whether more follow.

    Newest first (the page, the export) or oldest first (the API, so a script can poll for
    what changed since a time). An unknown ``filters.model`` lists nothing."""
    models = history_models()
    if filters.model:
        models = {k: v for k, v in models.items() if k == filters.model}
    order = ("-history_date", "-history_id") if newest_first else ("history_date", "history_id")
    candidates: list[tuple[Any, str]] = []
    for label, (_model, historical) in models.items():
        qs = historical.objects.select_related("history_user")
        if filters.object_id is not None:
            qs = qs.filter(id=filters.object_id)
        if filters.person:
            qs = qs.filter(history_user__username=filters.person)
        if filters.since is not None:
            qs = qs.filter(history_date__gte=filters.since)
        if filters.until is not None:
            qs = qs.filter(history_date__lt=filters.until)
        if after is not None:
            qs = qs.filter(_after(label, after, newest_first=newest_first))
        for row in qs.order_by(*order)[: limit + 1]:
            candidates.append((row, label))
        origin = getattr(_model, "audit_origin", None)
        if filters.object_id is not None and origin is not None:
            candidates.extend(
                (row, label)
                for row in origin(filters.object_id)
                if _wanted(row, label, filters, after, newest_first=newest_first)
            )
    candidates.sort(key=lambda c: (c[0].history_date, c[1], c[0].history_id), reverse=newest_first)
    more = len(candidates) > limit
    page = candidates[:limit]
    entries = [
        AuditEntry(
            label=label,
            model_name=str(models[label][0]._meta.verbose_name),
            object_id=row.id,
            object_label=_object_label(row),
            history_id=row.history_id,
            when=row.history_date,
            who=row.history_user,
            kind=row.history_type,
            reason_code=row.history_change_reason or "",
        )
        for row, label in page
    ]
    _add_changes(entries, page, models)
    _add_sources(entries, page, models)
    labels = _ask_models(page, models, "audit_labels", {(e.label, e.history_id) for e in entries})
    for entry in entries:
        entry.object_label = labels.get((entry.label, entry.history_id), entry.object_label)
    return entries, more


def _wanted(
    row: Any, label: str, filters: AuditFilters, after: Position | None, *, newest_first: bool
) -> bool:
    """Whether an unsaved history row (``audit_origin``) passes the filters a query applies."""
    when = row.history_date
    if filters.person and (row.history_user is None or row.history_user.username != filters.person):
        return False
    if filters.since is not None and when < filters.since:
        return False
    if filters.until is not None and when >= filters.until:
        return False
    if after is not None:
        position = (when, label, row.history_id)
        return position < after if newest_first else position > after
    return True


def _ask_models(
    page: list[tuple[Any, str]], models: dict[str, Any], hook: str, rows: set[tuple[str, int]]
) -> dict[tuple[str, int], Any]:
    """What the models' optional ``hook(history_rows) -> {history_id: answer}`` class methods
    say of the page's ``rows`` ((label, history id)): one call a model, its own few queries.

    Models whose rows are written in bulk, without a name or a source of their own (imported
    indicator values), answer ``audit_labels`` and ``audit_sources`` this way.
    """
    by_label: dict[str, list[Any]] = {}
    for row, label in page:
        if (label, row.history_id) in rows:
            by_label.setdefault(label, []).append(row)
    answers: dict[tuple[str, int], Any] = {}
    for label, history_rows in by_label.items():
        method = getattr(models[label][0], hook, None)
        if method is not None:
            answers.update(((label, hid), answer) for hid, answer in method(history_rows).items())
    return answers


def _add_changes(
    entries: list[AuditEntry], page: list[tuple[Any, str]], models: dict[str, Any]
) -> None:
    """Before and after of each change, against the object's row before it: one query a model."""
    by_key = {(e.label, e.history_id): e for e in entries}
    for label, (model, historical) in models.items():
        explain = getattr(model, "audit_changes", None)
        if explain is not None:
            rows = [row for row, row_label in page if row_label == label]
            explained = explain(rows) if rows else {}
            for history_id, changes in explained.items():
                entry = by_key[(label, history_id)]
                for name, old, new in changes:
                    verbose = str(model._meta.get_field(name).verbose_name)
                    entry.changes.append(Change(name, verbose, old, new))
        else:
            explained = {}
        changed = [
            row
            for row, row_label in page
            if row_label == label and row.history_type == "~" and row.history_id not in explained
        ]
        if not changed:
            continue
        latest = max(r.history_date for r in changed)
        earlier: dict[Any, list[Any]] = {}
        for row in historical.objects.filter(
            id__in={r.id for r in changed}, history_date__lte=latest
        ).order_by("history_date", "history_id"):
            earlier.setdefault(row.id, []).append(row)
        for row in changed:
            before = [
                r
                for r in earlier.get(row.id, [])
                if (r.history_date, r.history_id) < (row.history_date, row.history_id)
            ]
            if not before:
                continue
            delta = row.diff_against(before[-1])
            entry = by_key[(label, row.history_id)]
            for change in delta.changes:
                try:
                    name = str(model._meta.get_field(change.field).verbose_name)
                except Exception:  # pragma: no cover - a field removed since
                    name = change.field
                entry.changes.append(Change(change.field, name, change.old, change.new))


def _text(value: Any) -> str:
    if value is None or value == "":
        return "–"
    text = str(value)
    return text if len(text) <= 300 else text[:299] + "…"


def _add_sources(
    entries: list[AuditEntry], page: list[tuple[Any, str]], models: dict[str, Any]
) -> None:
    """How each change reached us: its own ``ChangeSource``, else what its model says
    (``audit_sources``: an imported value came from where its import was uploaded)."""
    if not entries:
        return
    wanted = Q()
    for entry in entries:
        wanted |= Q(history_model=entry.label, history_id=entry.history_id)
    sources = {(s.history_model, s.history_id): s for s in ChangeSource.objects.filter(wanted)}
    missing = {(e.label, e.history_id) for e in entries} - set(sources)
    sources.update(_ask_models(page, models, "audit_sources", missing))
    for entry in entries:
        entry.source = sources.get((entry.label, entry.history_id))
