"""A real HTTP server standing in for OS2mo's GraphQL API, answering with recorded responses.

The recordings in ``shared/fixtures/os2mo/captures`` are request/response pairs made by running
OS2mo itself (see the README there). The server answers ``POST /graphql/v29`` with the recorded
body of the page whose request had the same ``cursor`` variable, after checking that the query
it got is valid against OS2mo's recorded v29 schema (graphql-core), that it asks for the
recorded page size, and that it carries the bearer token; without the token it answers with
OS2mo's recorded "User is not authenticated" response (HTTP 200 with ``errors``).

Tests may change the served data (``server.pages``) to play a reorganisation in OS2mo.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema, parse, validate
from graphql.error import GraphQLError

OS2MO = (
    Path(
        os.environ.get(
            "PEJLING_FIXTURES", Path(__file__).resolve().parents[3] / "shared" / "fixtures"
        )
    )
    / "os2mo"
)
CAPTURES = OS2MO / "captures"
SCHEMA_FILE = OS2MO / "schema" / "os2mo_graphql_v29.ldap-import-export.schema.graphql"
TOKEN = "test-token"


def capture(name: str) -> Any:
    return json.loads((CAPTURES / name).read_text(encoding="utf-8"))


@cache
def v29_schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


def query_errors(query: str) -> list[str]:
    """Why ``query`` is not a valid operation against OS2mo's v29 schema (empty: it is)."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return [exc.message]
    return [error.message for error in validate(v29_schema(), document)]


class FakeOS2mo:
    """The recorded exchanges of one paged run, served over HTTP on 127.0.0.1."""

    def __init__(self, exchanges: list[dict[str, Any]], *, token: str | None = TOKEN) -> None:
        self.token = token
        self.pages: dict[str | None, dict[str, Any]] = {}
        self.limits: dict[str | None, Any] = {}
        for exchange in exchanges:
            variables = exchange["request"]["json_body"].get("variables") or {}
            cursor = variables.get("cursor")
            self.pages[cursor] = copy.deepcopy(exchange["response"])
            self.limits[cursor] = variables.get("limit")
        self.unauthenticated = capture("os2mo-66.1.2/error_v29_unauthenticated.json")["response"]
        self.bad_cursor = capture("os2mo-66.1.2/error_v29_bad_cursor.json")["response"]
        self.requests: list[dict[str, Any]] = []
        self.invalid_queries: list[list[str]] = []
        self.fail_with_status: int | None = None
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeOS2mo:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # The served data, as OS2mo's objects ------------------------------------------------------

    def objects(self) -> list[dict[str, Any]]:
        return [
            obj
            for response in self.pages.values()
            for obj in response["body"]["data"]["org_units"]["objects"]
        ]

    def find(self, name: str) -> dict[str, Any]:
        found = [o for o in self.objects() if o["current"]["name"] == name]
        assert len(found) == 1, f"{len(found)} units are called {name!r}"
        return found[0]

    def remove(self, uuid: str) -> None:
        for response in self.pages.values():
            page = response["body"]["data"]["org_units"]
            page["objects"] = [o for o in page["objects"] if o["uuid"] != uuid]

    def move(self, uuid: str, new_parent_uuid: str | None) -> None:
        """Re-parent a unit, and rewrite ``parent``/``ancestors`` of every unit as OS2mo would."""
        objects = {o["uuid"]: o["current"] for o in self.objects()}
        parent = {u: (c["parent"] or {}).get("uuid") for u, c in objects.items()}
        parent[uuid] = new_parent_uuid

        def ref(unit_uuid: str) -> dict[str, Any]:
            return {key: objects[unit_uuid][key] for key in ("uuid", "user_key", "name")}

        for unit_uuid, current in objects.items():
            chain = []
            node = parent[unit_uuid]
            while node is not None:
                chain.append(node)
                node = parent[node]
            current["parent"] = ref(chain[0]) if chain else None
            current["ancestors"] = [ref(u) for u in chain]

    # HTTP ---------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, content_type: str, body: Any) -> None:
                raw = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _graphql_error(self, message: str) -> None:
                self._send(
                    200, "application/json", {"data": None, "errors": [{"message": message}]}
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "content_type": self.headers.get("Content-Type"),
                        "body": body,
                    }
                )
                if self.path != "/graphql/v29":
                    self._send(404, "application/json", {"detail": "Not Found"})
                    return
                if server.fail_with_status is not None:
                    self._send(server.fail_with_status, "application/json", {"detail": "Boom"})
                    return
                problems = query_errors(body.get("query") or "")
                if problems:
                    server.invalid_queries.append(problems)
                    self._graphql_error("; ".join(problems))
                    return
                if server.token is not None and self.headers.get("Authorization") != (
                    f"Bearer {server.token}"
                ):
                    recorded = server.unauthenticated
                    self._send(recorded["status_code"], recorded["content_type"], recorded["body"])
                    return
                variables = body.get("variables") or {}
                cursor = variables.get("cursor")
                if cursor not in server.pages:
                    recorded = server.bad_cursor
                    self._send(recorded["status_code"], recorded["content_type"], recorded["body"])
                    return
                if variables.get("limit") != server.limits[cursor]:
                    self._graphql_error(
                        f"limit {variables.get('limit')} is not the recorded {server.limits[cursor]}"
                    )
                    return
                recorded = server.pages[cursor]
                self._send(recorded["status_code"], recorded["content_type"], recorded["body"])

        return Handler


