"""What an import says about a bad row or file: a stored :class:`RowError` and its translated
message, for the parsers' stable error codes and our own mapping checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy

from pejling.core import figures
from pejling.core.tabular import escape_control_characters
from pejling.indicators.models import ImportBatch

# Translated messages for the parsers' stable error codes and our own mapping checks.
MESSAGES = {
    "missing_column": gettext_lazy(
        "A required column is missing (unit, period, value, and indicator unless one is chosen)."
    ),
    "missing_value": gettext_lazy("The cell is empty."),
    "control_character": gettext_lazy(
        "The cell holds a control character (such as a NUL byte), which is not allowed."
    ),
    "not_a_number": gettext_lazy("The value is not a number."),
    "unknown_period": gettext_lazy(
        "The period is not one of 2019, 2019-03, 2019M03, 2019T1 or 2019Q1."
    ),
    "negative_count": gettext_lazy(
        "The value is negative; this indicator only takes values of zero or more."
    ),
    "duplicate_row": gettext_lazy(
        "The same indicator, unit and period occur more than once in the file."
    ),
    "unknown_category": gettext_lazy("The source has no such category."),
    "ambiguous_dimension": gettext_lazy("The source has several values here and none was chosen."),
    "unknown_unit": gettext_lazy("No unit has this code or name."),
    "ambiguous_unit": gettext_lazy("Several units have this name; use the unit code."),
    "unknown_indicator": gettext_lazy("No indicator has this code."),
    "derived_indicator": gettext_lazy(
        "This indicator is computed from others; import its numerator and denominator instead."
    ),
    "wrong_periodicity": gettext_lazy("The period does not match the indicator's periodicity."),
    "out_of_range": gettext_lazy(
        "The number is too large: at most 14 digits before the decimal point."
    ),
    "unsupported_format": gettext_lazy("Only CSV and Excel (xlsx) files can be imported."),
    "unreadable_file": gettext_lazy("The file could not be read."),
    "file_too_large": gettext_lazy("The file is too large."),
    "too_many_columns": gettext_lazy(
        "The file has too many columns (four are needed: indicator, unit, period and value)."
    ),
    "too_many_rows": gettext_lazy("The file has too many rows."),
    "cell_too_long": gettext_lazy("The cell is too long."),
    "xlsx_too_large": gettext_lazy(
        "The Excel file unpacks to too much data (an xlsx file is a zip archive)."
    ),
    "invalid_payload": gettext_lazy("The response does not have the expected structure."),
    "empty_file": gettext_lazy("The file holds no values."),
    "interrupted": gettext_lazy(
        "The import was interrupted: the background worker stopped while writing it. Nothing"
        " was written; confirm again to retry."
    ),
    "job_failed": gettext_lazy(
        "The import failed unexpectedly while writing. Nothing was written; confirm again to"
        " retry, or tell your administrator if it fails again."
    ),
    "check_interrupted": gettext_lazy(
        "The check of the file was interrupted: the background worker stopped while reading"
        " it. Nothing was written; check it again to retry."
    ),
    "check_failed": gettext_lazy(
        "The check of the file failed unexpectedly. Nothing was written; check it again to"
        " retry, or tell your administrator if it fails again."
    ),
    "file_missing": gettext_lazy("The uploaded file is no longer stored; upload it again."),
}

# The limits counted in bytes (the others count columns, rows or characters).
BYTE_LIMITS = frozenset({"file_too_large", "xlsx_too_large"})


def figure_text(code: str, figure: str) -> str:
    """A figure kept on an error of a limit (the limit, or what was found) as the reader
    writes it (:mod:`pejling.core.figures`, sizes for :data:`BYTE_LIMITS`)."""
    return figures.figure_text(figure, size=code in BYTE_LIMITS)


def limit_text(code: str, limit: str) -> str:
    """A limit kept on an error as the reader writes it (:func:`figure_text`)."""
    return figure_text(code, limit)


# For the codes of a limit (``imports/limits.py``): the sentence naming the limit, filled in
# with the limit in force when the file was refused (kept on the error).
LIMIT_SENTENCES = {
    "file_too_large": gettext_lazy("At most %(limit)s can be uploaded."),
    "too_many_columns": gettext_lazy("At most %(limit)s columns are read."),
    "too_many_rows": gettext_lazy("At most %(limit)s rows can be imported at once."),
    "cell_too_long": gettext_lazy("A cell may hold at most %(limit)s characters."),
    "xlsx_too_large": gettext_lazy("At most %(limit)s unpacked is read."),
}


# Our own names of the columns (errors found after parsing); a parser's errors name the column
# by its header as written in the file.
COLUMN_LABELS = {
    "indicator": gettext_lazy("Indicator"),
    "unit": gettext_lazy("Unit"),
    "period": gettext_lazy("Period"),
    "value": gettext_lazy("Value"),
}


# Parser error codes whose translated message says all there is when no cell text was found.
SELF_EXPLAINED_CODES = frozenset({"missing_value", "empty_file"})


@dataclass(frozen=True)
class RowError:
    """A problem with one row (``row``) or the whole file (``row`` None), stored as JSON.

    ``detail`` is what was found (a cell's text, in no language, or an English explanation
    from a national-statistics adapter); ``other_row`` is the row a duplicate repeats.
    """

    row: int | None
    column: str | None
    code: str
    detail: str = ""
    other_row: int | None = None
    limit: str = ""  # the limit a file broke, as shown (``imports/limits.py``)

    @property
    def message(self) -> str:
        text = str(MESSAGES.get(self.code, self.code))
        if self.limit and self.code in LIMIT_SENTENCES:
            limit = limit_text(self.code, self.limit)
            text += " " + str(LIMIT_SENTENCES[self.code]) % {"limit": limit}
        return text

    @property
    def found_text(self) -> str:
        """What was found, for the reader: a limit's figure written as they write numbers and
        sizes (:func:`figure_text`), anything else (a cell's text) as it is."""
        if self.code in LIMIT_SENTENCES:
            return figure_text(self.code, self.detail)
        return self.detail

    @property
    def message_with_found(self) -> str:
        """:attr:`message`, and for a limit the figure found (the API's human message)."""
        if self.code in LIMIT_SENTENCES:
            found = figures.found_sentence(self.detail, size=self.code in BYTE_LIMITS)
            if found:
                return f"{self.message} {found}"
        return self.message

    @property
    def found_number(self) -> int | None:
        """A limit's figure found, as a number (a lower bound when :attr:`found_text` says
        "at least"); None for any other error."""
        return figures.figure_number(self.detail) if self.code in LIMIT_SENTENCES else None

    @property
    def limit_number(self) -> int | None:
        return int(self.limit) if self.limit.isdigit() else None

    @property
    def column_label(self) -> str:
        if self.column is None:
            return ""
        return str(COLUMN_LABELS.get(self.column, self.column))

    def describe(self, *, nowhere: str = "") -> str:
        """One line for a terminal: where, what is wrong, what was found."""
        text = f"{figures.place_text(self.row, self.column) or nowhere}: {self.message}"
        if self.other_row:
            text += f" (first in row {self.other_row})"
        return text + (f" ({self.found_text})" if self.detail else "")

    def as_dict(self) -> dict[str, Any]:
        """As stored: control characters shown as ``\\xNN`` (PostgreSQL keeps no NUL)."""
        column = None if self.column is None else escape_control_characters(self.column)
        detail = escape_control_characters(self.detail)
        data = {"row": self.row, "column": column, "code": self.code, "detail": detail}
        if self.other_row is not None:
            data["other_row"] = self.other_row
        if self.limit:
            data["limit"] = self.limit
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowError:
        return cls(
            data.get("row"),
            data.get("column"),
            data["code"],
            data.get("detail", ""),
            data.get("other_row"),
            data.get("limit", ""),
        )


def batch_errors(batch: ImportBatch) -> list[RowError]:
    return [RowError.from_dict(e) for e in batch.errors]


def iter_errors(errors: Iterable[dict[str, Any]]) -> list[RowError]:
    return [RowError.from_dict(e) for e in errors]
