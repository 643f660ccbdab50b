"""KPI files arriving: streamed to disk, and cut off at the size limit while they arrive.

:class:`LimitedUploadHandler` writes an uploaded file chunk by chunk into the "imports"
storage's directory (never into memory) and stops reading the request as soon as more than
:attr:`~pejling.indicators.imports.limits.Limits.upload_bytes` arrived, or at once when the
request's Content-Length already says so; what it refused is in ``handler.refused`` (a
:class:`~pejling.indicators.imports.RowError` naming the limit) for the view to answer with.

:class:`StreamedUploadMiddleware` puts the handler on the requests of the views that take KPI
files (:data:`STREAMED_VIEWS`), before the CSRF check reads the form.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse

from pejling.indicators.imports import limits, stored
from pejling.indicators.imports.messages import RowError

# The views that take a KPI file (by URL name): the upload page and the API's file endpoint.
STREAMED_VIEWS = frozenset({"indicators:import_new", "api-v1:upload_import"})
# What a multipart request carries beside the file (boundaries, the CSRF token, a choice).
FORM_OVERHEAD = 64 * 1024


class StreamedUpload(UploadedFile):
    """An uploaded file being written to disk (as Django's ``TemporaryUploadedFile``, in the
    storage's own directory, so storing it is a rename)."""

    def __init__(
        self, name: str, content_type: str, size: int, charset: str | None, directory: str | None
    ) -> None:
        suffix = Path(name).suffix.lower()[:8] if Path(name).suffix.isascii() else ""
        file = tempfile.NamedTemporaryFile(suffix=f".upload{suffix}", dir=directory)  # noqa: SIM115
        super().__init__(file, name, content_type, size, charset)

    def temporary_file_path(self) -> str:
        return str(getattr(self.file, "name", ""))

    def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):  # moved into the storage
            if self.file is not None:
                self.file.close()


class LimitedUploadHandler(FileUploadHandler):
    chunk_size = 256 * 1024

    def __init__(self, request: HttpRequest | None = None, limit: int | None = None) -> None:
        super().__init__(request)
        self.limit = limit if limit is not None else limits.current().upload_bytes
        self.received = 0
        self.content_length: int | None = None
        self.refused: RowError | None = None
        self.upload: StreamedUpload | None = None

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        self.content_length = content_length
        return None

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        if self.content_length and self.content_length > self.limit + FORM_OVERHEAD:
            self._refuse(self.content_length)
        self.upload = StreamedUpload(
            self.file_name or "", self.content_type or "", 0, self.charset, stored.incoming_dir()
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self._refuse(self.received, at_least=True)
        assert self.upload is not None
        self.upload.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.upload is None:
            return None
        self.upload.seek(0)
        self.upload.size = file_size
        return self.upload

    def upload_interrupted(self) -> None:
        self._discard()

    def _refuse(self, size: int, *, at_least: bool = False) -> None:
        """Stop reading the request here: what came is thrown away, the rest is never read."""
        self.refused = limits.too_large(
            size, limits.Limits(upload_bytes=self.limit), at_least=at_least
        )
        self._discard()
        raise StopUpload(connection_reset=True)

    def _discard(self) -> None:
        if self.upload is not None:
            self.upload.close()
            self.upload = None


def limited_handler(request: HttpRequest) -> LimitedUploadHandler | None:
    """The request's handler, when it has one (the views read ``handler.refused``)."""
    for handler in getattr(request, "_upload_handlers", None) or ():
        if isinstance(handler, LimitedUploadHandler):
            return handler
    return None


class StreamedUploadMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> None:
        match = request.resolver_match
        if (
            request.method == "POST"
            and match is not None
            and match.view_name in STREAMED_VIEWS
            and not hasattr(request, "_files")
        ):
            request.upload_handlers = [LimitedUploadHandler(request)]
        return None
