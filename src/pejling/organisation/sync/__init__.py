"""Organisation sync: keep the unit tree in line with OS2mo or with a CSV/Excel file.

``sync_from_os2mo`` and ``sync_from_file`` (in :mod:`.from_sources`) are the entry points; the
``pejling sync-org`` command and the ``sync_os2mo`` task (:mod:`.tasks`) call them.
"""

from .from_sources import sync_from_file, sync_from_os2mo, sync_from_path
from .os2mo import OrgUnit, OS2moClient, OS2moError
from .report import Change, RowError, SyncReport

__all__ = [
    "Change",
    "OS2moClient",
    "OS2moError",
    "OrgUnit",
    "RowError",
    "SyncReport",
    "sync_from_file",
    "sync_from_os2mo",
    "sync_from_path",
]
