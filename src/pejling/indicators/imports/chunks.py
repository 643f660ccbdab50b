"""A KPI file read in chunks from disk, so an import of millions of rows stays in bounded memory.

A CSV file is cut at line ends outside quoted cells (an even number of ``"`` before the cut:
a quoted cell may hold a line break). Every chunk after the first starts with the file's own
header part (its BOM, ``sep=`` line, any blank lines and the header row), so each chunk is a
small CSV file of its own that the readers (the fast one and the exact one) read as they read a
whole file; ``row_offset`` turns a chunk's row numbers into the file's. Two things a reader
settles from the start of a file are settled once, from the file's start, and handed to every
chunk: the decimal mark (guessed from the first rows' values) and nothing else needs to be
(the separator comes from the header line each chunk repeats).

XLSX files (at most 1,048,576 rows a sheet, and the uncompressed size capped) and UTF-16 text
(its line ends are two bytes) are read whole, as one chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pejling.indicators.sources.files import file_kind

# Bytes read per chunk (whole lines are added up to the next cut). About 150,000 rows of a
# typical KPI file: reading and checking one takes the process about 160 MB above its resting
# size at its peak (8 MB chunks: about 225 MB, measured), and a chunk's statements are few
# and the same whatever its rows, so smaller chunks cost little time. The tests make it tiny.
CHUNK_BYTES = 4 * 1024 * 1024
# Bytes read from the start of a file to find its header part and guess its decimal mark.
HEAD_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Chunk:
    """A part of a file, readable as a file: ``data``; its rows are the file's rows
    ``row_offset`` further on (the header is row 1 in both)."""

    data: bytes
    row_offset: int
    first: bool
    last: bool
    # The rows of the header part every chunk starts with (its header is the last of them);
    # 0 for a file read whole.
    header_rows: int = 0
    # How far into the file this chunk ends, in bytes (for progress: ``end`` of ``size``).
    end: int = 0
    size: int = 0


def _records(data: bytes) -> int:
    """How many rows end in ``data`` (line ends outside quoted cells), ``data`` starting
    outside quotes."""
    if b'"' not in data:
        return data.count(b"\n")
    parts = data.split(b'"')
    inside = sum(part.count(b"\n") for part in parts[1::2])
    return data.count(b"\n") - inside


def _cut(data: bytes, quotes_before: int) -> int:
    """Where to cut ``data`` (just after a line end outside quotes), or 0 when no line ends
    there. ``quotes_before``: the parity of quotes before ``data``."""
    end = len(data)
    while True:
        at = data.rfind(b"\n", 0, end)
        if at < 0:
            return 0
        if (quotes_before + data.count(b'"', 0, at)) % 2 == 0:
            return at + 1
        end = at


def _header_part(head: bytes) -> bytes | None:
    """The file's start up to and with its header row (the first row that is not blank, after
    any BOM and ``sep=`` line); None when it is not within ``head``."""
    start = 0
    if head.startswith(b"\xef\xbb\xbf"):
        start = 3
    if head[start : start + 4].lower() == b"sep=" and head[start + 5 : start + 6] in (
        b"\r",
        b"\n",
    ):
        start = head.index(b"\n", start) + 1
    quotes = 0
    position = start
    while True:
        at = head.find(b"\n", position)
        if at < 0:
            return None
        line = head[position:at]
        quotes += line.count(b'"')
        if quotes % 2 == 0 and line.strip(b" \t\r"):
            return head[: at + 1]
        position = at + 1


def iter_chunks(path: Path, filename: str, *, chunk_bytes: int | None = None) -> Iterator[Chunk]:
    """The file in chunks (see the module docstring); a file that is not cut is one chunk."""
    size = path.stat().st_size
    step = chunk_bytes or CHUNK_BYTES
    with path.open("rb") as file:
        head = file.read(min(size, max(step, HEAD_BYTES)))
        whole = file_kind(filename, head) != "csv" or head.startswith((b"\xff\xfe", b"\xfe\xff"))
        header = None if whole else _header_part(head)
        if whole or header is None or size <= step:
            yield Chunk(head + file.read(), 0, first=True, last=True, end=size, size=size)
            return
        file.seek(0)
        header_rows = _records(header) - (1 if b"sep=" in header[:8].lower() else 0)
        offset = 0
        pending = b""
        first = True
        while True:
            block = file.read(step)
            at_end = len(block) < step or file.tell() >= size
            data = pending + block
            cut = len(data) if at_end else _cut(data, 0)
            if not at_end and (cut == 0 or (first and cut <= len(header))):
                pending = data  # no line end yet (or only the header): read on
                continue
            piece, pending = data[:cut], data[cut:]
            # Each piece starts outside quotes: it was cut so.
            body_rows = _records(piece)
            if first:
                # Its own header part's rows are not data rows.
                body_rows -= _records(header)
                chunk_data = piece
            else:
                chunk_data = header + piece
            last = at_end and not pending
            yield Chunk(
                chunk_data,
                offset,
                first=first,
                last=last,
                header_rows=header_rows,
                end=file.tell() - len(pending),
                size=size,
            )
            offset += body_rows
            first = False
            if last:
                return


__all__ = ["CHUNK_BYTES", "Chunk", "iter_chunks"]
