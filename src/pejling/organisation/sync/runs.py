"""The record of every organisation sync run (:class:`~pejling.organisation.models.SyncRun`).

The sync's entry points (:mod:`.from_sources`) are recorded (:func:`recording`), so a
run is recorded however it is started (the command, the nightly task) and however it ends: with
its counts when it succeeded, with its first errors when it was refused (nothing written), and
as failed when it raised (the exception goes on). The record is written after the sync's own
transaction, so a refused run is kept although the sync wrote nothing; a dry run is recorded
as one (nothing it counted was written).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from pejling.organisation.models import SyncRun, SyncRunStatus

from .report import RowError, SyncReport


def recorded(
    run: Callable[[], SyncReport], *, source: str, filename: str = "", by: Any = None
) -> SyncReport:
    """``run()``, recorded as a :class:`SyncRun`; what it raises is recorded, then raised."""
    started_at = timezone.now()
    try:
        report = run()
    except Exception as exc:
        record(
            SyncReport(source=source, errors=[failure(exc)]),
            filename=filename,
            by=by,
            started_at=started_at,
        )
        raise
    record(report, filename=filename, by=by, started_at=started_at)
    return report


def recording[**P](
    source: str,
) -> Callable[[Callable[P, SyncReport]], Callable[P, SyncReport]]:
    """A sync's entry point, each call :func:`recorded` with the ``filename`` and ``by`` it is
    given (keyword arguments)."""

    def wrap(sync: Callable[P, SyncReport]) -> Callable[P, SyncReport]:
        @functools.wraps(sync)
        def run(*args: P.args, **kwargs: P.kwargs) -> SyncReport:
            return recorded(
                lambda: sync(*args, **kwargs),
                source=source,
                filename=str(kwargs.get("filename") or ""),
                by=kwargs.get("by"),
            )

        return run

    return wrap


def failure(exc: Exception) -> RowError:
    """An exception as a run's error: OS2mo's failure as its code and what it names (in no
    language: the page writes it in its reader's), else only the kind of failure (the log has
    the rest)."""
    from .os2mo import OS2moError

    if isinstance(exc, OS2moError):
        return exc.error
    return RowError(None, None, "sync_failed", type(exc).__name__)


def record(report: SyncReport, *, filename: str, by: Any, started_at: Any) -> SyncRun:
    return SyncRun.objects.create(
        source=report.source,
        filename=filename[:255],
        by=by if getattr(by, "pk", None) else None,
        started_at=started_at,
        finished_at=timezone.now(),
        status=SyncRunStatus.FAILED if report.errors else SyncRunStatus.SUCCEEDED,
        dry_run=report.dry_run,
        created=report.created,
        moved=report.moved,
        updated=report.updated,
        closed=report.closed,
        unchanged=report.unchanged,
        error_count=len(report.errors),
        errors=[e.as_dict() for e in report.errors[: SyncRun.FIRST_ERRORS]],
    )


def run_errors(run: SyncRun) -> list[RowError]:
    return [RowError.from_dict(e) for e in run.errors]


__all__ = ["record", "recorded", "run_errors"]
