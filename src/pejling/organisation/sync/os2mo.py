"""A small client for OS2mo's GraphQL API: the organisation units, page by page.

OS2mo (Magenta's municipal organisation register) serves GraphQL at ``{base}/graphql/v{N}``;
we pin version 29, whose schema the tests validate our query against. A request is a JSON
``POST`` with an optional ``Authorization: Bearer <token>``. Errors, a missing token among
them, come back as HTTP 200 with an ``errors`` list; we raise :class:`OS2moError` for those
as for HTTP and network failures.

Paging: ``org_units(limit, cursor)`` returns ``page_info.next_cursor``; we pass it back until it
is null. The cursor is opaque. OS2mo 58 and later use keyset cursors (null already on the last
page); older releases use offset cursors, where a full last page still has a cursor and the
next request returns no objects and a null cursor. Both end the loop the same way; a page may
also hold fewer objects than ``limit`` (even none) before the end.

An :class:`OS2moError` keeps its error as a code and what it names (``error``, a
:class:`~.report.RowError` in no language), so a recorded run shows it in its reader's language;
``str()`` writes it in the active one.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol
from uuid import UUID

from django.utils.translation import gettext

from .report import RowError

GRAPHQL_VERSION = 29
DEFAULT_PAGE_SIZE = 100
DEFAULT_TIMEOUT = 60.0
MAX_RESPONSE_BYTES = 50 * 1024 * 1024
MAX_PAGES = 10_000
USER_AGENT = "Pejling organisation sync"

ORG_UNITS_QUERY = """
query PejlingOrgUnits($limit: int, $cursor: Cursor, $filter: OrganisationUnitFilter, $at: DateTime) {
  org_units(limit: $limit, cursor: $cursor, filter: $filter) {
    objects {
      uuid
      current(at: $at) {
        uuid
        user_key
        name
        parent { uuid }
        ancestors { uuid }
        unit_type { uuid user_key name }
        org_unit_level { uuid user_key name }
        org_unit_hierarchy_model { uuid user_key name }
        validity { from to }
      }
    }
    page_info { next_cursor }
  }
}
"""

_UNAUTHENTICATED = ("not authenticated", "user is not authenticated")


class OS2moError(RuntimeError):
    """OS2mo could not be reached, refused the request, or answered with GraphQL errors.

    ``code`` is one of the sync's error codes (``report.MESSAGES``), filled in with ``params``;
    ``detail`` is what OS2mo or the system said besides, as it said it. ``messages`` are the
    GraphQL errors' own messages."""

    def __init__(
        self,
        code: str,
        *,
        detail: str = "",
        limit: int | None = None,
        messages: list[str] | None = None,
        **params: Any,
    ) -> None:
        self.error = RowError(
            None,
            None,
            code,
            detail[:500],
            "" if limit is None else str(limit),
            params={k: v[:500] if isinstance(v, str) else v for k, v in params.items()},
        )
        super().__init__(code)
        self.messages = messages or []

    def __str__(self) -> str:
        return str(self.error)


class Opener(Protocol):
    def open(
        self, fullurl: urllib.request.Request, data: bytes | None = None, timeout: float = ...
    ) -> Any: ...


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: it would drop the POST body or send the token elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class ClassRef:
    """A class (facet value) of OS2mo: unit type, unit level or hierarchy label."""

    uuid: UUID | None
    user_key: str
    name: str

    def matches(self, label: str) -> bool:
        wanted = label.strip().casefold()
        return wanted in (self.user_key.strip().casefold(), self.name.strip().casefold())


@dataclass(frozen=True)
class OrgUnit:
    """One organisation unit as OS2mo has it (at the chosen date)."""

    uuid: UUID
    user_key: str
    name: str
    parent_uuid: UUID | None
    ancestors: tuple[UUID, ...]  # nearest first, root last; empty for a root
    unit_type: ClassRef | None
    level: ClassRef | None
    hierarchy: ClassRef | None
    valid_from: date | None
    valid_to: date | None


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).date()
    except ValueError:
        return date.fromisoformat(str(value)[:10])


def _class(value: Any) -> ClassRef | None:
    if not isinstance(value, dict):
        return None
    raw_uuid = value.get("uuid")
    return ClassRef(
        UUID(str(raw_uuid)) if raw_uuid else None,
        str(value.get("user_key") or ""),
        str(value.get("name") or value.get("user_key") or ""),
    )


