"""Where in a file, and the figures of a file's limits (a limit, and what was found) as the reader writes them.

One home for the KPI imports (``indicators/imports/messages.py``) and the organisation file
sync (``organisation/sync/report.py``): a figure is kept on an error as plain digits (in no
language: ``10000001``, bytes for a size), with ``+`` after it when the check stopped there
(the file holds at least that), and written only when shown: ``10 000 001`` in Swedish,
``10,000,001`` in English, ``200 MB``, "at least 201".
"""

from __future__ import annotations

import re

from django.utils import formats
from django.utils.translation import gettext_lazy

AT_LEAST = gettext_lazy("at least %(number)s")
FOUND = gettext_lazy("Found: %(found)s.")
ROW_AND_COLUMN = gettext_lazy("row %(row)s, column %(column)s")
ROW = gettext_lazy("row %(row)s")
COLUMN = gettext_lazy("column %(column)s")
_FIGURE = re.compile(r"(\d+)(\+?)")


def place_text(row: int | None, column: str | None) -> str:
    """Where in a file a problem is, in the reader's language: ``row 3, column Namn``."""
    if row and column:
        return str(ROW_AND_COLUMN) % {"row": row, "column": column}
    if row:
        return str(ROW) % {"row": row}
    if column:
        return str(COLUMN) % {"column": column}
    return ""


def found_figure(number: int, *, at_least: bool = False) -> str:
    """A figure as kept on an error: digits, ``+`` after them for a lower bound."""
    return f"{number}+" if at_least else str(number)


def figure_number(figure: str) -> int | None:
    """The number a kept figure holds (a lower bound for ``201+``), or None for other text."""
    match = _FIGURE.fullmatch(figure)
    return int(match.group(1)) if match else None


def grouped(number: float) -> str:
    """A number with the reader's thousands separator and decimal mark."""
    return formats.number_format(number, use_l10n=True, force_grouping=True)


def size_text(size: int) -> str:
    """Bytes as the limits are written: ``200 MB``, ``1,5 MB`` in Swedish, ``64 kB``, ``900 B``."""
    for unit, name in ((1024 * 1024, "MB"), (1024, "kB")):
        if size >= unit:
            shown = round(size / unit, 1)
            return f"{grouped(int(shown) if shown.is_integer() else shown)} {name}"
    return f"{grouped(size)} B"


def figure_text(figure: str, *, size: bool = False) -> str:
    """A kept figure for the reader (``size``: it counts bytes); other text as it is (a cell's
    text, or a figure kept as text by an earlier version)."""
    match = _FIGURE.fullmatch(figure)
    if match is None:
        return figure
    number = int(match.group(1))
    text = size_text(number) if size else grouped(number)
    if match.group(2):
        return str(AT_LEAST) % {"number": text}
    return text


def found_sentence(figure: str, *, size: bool = False) -> str:
    """``Found: 10,000,001.`` in the reader's language ("" when ``figure`` is no figure)."""
    if _FIGURE.fullmatch(figure) is None:
        return ""
    return str(FOUND) % {"found": figure_text(figure, size=size)}


__all__ = [
    "figure_number",
    "figure_text",
    "found_figure",
    "found_sentence",
    "grouped",
    "place_text",
    "size_text",
]
