"""Uploaded files where the worker finds them: the "imports" storage (``settings.STORAGES``).

A file is stored once, when its upload arrives (moved, not copied, from the upload handler's
temporary file when both are on one file system), kept with its batch after the import, and
deleted with the batch. The worker reads it by a local path: the file itself on a file-system
storage (a local disk or a mount shared by the servers), else a temporary copy.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.utils import timezone
from django.utils.crypto import get_random_string

ALIAS = "imports"


def storage() -> Storage:
    return storages[ALIAS]


def incoming_dir() -> str | None:
    """Where the upload handler writes an arriving file: beside the stored ones when the
    storage is a local directory (the file is then renamed into place), else the system's
    temporary directory."""
    try:
        location = Path(storage().path("incoming"))
    except NotImplementedError:
        return None
    location.mkdir(parents=True, exist_ok=True)
    return str(location)


def store(content: IO[Any] | File, filename: str) -> str:
    """Keep an uploaded file; its name in the storage. Names are random: a person's file
    name is kept on the batch, never used as a path."""
    suffix = Path(filename).suffix.lower()[:8]
    if not suffix.isascii() or not suffix[1:].isalnum():
        suffix = ""
    name = f"{timezone.now():%Y/%m}/{get_random_string(24)}{suffix}"
    wrapped = content if isinstance(content, File) else File(content)
    return storage().save(name, wrapped)


@contextmanager
def local_path(name: str) -> Iterator[Path]:
    """A stored file as a path on this machine, for as long as the block runs."""
    found = storage()
    try:
        path = Path(found.path(name))
    except NotImplementedError:
        path = None
    if path is not None:
        yield path
        return
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as copy:
        with found.open(name, "rb") as source:
            shutil.copyfileobj(source, copy, length=1024 * 1024)
        copy.flush()
        yield Path(copy.name)


def exists(name: str) -> bool:
    return bool(name) and storage().exists(name)


def delete(name: str) -> None:
    if name:
        storage().delete(name)