def parse_org_unit(obj: Any) -> OrgUnit | None:
    """One element of ``org_units.objects``; None when it has no ``current`` state (the unit
    is not valid at the date asked for)."""
    if not isinstance(obj, dict):
        raise OS2moError("os2mo_bad_unit", unit=f"{obj!r:.200}")
    current = obj.get("current")
    if current is None:
        return None
    try:
        uuid = UUID(str(current.get("uuid") or obj["uuid"]))
        parent = current.get("parent")
        ancestors = current.get("ancestors") or []
        validity = current.get("validity") or {}
        return OrgUnit(
            uuid=uuid,
            user_key=str(current.get("user_key") or ""),
            name=str(current.get("name") or ""),
            parent_uuid=UUID(str(parent["uuid"])) if isinstance(parent, dict) else None,
            ancestors=tuple(UUID(str(a["uuid"])) for a in ancestors if isinstance(a, dict)),
            unit_type=_class(current.get("unit_type")),
            level=_class(current.get("org_unit_level")),
            hierarchy=_class(current.get("org_unit_hierarchy_model")),
            valid_from=_date(validity.get("from")),
            valid_to=_date(validity.get("to")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise OS2moError("os2mo_bad_unit", detail=str(exc), unit=f"{obj!r:.200}") from exc


class OS2moClient:
    """Reads OS2mo's GraphQL API. ``opener`` can be replaced (a proxy, a test)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        graphql_version: int = GRAPHQL_VERSION,
        page_size: int = DEFAULT_PAGE_SIZE,
        timeout: float = DEFAULT_TIMEOUT,
        opener: Opener | None = None,
        max_pages: int = MAX_PAGES,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                gettext("The OS2mo URL must be an http(s) URL, not %(url)s.")
                % {"url": repr(base_url)}
            )
        if page_size < 1:
            raise ValueError("page_size must be at least 1.")
        self.base_url = base_url.strip().rstrip("/")
        self.token = token.strip()
        self.graphql_version = graphql_version
        self.page_size = page_size
        self.timeout = timeout
        self.max_pages = max_pages
        self._opener: Opener = (
            opener if opener is not None else urllib.request.build_opener(_NoRedirect)
        )

    @classmethod
    def from_settings(cls, **kwargs: Any) -> OS2moClient:
        """A client for ``PEJLING_OS2MO_URL`` with ``PEJLING_OS2MO_TOKEN``."""
        from django.conf import settings

        url = kwargs.pop("base_url", None) or settings.PEJLING_OS2MO_URL
        if not url:
            raise OS2moError("os2mo_no_url")
        kwargs.setdefault("token", settings.PEJLING_OS2MO_TOKEN)
        return cls(url, **kwargs)

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/graphql/v{self.graphql_version}"

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one GraphQL operation and return its ``data``; raise :class:`OS2moError`."""
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 - http(s) checked in __init__
            self.endpoint, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST"
        )
        try:
            response = self._opener.open(request, timeout=self.timeout)
            with response:
                raw: bytes = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = ""
            try:
                payload = json.loads(exc.read(64 * 1024) or b"null")
                detail = "; ".join(_error_messages(payload)) or ""
            except (ValueError, OSError):
                pass
            raise OS2moError(
                "os2mo_http_token" if exc.code in (401, 403) else "os2mo_http",
                detail=detail,
                endpoint=self.endpoint,
                status=str(exc.code),
                reason=str(exc.reason),
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise OS2moError(
                "os2mo_unreachable", endpoint=self.endpoint, problem=str(reason)
            ) from exc
        if len(raw) > MAX_RESPONSE_BYTES:
            raise OS2moError("os2mo_too_large", limit=MAX_RESPONSE_BYTES, endpoint=self.endpoint)
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            raise OS2moError("os2mo_not_json", endpoint=self.endpoint) from exc
        messages = _error_messages(payload)
        if messages:
            unauthenticated = any(
                m.strip().casefold().rstrip(".") in _UNAUTHENTICATED for m in messages
            )
            code = (
                "os2mo_token_missing"
                if unauthenticated and not self.token
                else "os2mo_token_refused"
                if unauthenticated
                else "os2mo_refused"
            )
            raise OS2moError(
                code, messages=messages, answer="; ".join(m.rstrip(".") for m in messages)
            )
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise OS2moError("os2mo_no_data", endpoint=self.endpoint)
        return data

    def iter_org_units(
        self, *, at: date | None = None, tz: tzinfo | None = None
    ) -> Iterator[OrgUnit]:
        """Every organisation unit valid today (or on ``at``), page after page."""
        variables: dict[str, Any] = {"limit": self.page_size, "cursor": None}
        if at is not None:
            zone = tz or _default_tz()
            start = datetime.combine(at, time.min, tzinfo=zone)
            end = datetime.combine(at + timedelta(days=1), time.min, tzinfo=zone)
            variables["filter"] = {"from_date": start.isoformat(), "to_date": end.isoformat()}
            variables["at"] = start.isoformat()
        seen_cursors: set[str] = set()
        for _page in range(self.max_pages):
            data = self.execute(ORG_UNITS_QUERY, variables)
            try:
                paged = data["org_units"]
                objects = paged["objects"]
                next_cursor = (paged.get("page_info") or {}).get("next_cursor")
            except (KeyError, TypeError, AttributeError) as exc:
                raise OS2moError("os2mo_no_page") from exc
            if not isinstance(objects, list):
                raise OS2moError("os2mo_no_page")
            for obj in objects:
                unit = parse_org_unit(obj)
                if unit is not None:
                    yield unit
            if next_cursor is None:
                return
            if next_cursor in seen_cursors:
                raise OS2moError("os2mo_cursor_repeated")
            seen_cursors.add(str(next_cursor))
            variables["cursor"] = next_cursor
        raise OS2moError("os2mo_too_many_pages", count=self.max_pages, pages=self.max_pages)

    def org_units(self, *, at: date | None = None) -> list[OrgUnit]:
        """All units, each once (a unit seen on two pages keeps its last state)."""
        units: dict[UUID, OrgUnit] = {}
        for unit in self.iter_org_units(at=at):
            units[unit.uuid] = unit
        return list(units.values())


def _default_tz() -> tzinfo:
    from django.utils import timezone

    return timezone.get_default_timezone()


def _error_messages(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return []
    errors = payload.get("errors")
    if not errors:
        return []
    if not isinstance(errors, list):
        return [str(errors)]
    return [
        str(error.get("message") or error) if isinstance(error, dict) else str(error)
        for error in errors
    ]
