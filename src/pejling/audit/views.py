"""The audit trail page and its CSV export, for the strategy office (the listing is
``audit.trail.audit_page``, which the API's ``/api/v1/audit`` pages too)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from pejling.audit.trail import (
    AuditFilters,
    Position,
    audit_page,
    decode_cursor,
    encode_cursor,
    history_models,
)
from pejling.core.export import Cell, Table, requested_format, table_download
from pejling.core.forms import StyledFormMixin
from pejling.organisation.permissions import is_strategy_office

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


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
            since=_day_start(data["start"]) if data["start"] else None,
            until=_day_start(data["end"] + timedelta(days=1)) if data["end"] else None,
        )


def _require_office(request: HttpRequest) -> None:
    if not is_strategy_office(request.user):
        raise PermissionDenied


def _limit(request: HttpRequest) -> int:
    value = request.GET.get("limit", "")
    return min(int(value), MAX_PAGE_SIZE) if value.isdigit() and int(value) > 0 else PAGE_SIZE


def _with_format(query: Any, fmt: str) -> str:
    query = query.copy()
    query["format"] = fmt
    return str(query.urlencode())


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
        "audit/trail.html",
        {
            "form": form,
            "entries": entries,
            "next_query": next_query,
            "first_query": export.urlencode() if after else "",
            "paged": after is not None,
            "export_query": export.urlencode(),
            "downloads": {
                fmt: reverse("audit:export") + "?" + _with_format(export, fmt)
                for fmt in ("xlsx", "csv")
            },
        },
    )


@require_safe
def audit_export(request: HttpRequest) -> HttpResponse:
    """Every entry the filters select (not only the page on screen), as CSV (streamed) or,
    with ``?format=xlsx``, as an Excel workbook with the times typed (``core/export.py``)."""
    _require_office(request)
    filters = AuditFilterForm(request.GET or None).filters()

    def rows() -> Iterator[list[Cell]]:
        after: Position | None = None
        while True:
            entries, more = audit_page(filters, after=after, limit=500)
            for e in entries:
                base: list[Cell] = [
                    e.when,
                    e.who_label,
                    e.who.get_username() if e.who else "",
                    e.what,
                    e.label,
                    str(e.object_id),
                    e.object_label,
                ]
                tail: list[Cell] = [
                    e.reason,
                    e.via_label,
                    e.source.ip_address if e.source and e.source.ip_address else "",
                ]
                for change in e.shown_changes or [("", "", "")]:
                    yield [*base, *(str(v) for v in change), *tail]
            if not more or not entries:
                break
            after = entries[-1].position

    table = Table(
        title=_("Audit trail"),
        headers=[
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
        ],
        rows=rows(),
        stream=True,
    )
    return table_download(request, table, requested_format(request) or "csv")
