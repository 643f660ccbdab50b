"""Recording where a change came from: a ``ChangeSource`` row beside each history row written
during a request (the channel: web page, API with a token and which token, API from the browser
session; and the client's address; and the request id). History rows written by a background
job that a request enqueued get a row too (via "task", the request's id). Rows written
otherwise (commands, the demo loader) have none and the audit trail shows them as "command or
task".

Connected to django-simple-history's ``post_create_historical_record`` in ``CoreConfig.ready``.
It reads only the request, so ``core`` stays free of the domain; the audit trail that shows
these rows is ``pejling.audit``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.http import HttpRequest
from simple_history.models import HistoricalRecords

from pejling.core.models import ChangeSource, ChangeVia
from pejling.core.request_context import current_request_id


def _client_address(request: HttpRequest) -> str | None:
    value = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _source_fields() -> dict[str, Any] | None:
    """The ``ChangeSource`` fields of the request or job in hand, or None outside both."""
    request = getattr(HistoricalRecords.context, "request", None)
    if request is None:
        request_id = current_request_id()
        if request_id:  # a job enqueued by a request: pejling.ops.jobs set the id
            return {"via": ChangeVia.TASK, "request_id": request_id}
        return None
    caller = getattr(request, "auth", None)  # the API's Principal, set by django-ninja
    token = getattr(caller, "token", None)
    if token is not None:
        via, token_name = ChangeVia.API_TOKEN, f"{token.name} ({token.prefix}…)"[:200]
    elif caller is not None:
        via, token_name = ChangeVia.API_SESSION, ""
    else:
        via, token_name = ChangeVia.WEB, ""
    return {
        "via": via,
        "token_name": token_name,
        "ip_address": _client_address(request),
        "request_id": current_request_id(),
    }


def record_source(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    """``post_create_historical_record``: note how the change reached us, when in a request or
    in a background job a request started (then with that request's id)."""
    fields = _source_fields()
    if fields is not None:
        ChangeSource.objects.create(
            history_model=instance._meta.label_lower,
            history_id=history_instance.history_id,
            **fields,
        )


def record_sources(model: Any, history_ids: list[int]) -> None:
    """The same for history rows written in bulk (``bulk_history_create`` sends no signal):
    one ``ChangeSource`` a row of ``model`` (the tracked model), in one insert."""
    fields = _source_fields()
    if fields is None or not history_ids:
        return
    label = model._meta.label_lower
    ChangeSource.objects.bulk_create(
        [ChangeSource(history_model=label, history_id=pk, **fields) for pk in history_ids],
        batch_size=1000,
    )
