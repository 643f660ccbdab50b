"""The audit trail page: every change django-simple-history recorded, for the strategy office.

Reads only. The rows of every registered historical model are merged newest first, ordered by
(when, model, history id); a page is one query per model plus one for the diffs of each model
on the page and one for the sources, whatever the page size. History rows outlive their object,
so deleted strategies, initiatives and goal links stay in the trail.

"From where" is recorded by ``record_source``: for each history row written during a request,
a ``ChangeSource`` row with the channel (web page, API with a token and which token, API from
the browser session) and the client's address. Rows written outside a request (commands, the
demo loader, background tasks) have none and show as "command or task".
"""

from __future__ import annotations

import base64
import binascii
import csv
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe
from simple_history.models import HistoricalRecords, registered_models

from pejling.core.forms import StyledFormMixin
from pejling.core.history import NOT_SHOWN, REASONS
from pejling.core.models import ChangeSource, ChangeVia
from pejling.organisation.permissions import is_strategy_office

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


# Recording where a change came from ------------------------------------------------------------


def _client_address(request: HttpRequest) -> str | None:
    value = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def record_source(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    """``post_create_historical_record``: note how the change reached us, when in a request."""
    request = getattr(HistoricalRecords.context, "request", None)
    if request is None:
        return
    caller = getattr(request, "auth", None)  # the API's Principal, set by django-ninja
    token = getattr(caller, "token", None)
    if token is not None:
        via, token_name = ChangeVia.API_TOKEN, f"{token.name} ({token.prefix}…)"[:200]
    elif caller is not None:
        via, token_name = ChangeVia.API_SESSION, ""
    else:
        via, token_name = ChangeVia.WEB, ""
    ChangeSource.objects.create(
        history_model=instance._meta.label_lower,
        history_id=history_instance.history_id,
        via=via,
        token_name=token_name,
        ip_address=_client_address(request),
    )


# Reading the trail -----------------------------------------------------------------------------


def history_models() -> dict[str, Any]:
    """``app.model`` label → historical model, for the models of Pejling's apps."""
    result = {}
    for model in registered_models.values():
        config = model._meta.app_config
        if config is not None and config.name.startswith("pejling."):
            manager = getattr(model, model._meta.simple_history_manager_attribute)
            result[model._meta.label_lower] = (model, manager.model)
    return dict(sorted(result.items()))


@dataclass(frozen=True)
class AuditFilters:
    model: str = ""
    person: str = ""
    object_id: int | None = None
    start: date | None = None
    end: date | None = None


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
    reason: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    source: ChangeSource | None = None

    @property
    def what(self) -> str:
        return {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}.get(self.kind, self.kind)

    @property
    def who_label(self) -> str:
        if self.who is None:
            return _("system")
        return str(self.who.get_full_name() or self.who.get_username())

    @property
    def via_label(self) -> str:
        if self.source is None:
            return _("command or task")
        text = str(self.source.get_via_display())
        if self.source.token_name:
            text += f": {self.source.token_name}"
        return text


def encode_cursor(entry: AuditEntry) -> str:
    raw = f"{entry.when.isoformat()}|{entry.label}|{entry.history_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, str, int] | None:
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


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_page(
    filters: AuditFilters, *, after: tuple[datetime, str, int] | None, limit: int
) -> tuple[list[AuditEntry], bool]:
    """A page of the trail, newest first, after ``after``; and whether more follow."""
    models = history_models()
    if filters.model:
        models = {k: v for k, v in models.items() if k == filters.model}
    candidates: list[tuple[Any, str]] = []
    for label, (_model, historical) in models.items():
        qs = historical.objects.select_related("history_user")
        if filters.object_id is not None:
            qs = qs.filter(id=filters.object_id)
        if filters.person:
            qs = qs.filter(history_user__username=filters.person)
        if filters.start is not None:
            qs = qs.filter(history_date__gte=_day_start(filters.start))
        if filters.end is not None:
            qs = qs.filter(history_date__lt=_day_start(filters.end + timedelta(days=1)))
        if after is not None:
            when, after_label, history_id = after
            if label < after_label:
                qs = qs.filter(history_date__lte=when)
            elif label == after_label:
                qs = qs.filter(
                    Q(history_date__lt=when) | Q(history_date=when, history_id__lt=history_id)
                )
            else:
                qs = qs.filter(history_date__lt=when)
        for row in qs.order_by("-history_date", "-history_id")[: limit + 1]:
            candidates.append((row, label))
    candidates.sort(key=lambda c: (c[0].history_date, c[1], c[0].history_id), reverse=True)
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
            reason=str(
                REASONS.get(row.history_change_reason or "", row.history_change_reason or "")
            ),
        )
        for row, label in page
    ]
    _add_changes(entries, page, models)
    _add_sources(entries, page, models)
    labels = _ask_models(page, models, "audit_labels", {(e.label, e.history_id) for e in entries})
    for entry in entries:
        entry.object_label = labels.get((entry.label, entry.history_id), entry.object_label)
    return entries, more


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
        changed = [row for row, row_label in page if row_label == label and row.history_type == "~"]
        if not changed:
            continue
        latest = max(r.history_date for r in changed)
        earlier: dict[Any, list[Any]] = {}
        for row in historical.objects.filter(
            id__in={r.id for r in changed}, history_date__lte=latest
        ).order_by("history_date", "history_id"):
            earlier.setdefault(row.id, []).append(row)
        excluded = [f for f in NOT_SHOWN if hasattr(historical, f)]
        for row in changed:
            before = [
                r
                for r in earlier.get(row.id, [])
                if (r.history_date, r.history_id) < (row.history_date, row.history_id)
            ]
            if not before:
                continue
            delta = row.diff_against(before[-1], excluded_fields=excluded)
            entry = by_key[(label, row.history_id)]
            for change in delta.changes:
                try:
                    name = str(model._meta.get_field(change.field).verbose_name)
                except Exception:  # pragma: no cover - a field removed since
                    name = change.field
                entry.changes.append((name, _text(change.old), _text(change.new)))


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


