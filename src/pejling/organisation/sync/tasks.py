"""The nightly OS2mo sync as a background task (``django.tasks``; run by ``pejling db_worker``).

Django's tasks framework has no schedule of its own: run ``pejling sync-org --source os2mo``
from cron or a systemd timer (see docs/architecture.md), or enqueue this task from such a job.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.tasks import task

from .from_sources import sync_from_os2mo
from .os2mo import OS2moClient

logger = logging.getLogger(__name__)


@task()
def sync_os2mo() -> dict[str, int] | None:
    """Sync the organisation from OS2mo when ``PEJLING_OS2MO_URL`` is set (else do nothing and
    return None). Returns the counts; OS2mo errors fail the task with nothing written."""
    if not settings.PEJLING_OS2MO_URL:
        return None
    report = sync_from_os2mo(
        client=OS2moClient.from_settings(),
        hierarchy=settings.PEJLING_OS2MO_HIERARCHY or None,
    )
    logger.info("OS2mo sync: %s", report.summary())
    return report.counts()
