"""A tiny JSON/CSV HTTP client on urllib, with an injectable opener for tests."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024
USER_AGENT = "Pejling KPI import"


class Opener(Protocol):
    """What we need from :class:`urllib.request.OpenerDirector`."""

    def open(
        self, fullurl: urllib.request.Request, data: bytes | None = None, timeout: float = ...
    ) -> Any: ...


class SourceHttpError(RuntimeError):
    """The remote answer was unusable (too large, or a URL outside the base)."""


class HttpClient:
    """Base for the statistics API clients.

    ``base_url`` is a constructor argument so tests, proxies and mirrors can
    point elsewhere. Only ``http`` and ``https`` URLs are accepted, and
    paging links are only followed when they stay on the base URL's host.
    """

    def __init__(
        self,
        base_url: str,
        *,
        opener: Opener | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}.")
        self.base_url = base_url.rstrip("/")
        self._host = parts.hostname
        self._opener: Opener = opener if opener is not None else urllib.request.build_opener()
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes

    def url(
        self, path: str, params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None
    ) -> str:
        """``base_url`` + ``/path`` + query string (``[`` ``]`` ``,`` kept readable)."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        if params:
            url += "?" + urllib.parse.urlencode(params, safe="[],*")
        return url

    def check_url(self, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname != self._host:
            raise SourceHttpError(f"Refusing to fetch {url!r}: not on {self._host}.")
        return url

    def _send(self, request: urllib.request.Request) -> bytes:
        # The URL was checked against the configured base (http/https only).
        response = self._opener.open(request, timeout=self.timeout)
        with response:
            body: bytes = response.read(self.max_response_bytes + 1)
        if len(body) > self.max_response_bytes:
            raise SourceHttpError(
                f"Response from {request.full_url} is larger than {self.max_response_bytes} bytes."
            )
        return body

    def get(self, url: str, accept: str = "application/json") -> bytes:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in check_url
            self.check_url(url), headers={"Accept": accept, "User-Agent": USER_AGENT}
        )
        return self._send(request)

    def post_json(self, url: str, body: Any, accept: str = "application/json") -> bytes:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in check_url
            self.check_url(url),
            data=json.dumps(body).encode("utf-8"),
            headers={
                "Accept": accept,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
            method="POST",
        )
        return self._send(request)
