"""pejling sync-org --source os2mo|file [FILE] [options]

Brings the organisation tree in line with OS2mo or with a CSV/Excel file, all or nothing::

    pejling sync-org --source os2mo [--hierarchy Linjeorganisation] [--date 2027-01-01] [--dry-run]
    pejling sync-org --source file units.csv [--close-missing] [--dry-run]

OS2mo is read from ``PEJLING_OS2MO_URL`` (or ``--url``) with the bearer token in
``PEJLING_OS2MO_TOKEN``; ``--hierarchy`` defaults to ``PEJLING_OS2MO_HIERARCHY``. Run the OS2mo
sync nightly from cron, e.g. ``30 2 * * * pejling sync-org --source os2mo``. What it says is in
the installation's language (``PEJLING_LANGUAGE``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from pejling.organisation.sync import (
    OS2moClient,
    OS2moError,
    SyncReport,
    sync_from_os2mo,
    sync_from_path,
)
from pejling.organisation.sync.os2mo import DEFAULT_PAGE_SIZE

MAX_ERRORS_SHOWN = 200

# A change listed (a dry run, or -v 2), by its action.
ACTIONS = {
    "created": pgettext_lazy("a unit in a sync", "created"),
    "updated": pgettext_lazy("a unit in a sync", "updated"),
    "moved": pgettext_lazy("a unit in a sync", "moved"),
    "closed": pgettext_lazy("a unit in a sync", "closed"),
}


def _level_map(values: list[str] | None) -> dict[str, int] | None:
    if not values:
        return None
    mapping: dict[str, int] = {}
    for item in values:
        name, sep, depth = item.rpartition("=")
        if not sep or not name.strip() or not depth.strip().isdigit():
            raise CommandError(
                _("--level takes OS2MO_LEVEL=DEPTH (such as N1=1), not %(item)s.")
                % {"item": repr(item)}
            )
        mapping[name.strip()] = int(depth)
    return mapping


class Command(BaseCommand):
    help = "Sync the organisation's units from OS2mo or from a CSV/Excel file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, choices=("os2mo", "file"))
        parser.add_argument(
            "file", nargs="?", type=Path, help="the CSV or XLSX file (--source file)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would change without writing"
        )
        parser.add_argument("--user", help="username recorded in the history as the one syncing")
        os2mo = parser.add_argument_group("OS2mo")
        os2mo.add_argument("--url", help="OS2mo's base URL (default: PEJLING_OS2MO_URL)")
        os2mo.add_argument(
            "--hierarchy", help="only units with this hierarchy label (e.g. Linjeorganisation)"
        )
        os2mo.add_argument(
            "--date",
            type=date.fromisoformat,
            help="the organisation as on YYYY-MM-DD (default today)",
        )
        os2mo.add_argument(
            "--level",
            action="append",
            metavar="OS2MO_LEVEL=DEPTH",
            help="map an OS2mo unit level to our level of that depth (repeat; default N<d> = d)",
        )
        os2mo.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE)
        files = parser.add_argument_group("file")
        files.add_argument(
            "--close-missing",
            action="store_true",
            help="end-date units that are not in the file (default: leave them)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            self._handle(options)

    def _handle(self, options: dict[str, Any]) -> None:
        by = None
        if options["user"]:
            by = get_user_model().objects.filter(username=options["user"]).first()
            if by is None:
                raise CommandError(
                    _("No user is called %(user)s.") % {"user": repr(options["user"])}
                )
        if options["source"] == "os2mo":
            if options["file"] is not None or options["close_missing"]:
                raise CommandError(_("FILE and --close-missing go with --source file."))
            report = self._os2mo(options, by)
        else:
            report = self._file(options, by)
        changes = report.changes if (options["dry_run"] or options["verbosity"] > 1) else []
        width = max((len(str(label)) for label in ACTIONS.values()), default=0)
        for change in changes:
            action = str(ACTIONS.get(change.action, change.action))
            self.stdout.write(
                f"{action:{width}}  {change.code} ({change.name})"
                + (f": {change.detail}" if change.detail else "")
            )
        summary = report.summary()
        if options["dry_run"]:
            summary = _("Dry run, nothing written: would be %(summary)s") % {"summary": summary}
        self.stdout.write(self.style.SUCCESS(f"{summary}."))

    def _os2mo(self, options: dict[str, Any], by: Any) -> SyncReport:
        if options["page_size"] < 1:
            raise CommandError(_("--page-size must be at least 1."))
        try:
            client = OS2moClient.from_settings(
                base_url=options["url"], page_size=options["page_size"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except OS2moError as exc:
            raise CommandError(
                _("%(problem)s Pass --url or set the setting.") % {"problem": exc}
            ) from exc
        try:
            return sync_from_os2mo(
                client=client,
                hierarchy=options["hierarchy"] or settings.PEJLING_OS2MO_HIERARCHY or None,
                at=options["date"],
                level_map=_level_map(options["level"]),
                by=by,
                dry_run=options["dry_run"],
            )
        except OS2moError as exc:
            raise CommandError(_("Nothing was changed: %(problem)s") % {"problem": exc}) from exc

    def _file(self, options: dict[str, Any], by: Any) -> SyncReport:
        path: Path | None = options["file"]
        if path is None:
            raise CommandError(_("--source file needs the FILE to read."))
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        # Judged by its size before it is read; the run is recorded either way.
        report = sync_from_path(
            path, close_missing=options["close_missing"], by=by, dry_run=options["dry_run"]
        )
        if report.errors:
            for error in report.errors[:MAX_ERRORS_SHOWN]:
                self.stderr.write(str(error))
            if len(report.errors) > MAX_ERRORS_SHOWN:
                more = len(report.errors) - MAX_ERRORS_SHOWN
                self.stderr.write(_("... and %(count)s more") % {"count": more})
            raise CommandError(
                _("Nothing was changed: %(count)s errors in %(file)s.")
                % {"count": len(report.errors), "file": path.name}
            )
        return report
