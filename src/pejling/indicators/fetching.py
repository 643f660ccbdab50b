"""Running a stored fetch (:class:`~pejling.indicators.models.SourceFetch`): ask the source,
keep the mapped areas, import all or nothing, and record the outcome on the fetch (counts and
every error), so the indicator's page can show how the last run went.

Called by the background worker (``tasks.run_fetch``, queued by *Fetch now* or the schedule)
and, for a preview that writes nothing, by the pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pejling.indicators import national
from pejling.indicators.imports import (
    PREVIEW_ROWS,
    batch_errors,
    check_observations,
    import_observations,
)
from pejling.indicators.models import (
    FetchStatus,
    ImportBatch,
    ImportStatus,
    Schedule,
    SourceFetch,
)

MAX_STORED_ERRORS = 200


def next_run(schedule: str, after: datetime) -> datetime | None:
    """When a scheduled fetch is next due (at 03:00 local time), None for a manual one."""
    days = {Schedule.DAILY: 1, Schedule.WEEKLY: 7, Schedule.MONTHLY: 30}.get(Schedule(schedule))
    if days is None:
        return None
    local = timezone.localtime(after) + timedelta(days=days)
    return local.replace(hour=3, minute=0, second=0, microsecond=0)


def query_of(fetch: SourceFetch, mapping: dict[str, str]) -> national.Query:
    return national.Query(
        source=fetch.source,
        series=fetch.series,
        indicator=fetch.indicator.code,
        areas=list(mapping),
        picks=dict(fetch.picks or {}),
        sums=list(fetch.sums or []),
        periods=list(fetch.periods or []),
        area_dimension=fetch.area_dimension,
        time_dimension=fetch.time_dimension,
    )


@dataclass
class Preview:
    """What a fetch would store: the first rows, the counts and every problem (in words)."""

    rows: list[dict[str, Any]]
    fetched: int
    kept: int
    skipped: int
    missing: list[str]
    sums: dict[str, str | int]
    problems: list[str]


def preview(fetch: SourceFetch) -> Preview:
    """Fetch and check without writing anything."""
    mapping = national.stored_mapping(fetch.source, fetch.area_dimension)
    fetched = national.fetch(query_of(fetch, mapping))
    kept = national.keep_mapped(fetched.result, mapping, fetch.indicator.code)
    checked = check_observations(kept.result, unit_codes=kept.unit_codes)
    problems = [str(e.message) for e in checked.errors[:MAX_STORED_ERRORS]]
    rows = [
        row | {"unit": f"{kept.unit_codes.get(row['unit'], row['unit'])} ({row['unit']})"}
        for row in checked.preview[:PREVIEW_ROWS]
    ]
    return Preview(
        rows=rows,
        fetched=kept.fetched,
        kept=kept.fetched - kept.ignored,
        skipped=len(kept.result.skipped),
        missing=kept.missing,
        sums=kept.result.sums,
        problems=problems,
    )


def run(fetch_id: int, by: Any) -> SourceFetch:
    """Run the fetch and record how it went (never raises for the source's faults)."""
    fetch = SourceFetch.objects.select_related("indicator").get(pk=fetch_id)
    SourceFetch.objects.filter(pk=fetch_id).update(status=FetchStatus.RUNNING)
    mapping = national.stored_mapping(fetch.source, fetch.area_dimension)
    outcome: dict[str, Any] = {
        "last_run_at": timezone.now(),
        "last_fetched": 0,
        "last_kept": 0,
        "last_created": 0,
        "last_updated": 0,
        "last_errors": [],
        "last_batch": None,
    }
    try:
        if not mapping:
            raise national.SourceUnavailable("No area of this source is mapped to a unit yet.")
        fetched = national.fetch(query_of(fetch, mapping))
        kept = national.keep_mapped(fetched.result, mapping, fetch.indicator.code)
        batch: ImportBatch = import_observations(
            result=kept.result,
            source=fetched.label,
            by=by,
            filename=fetched.url[:255],
            indicator=fetch.indicator,
            unit_codes=kept.unit_codes,
            fetch=fetch,
        )
        outcome |= {
            "last_fetched": kept.fetched,
            "last_kept": kept.fetched - kept.ignored,
            "last_created": batch.created,
            "last_updated": batch.updated,
            "last_batch": batch,
        }
        if batch.status == ImportStatus.FAILED:
            outcome["last_errors"] = [
                e.describe(nowhere="answer") for e in batch_errors(batch)[:MAX_STORED_ERRORS]
            ]
        status = FetchStatus.FAILED if batch.status == ImportStatus.FAILED else FetchStatus.DONE
    except national.SourceUnavailable as exc:
        outcome["last_errors"] = [str(exc)]
        status = FetchStatus.FAILED
    for name, value in outcome.items():
        setattr(fetch, name, value)
    fetch.status = status
    fetch.next_run_at = next_run(fetch.schedule, timezone.now())
    fetch.save(update_fields=[*outcome, "status", "next_run_at"])
    return fetch


def interrupt_fetch(fetch_id: int, *, code: str = "interrupted") -> bool:
    """Mark a queued or running fetch whose job will never finish (its worker stopped, or it
    failed unexpectedly) as failed, on the locked row, saying why; nothing of it was written
    (its import is one transaction) and it can be fetched again at once or at its next run.
    False when it was not queued or running."""
    with transaction.atomic():
        fetch = SourceFetch.objects.select_for_update().filter(pk=fetch_id).first()
        if fetch is None or fetch.status not in (FetchStatus.QUEUED, FetchStatus.RUNNING):
            return False
        fetch.status = FetchStatus.FAILED
        fetch.last_errors = [
            _("An unexpected error stopped the fetch; nothing was written.")
            if code == "job_failed"
            else _("The background worker stopped during the fetch; nothing was written.")
        ]
        fetch.last_run_at = timezone.now()
        fetch.next_run_at = next_run(fetch.schedule, timezone.now())
        fetch.save(update_fields=["status", "last_errors", "last_run_at", "next_run_at"])
    return True