# The page --------------------------------------------------------------------------------------


class AuditFilterForm(StyledFormMixin, forms.Form):
    model = forms.ChoiceField(label=gettext_lazy("What"), required=False)
    person = forms.CharField(label=gettext_lazy("Who (username)"), required=False, max_length=150)
    object_id = forms.IntegerField(
        label=gettext_lazy("Object id"), required=False, min_value=1, max_value=2**63 - 1
    )
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("Everything"))]
        choices += [
            (label, str(model._meta.verbose_name_plural).capitalize())
            for label, (model, _historical) in history_models().items()
        ]
        self.fields["model"].choices = choices  # type: ignore[attr-defined]

    def filters(self) -> AuditFilters:
        if not self.is_valid():
            return AuditFilters()
        data = self.cleaned_data
        return AuditFilters(
            model=data["model"] or "",
            person=(data["person"] or "").strip(),
            object_id=data["object_id"],
            start=data["start"],
            end=data["end"],
        )


def _require_office(request: HttpRequest) -> None:
    if not is_strategy_office(request.user):
        raise PermissionDenied


def _limit(request: HttpRequest) -> int:
    value = request.GET.get("limit", "")
    return min(int(value), MAX_PAGE_SIZE) if value.isdigit() and int(value) > 0 else PAGE_SIZE


@require_safe
def audit_trail(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    form = AuditFilterForm(request.GET or None)
    filters = form.filters()
    after = decode_cursor(request.GET.get("after", ""))
    limit = _limit(request)
    entries, more = audit_page(filters, after=after, limit=limit)
    query = request.GET.copy()
    query.pop("after", None)
    next_query = ""
    if more and entries:
        query["after"] = encode_cursor(entries[-1])
        next_query = query.urlencode()
    export = request.GET.copy()
    export.pop("after", None)
    export.pop("limit", None)
    return render(
        request,
        "core/audit.html",
        {
            "form": form,
            "entries": entries,
            "next_query": next_query,
            "first_query": export.urlencode() if after else "",
            "paged": after is not None,
            "export_query": export.urlencode(),
        },
    )


def _csv_safe(value: str) -> str:
    """Keep a spreadsheet from reading a cell as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_safe
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    _require_office(request)
    filters = AuditFilterForm(request.GET or None).filters()

    def rows() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(
            [
                _("When"),
                _("Who"),
                _("Username"),
                _("What"),
                _("Model"),
                _("Object id"),
                _("Object"),
                _("Field"),
                _("Before"),
                _("After"),
                _("Reason"),
                _("Via"),
                _("IP address"),
            ]
        )
        after = None
        while True:
            entries, more = audit_page(filters, after=after, limit=500)
            for e in entries:
                base = [
                    timezone.localtime(e.when).isoformat(),
                    e.who_label,
                    e.who.get_username() if e.who else "",
                    e.what,
                    e.label,
                    str(e.object_id),
                    e.object_label,
                ]
                tail = [
                    e.reason,
                    e.via_label,
                    e.source.ip_address if e.source and e.source.ip_address else "",
                ]
                for change in e.changes or [("", "", "")]:
                    yield writer.writerow([_csv_safe(str(v)) for v in [*base, *change, *tail]])
            if not more or not entries:
                break
            last = entries[-1]
            after = (last.when, last.label, last.history_id)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="pejling-audit.csv"'
    return response
