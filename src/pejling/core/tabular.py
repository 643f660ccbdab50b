"""Reading spreadsheets people upload: CSV text decoding, separator sniffing, header cells, and
the zip-bomb check done before an XLSX workbook is opened.

Plain Python without Django and without any domain knowledge: the KPI file parser
(``indicators/sources/files.py``) and the organisation file sync (``organisation/sync/files.py``)
both read their files with these.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

BOM_UTF8 = b"\xef\xbb\xbf"

# Control characters (C0 and DEL): never meant in a cell, an address or a name; PostgreSQL
# refuses NUL in text outright. Tab, line feed and carriage return are allowed where a text
# may hold them (a cell with a line break, a pasted search), never in a code.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_NOT_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(text: str, *, allow_breaks: bool = False) -> bool:
    """Whether ``text`` holds a control character (tab and line breaks allowed if asked)."""
    return (_CONTROL_NOT_BREAKS if allow_breaks else _CONTROL).search(text) is not None


def escape_control_characters(text: str) -> str:
    """``text`` with each control character shown as ``\\xNN``, safe to store and show."""
    return _CONTROL_NOT_BREAKS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@dataclass(frozen=True, slots=True)
class TableProblem:
    """Why a whole file cannot be read: a stable ``code`` and English text for people."""

    code: str
    message: str


def decode_text_as(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes and say how: ``(text, encoding)``; see :func:`decode_text`.

    ``encoding`` is ``"utf-8"`` when the text is ``data`` (less a UTF-8 BOM) read as UTF-8, so a
    caller may use those bytes directly.
    """
    if data.startswith(BOM_UTF8):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # A broken UTF-16 file (odd length, lone surrogates) still decodes; its rows then fail.
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # Five byte values are undefined in cp1252; latin-1 maps everything.
        return data.decode("latin-1"), "latin-1"


def decode_text(data: bytes) -> str:
    """Decode CSV bytes: BOM-marked UTF-8/UTF-16, else UTF-8, else Windows-1252."""
    return decode_text_as(data)[0]


def strip_preamble(text: str) -> tuple[str, str | None]:
    """Drop a BOM character and Excel's ``sep=;`` hint line; return the text and that separator.

    Excel hides the hint line, so rows are numbered without it.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if len(text) >= 5 and text[:4].lower() == "sep=" and text[5:6] in ("\r", "\n", ""):
        return text[5:].lstrip("\r\n"), text[4]
    return text, None


def sniff_delimiter(text: str) -> str:
    """Pick ``;``, tab or ``,`` by counting them in the first non-blank line.

    Characters inside double quotes are not counted. Ties prefer ``;`` then
    tab then ``,`` (a Nordic Excel export uses ``;``).
    """
    line = _first_non_blank_line(text)
    if line is None:
        return ","
    counts = {";": 0, "\t": 0, ",": 0}
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts.values())
    if best == 0:
        return ","
    return next(d for d in (";", "\t", ",") if counts[d] == best)


def _first_non_blank_line(text: str) -> str | None:
    """``next(line for line in text.splitlines() if line.strip())``, without splitting a
    whole large file: growing prefixes are split, and a prefix's last line only counts once
    the prefix is the whole text (it may go on beyond the prefix)."""
    size = 1 << 16
    while True:
        whole = size >= len(text)
        lines = text[:size].splitlines()
        for line in lines if whole else lines[:-1]:
            if line.strip():
                return line
        if whole:
            return None
        size *= 4


def normalise_header(text: object) -> str:
    """Case-fold a header cell and turn spaces and hyphens into underscores."""
    s = str(text).replace("\ufeff", "").strip().casefold()
    return "_".join(s.replace("-", " ").split())


def xlsx_too_large(data: bytes, max_uncompressed_bytes: int) -> TableProblem | None:
    """Check an XLSX archive before opening it; return the problem or None.

    The sum of the members' declared uncompressed sizes must not exceed the
    limit. Python's zipfile never inflates a member past its declared size,
    so the declared sizes are a real bound.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return TableProblem("unreadable_file", f"Not a valid XLSX (zip) file: {exc}.")
    total = sum(info.file_size for info in infos)
    if total > max_uncompressed_bytes:
        return TableProblem(
            "file_too_large",
            f"The XLSX file unpacks to {total} bytes, more than the limit of "
            f"{max_uncompressed_bytes} bytes.",
        )
    return None


def cell_place(row: int | None, column: str | None) -> str:
    """Where in a file a problem is, for a terminal: ``row 3, column unit`` (or less)."""
    parts = [f"row {row}" if row else "", f"column {column}" if column else ""]
    return ", ".join(part for part in parts if part)


__all__ = [
    "TableProblem",
    "cell_place",
    "decode_text",
    "decode_text_as",
    "normalise_header",
    "sniff_delimiter",
    "strip_preamble",
    "xlsx_too_large",
]
