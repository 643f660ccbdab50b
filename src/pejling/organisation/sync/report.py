"""What a sync wants (``SourceUnit``), what it did (``SyncReport``) and what was wrong (``RowError``).

``RowError`` has the shape of the KPI imports' errors (row, column, stable code, detail, and a
translated message per code), so the command line and any page show both alike. It is kept in
no language (a code, and the figures, names and texts a message names as ``params``) and
written in the reader's language only when shown: a run recorded by the nightly task reads in
Swedish to a Swedish reader of the sync runs page and in Danish to a Danish one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from django.utils.translation import gettext, gettext_lazy, ngettext, ngettext_lazy

from pejling.core import figures
from pejling.core.tabular import escape_control_characters

MESSAGES = {
    "missing_column": gettext_lazy(
        "A required column is missing (unit code, name, parent code and level)."
    ),
    "missing_value": gettext_lazy("The cell is empty."),
    "control_character": gettext_lazy(
        "The cell holds a control character (such as a NUL byte), which is not allowed."
    ),
    "too_long": gettext_lazy("The text is too long."),
    "bad_code": gettext_lazy("A unit code cannot contain a slash (/)."),
    "duplicate_code": gettext_lazy("The same unit code occurs more than once in the file."),
    "missing_parent": gettext_lazy("No unit in the file or in Pejling has this parent code."),
    "cycle": gettext_lazy("The parent codes form a cycle: a unit would be its own ancestor."),
    "unknown_level": gettext_lazy("No unit level has this depth or name."),
    "bad_date": gettext_lazy("The date is not a date such as 2026-12-31 or 31.12.2026."),
    "parent_not_in_file": gettext_lazy(
        "This parent unit is not in the file, and units missing from the file are being closed."
    ),
    "unsupported_format": gettext_lazy(
        "Only CSV and Excel (xlsx) files can be read: save the sheet as CSV or XLSX."
    ),
    "unreadable_file": gettext_lazy("The file could not be read."),
    "broken_csv": gettext_lazy("The file could not be read: its CSV text is broken."),
    "broken_workbook": gettext_lazy(
        "The file could not be read as an Excel workbook: it is damaged or not an xlsx file."
    ),
    "file_too_large": gettext_lazy("The file is too large."),
    "empty_file": gettext_lazy("The file holds no units."),
    "xlsx_too_large": gettext_lazy(
        "The Excel file unpacks to too much data (an xlsx file is a zip archive)."
    ),
    "too_many_columns": gettext_lazy("The file has too many columns."),
    "too_many_rows": gettext_lazy("The file has too many rows."),
    "cell_too_long": gettext_lazy("The cell is too long."),
    # Runs recorded before OS2mo's failures had codes of their own (the detail in English).
    "os2mo_failed": gettext_lazy("OS2mo could not be read; nothing was changed."),
    # OS2mo's failures (:class:`.os2mo.OS2moError`), each filled in with its ``params``.
    "os2mo_no_url": gettext_lazy("PEJLING_OS2MO_URL is not set: there is no OS2mo to read from."),
    "os2mo_unreachable": gettext_lazy("Could not reach OS2mo at %(endpoint)s: %(problem)s."),
    "os2mo_http": gettext_lazy("OS2mo at %(endpoint)s answered HTTP %(status)s %(reason)s."),
    "os2mo_http_token": gettext_lazy(
        "OS2mo at %(endpoint)s answered HTTP %(status)s %(reason)s. Check PEJLING_OS2MO_TOKEN."
    ),
    "os2mo_too_large": gettext_lazy("The answer from OS2mo at %(endpoint)s is too large."),
    "os2mo_not_json": gettext_lazy("OS2mo at %(endpoint)s did not answer with JSON."),
    "os2mo_no_data": gettext_lazy("OS2mo at %(endpoint)s answered without data."),
    "os2mo_refused": gettext_lazy("OS2mo refused the request: %(answer)s."),
    "os2mo_token_missing": gettext_lazy(
        "OS2mo refused the request: %(answer)s. Set PEJLING_OS2MO_TOKEN to a valid access token."
    ),
    "os2mo_token_refused": gettext_lazy(
        "OS2mo refused the request: %(answer)s. The access token was refused or has expired."
    ),
    "os2mo_no_page": gettext_lazy("OS2mo's answer holds no page of organisation units."),
    "os2mo_bad_unit": gettext_lazy(
        "OS2mo sent an organisation unit that could not be read: %(unit)s"
    ),
    "os2mo_cursor_repeated": gettext_lazy(
        "OS2mo returned the same page twice, so reading stopped."
    ),
    # "count" picks the plural form; "pages" is the same number as the reader writes it.
    "os2mo_too_many_pages": ngettext_lazy(
        "OS2mo returned more than %(pages)s page, so reading stopped.",
        "OS2mo returned more than %(pages)s pages, so reading stopped.",
        "count",
    ),
    "os2mo_unknown_hierarchy": gettext_lazy(
        "No unit in OS2mo has the hierarchy label %(label)s; nothing was changed."
    ),
    "os2mo_unknown_hierarchy_labels": gettext_lazy(
        "No unit in OS2mo has the hierarchy label %(label)s; nothing was changed. "
        "Labels in use: %(labels)s."
    ),
    "os2mo_no_units": gettext_lazy("OS2mo returned no organisation units; nothing was changed."),
    "os2mo_cycle": gettext_lazy(
        "OS2mo's units form a parent cycle; nothing was changed: %(cycle)s"
    ),
    "os2mo_no_free_code": gettext_lazy("No free unit code for the OS2mo unit %(unit)s."),
    "sync_failed": gettext_lazy(
        "The sync failed unexpectedly; nothing was changed. The server's log says why."
    ),
}

FIRST_IN_ROW = gettext_lazy("It first occurs in row %(row)s.")
# A missing column's error, with the headers accepted (``params["accepted"]``).
ACCEPTED_HEADERS = gettext_lazy("Accepted headers include %(accepted)s.")

# The limits counted in bytes (the others count columns, rows or characters).
BYTE_LIMITS = frozenset({"file_too_large", "xlsx_too_large", "os2mo_too_large"})
# For a limit: the sentence naming it, filled in with the limit kept on the error.
LIMIT_SENTENCES = {
    "file_too_large": gettext_lazy("At most %(limit)s can be read."),
    "xlsx_too_large": gettext_lazy("At most %(limit)s unpacked is read."),
    "too_many_columns": gettext_lazy("At most %(limit)s columns are read."),
    "too_many_rows": gettext_lazy("At most %(limit)s units can be read at once."),
    "cell_too_long": gettext_lazy("A cell may hold at most %(limit)s characters."),
    "too_long": gettext_lazy("At most %(limit)s characters are allowed here."),
    "os2mo_too_large": gettext_lazy("At most %(limit)s is read."),
}


def filled(template: Any, params: Mapping[str, Any]) -> str:
    """A message filled in with the ``params`` kept on its error, as the reader writes them:
    whole numbers grouped (``10 000``), but ``count`` kept a number to choose the plural form."""
    shown = {
        key: figures.grouped(value)
        if isinstance(value, int) and not isinstance(value, bool)
        else value
        for key, value in params.items()
    }
    if "count" in params:
        shown["count"] = params["count"]
    try:
        return str(template % shown)
    except (KeyError, TypeError, ValueError):  # params kept by another version of the message
        return str(template)


@dataclass(frozen=True)
class RowError:
    """A bad row (``row`` is 1-based as a spreadsheet shows it; the header is row 1)."""

    row: int | None
    column: str | None
    code: str
    detail: str = ""  # what was found: a cell's text, or for a limit a figure (core/figures)
    limit: str = ""  # the limit a file broke, a whole number (bytes for BYTE_LIMITS)
    other_row: int | None = None  # the row a duplicate repeats
    # What the message names, in no language: a URL, a label, OS2mo's own words, a number.
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def message(self) -> str:
        template = MESSAGES.get(self.code, self.code)
        text = filled(template, self.params) if self.params else str(template)
        if "accepted" in self.params:
            text += " " + filled(ACCEPTED_HEADERS, self.params)
        if self.other_row is not None:
            text += " " + str(FIRST_IN_ROW) % {"row": self.other_row}
        if self.limit and self.code in LIMIT_SENTENCES:
            limit = figures.figure_text(self.limit, size=self.code in BYTE_LIMITS)
            text += " " + str(LIMIT_SENTENCES[self.code]) % {"limit": limit}
        return text

    @property
    def found_text(self) -> str:
        """What was found, for the reader (a limit's figure as they write numbers)."""
        if self.code in LIMIT_SENTENCES:
            return figures.figure_text(self.detail, size=self.code in BYTE_LIMITS)
        return self.detail

    def as_dict(self) -> dict[str, Any]:
        column = None if self.column is None else escape_control_characters(self.column)
        detail = escape_control_characters(self.detail)
        data: dict[str, Any] = {
            "row": self.row,
            "column": column,
            "code": self.code,
            "detail": detail,
        }
        if self.limit:
            data["limit"] = self.limit
        if self.other_row is not None:
            data["other_row"] = self.other_row
        if self.params:
            data["params"] = {
                key: escape_control_characters(value) if isinstance(value, str) else value
                for key, value in self.params.items()
            }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowError:
        return cls(
            data.get("row"),
            data.get("column"),
            data["code"],
            data.get("detail", ""),
            data.get("limit", ""),
            data.get("other_row"),
            data.get("params") or {},
        )

    def __str__(self) -> str:
        where = figures.place_text(self.row, self.column)
        if self.code in LIMIT_SENTENCES:
            found = figures.found_sentence(self.detail, size=self.code in BYTE_LIMITS)
            text = f"{self.message} {found}".rstrip()
        else:
            text = self.message + (f" ({self.detail})" if self.detail else "")
        return f"{where}: {text}" if where else text


@dataclass(frozen=True)
class LevelSpec:
    """The level a unit should have: the ``UnitLevel`` of ``depth``, created with ``name``
    when missing (``name`` empty: a generic "Level N")."""

    depth: int
    name: str = ""


@dataclass(frozen=True)
class SourceUnit:
    """One unit as the source (OS2mo or a file) says it should be.

    ``key`` identifies the unit in the source (the OS2mo UUID, or the code in a file) and
    ``parent_key`` its parent's key (None for a root). ``code`` is the code the unit should
    have; for OS2mo it is chosen later (``None`` here), since user keys need not be unique.
    """

    key: str
    parent_key: str | None
    name: str
    level: LevelSpec
    code: str | None = None
    external_id: UUID | None = None
    unit_type: str | None = None  # None: leave as it is
    closed_on: date | None = None
    row: int | None = None


@dataclass(frozen=True)
class Change:
    """One unit the sync created, changed, moved or closed, for listing (e.g. a dry run)."""

    action: str  # "created", "updated", "moved", "closed"
    code: str
    name: str
    detail: str = ""


@dataclass
class SyncReport:
    """The outcome of a sync. Each unit is counted once: created, moved (its parent changed,
    whatever else changed too), updated (other fields), closed, or unchanged. With ``errors``
    nothing was written."""

    source: str
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    moved: int = 0
    closed: int = 0
    unchanged: int = 0
    levels_created: int = 0
    history_rows: int = 0
    fetched: int = 0
    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "moved": self.moved,
            "closed": self.closed,
            "unchanged": self.unchanged,
            "levels_created": self.levels_created,
            "history_rows": self.history_rows,
        }

    def summary(self) -> str:
        """The counts in a line, in the active language."""
        text = (
            gettext(
                "%(created)s created, %(updated)s updated, %(moved)s moved, %(closed)s closed, "
                "%(unchanged)s unchanged"
            )
            % self.counts()
        )
        if self.levels_created:
            text += ", " + ngettext(
                "%(count)s unit level created",
                "%(count)s unit levels created",
                self.levels_created,
            ) % {"count": self.levels_created}
        history = ngettext("%(count)s history row", "%(count)s history rows", self.history_rows) % {
            "count": self.history_rows
        }
        return f"{text}; {history}"
