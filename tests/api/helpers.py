"""Helpers for the API tests: a JSON client with a bearer token, and the error shape."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

BASE = "/api/v1"


class ApiClient:
    """Django's test client with a bearer token, speaking JSON to ``/api/v1``."""

    def __init__(self, secret: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        self.client = Client(headers=headers)
        self.secret = secret

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(BASE + path, params)

    def post(self, path: str, data: Any = None) -> Any:
        return self._send("post", path, data)

    def put(self, path: str, data: Any = None) -> Any:
        return self._send("put", path, data)

    def patch(self, path: str, data: Any = None) -> Any:
        return self._send("patch", path, data)

    def delete(self, path: str) -> Any:
        return self.client.delete(BASE + path)

    def _send(self, method: str, path: str, data: Any) -> Any:
        body = json.dumps(data if data is not None else {})
        return getattr(self.client, method)(BASE + path, body, content_type="application/json")

    def walk(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list endpoint, following ``next`` cursors."""
        items: list[dict[str, Any]] = []
        cursor = None
        for _ in range(1000):
            query = dict(params)
            if cursor:
                query["cursor"] = cursor
            response = self.get(path, **query)
            assert response.status_code == 200, response.content
            page = response.json()
            items += page["items"]
            cursor = page["next"]
            if cursor is None:
                return items
        raise AssertionError("the cursors never ended")


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the API's error shape with ``status`` (and ``code``)."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    assert all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(m, str) for m in v)
        for k, v in body["fields"].items()
    )
    if code is not None:
        assert body["code"] == code, body
    return body