# A constructed answer for measurements -----------------------------------------------------------

CONSTRUCTED = (
    "CONSTRUCTED, not recorded: the recorded Kolding answer's 84 units plus made-up units in the "
    "same shape (same query, keys and classes), for measuring a large sync."
)


def constructed_org(units: int = 2500, *, page_size: int = 100) -> list[dict[str, Any]]:
    """A paged ``org_units`` answer of ``units`` units, built from the recorded Kolding capture
    (OS2mo 66.1.2, keyset cursors): its 84 real units, then made-up ones (``K-0001``...) hung
    below them and below each other, up to level N7, with the recorded unit type and levels.
    Every exchange is marked ``"constructed"``. Deterministic."""
    import uuid as uuidlib

    recorded = capture("os2mo-66.1.2/kolding_org_units_v29_paged.json")
    query = recorded[0]["request"]["json_body"]["query"]
    objects = [
        obj
        for exchange in recorded
        for obj in exchange["response"]["body"]["data"]["org_units"]["objects"]
    ][:units]
    currents = [obj["current"] for obj in objects]
    levels = {
        c["org_unit_level"]["user_key"]: c["org_unit_level"]
        for c in currents
        if c.get("org_unit_level")
    }
    unit_type = next(c["unit_type"] for c in currents if c.get("unit_type"))
    depth = {c["uuid"]: len(c.get("ancestors") or []) + 1 for c in currents}
    namespace = uuidlib.UUID("6f0b3c1e-2a4d-4e8b-9c55-0d7e1f2a3b4c")
    for n in range(1, units - len(objects) + 1):
        # a parent among the units so far, not below level N6 (so the new one is N7 at most)
        candidates = [c for c in currents if depth[c["uuid"]] <= 6]
        parent = candidates[(n * 7919) % len(candidates)]
        uuid = str(uuidlib.uuid5(namespace, f"constructed-{n}"))
        key = f"K-{n:04d}"
        level_key = f"N{depth[parent['uuid']] + 1}"
        current = {
            "uuid": uuid,
            "user_key": key,
            "name": f"Enhed {n:04d}",
            "parent": {k: parent[k] for k in ("uuid", "user_key", "name")},
            "ancestors": [
                {k: parent[k] for k in ("uuid", "user_key", "name")},
                *(parent.get("ancestors") or []),
            ],
            "unit_type": unit_type,
            "org_unit_level": levels.get(
                level_key, {"uuid": None, "user_key": level_key, "name": level_key}
            ),
            "org_unit_hierarchy_model": None,
            "managers": [],
            "validity": {"from": "1960-01-01T00:00:00+01:00", "to": None},
        }
        depth[uuid] = depth[parent["uuid"]] + 1
        currents.append(current)
        objects.append({"uuid": uuid, "current": current})
    exchanges = []
    pages = [objects[at : at + page_size] for at in range(0, len(objects), page_size)]
    for number, page in enumerate(pages):
        cursor = None if number == 0 else f"constructed-page-{number}"
        following = f"constructed-page-{number + 1}" if number + 1 < len(pages) else None
        exchanges.append(
            {
                "constructed": CONSTRUCTED,
                "request": {
                    "method": "POST",
                    "path": "/graphql/v29",
                    "json_body": {
                        "query": query,
                        "variables": {"limit": page_size, "cursor": cursor},
                    },
                },
                "response": {
                    "status_code": 200,
                    "content_type": "application/json",
                    "body": {
                        "data": {
                            "org_units": {"objects": page, "page_info": {"next_cursor": following}}
                        }
                    },
                },
            }
        )
    return exchanges
