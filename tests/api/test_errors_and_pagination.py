"""The error shape, cursor pagination, the OpenAPI document and the reference page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from pejling.organisation.models import Unit
from tests.api.helpers import BASE, assert_error
from tests.factories import UnitFactory


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("get", "/units", None, 401, "unauthenticated"),
        ("get", "/units/nowhere", None, 404, "not_found"),
        ("get", "/units", {"limit": 501}, 422, "invalid_request"),
        ("get", "/units", {"cursor": "made-up"}, 400, "invalid_cursor"),
        (
            "post",
            "/strategies",
            {"code": "a", "title": "A", "start_year": 2026, "end_year": 2025},
            400,
            "invalid",
        ),
        (
            "post",
            "/memberships",
            {"person": "head", "unit": "exec", "role": "reader"},
            403,
            "forbidden",
        ),
        ("post", "/agreements", {"unit": "unit-a1a", "year": 2026}, 409, "conflict"),
    ],
)
def test_every_error_has_the_same_shape(
    api: Any, org: Any, agreement: Any, method: str, path: str, body: Any, status: int, code: str
) -> None:
    user = org.office if code in {"invalid", "conflict"} else org.head
    client = api() if status == 401 else api(user)
    response = (
        client.get(path, **body)
        if method == "get" and body
        else getattr(client, method)(path, *([body] if body else []))
    )
    assert_error(response, status, code)


def test_field_errors_name_the_field(api: Any, org: Any) -> None:
    body = assert_error(api(org.head).get("/units", limit=0), 422, "invalid_request")
    assert list(body["fields"]) == ["limit"]


def test_a_body_that_is_not_json_is_a_4xx_error_not_a_crash(api: Any, org: Any) -> None:
    client = api(org.office)
    response = client.client.post(
        BASE + "/strategies", "{not json", content_type="application/json"
    )
    assert response.status_code in {400, 422}
    assert set(response.json()) == {"code", "message", "fields"}


def test_messages_follow_the_requested_language(org: Any, api: Any) -> None:
    client = api(org.head)
    swedish = client.client.get(BASE + "/units/nowhere", headers={"Accept-Language": "sv"}).json()
    english = client.client.get(BASE + "/units/nowhere", headers={"Accept-Language": "en"}).json()
    assert swedish["code"] == english["code"] == "not_found"
    assert english["message"] == "Not found, or you may not see it."
    assert swedish["message"] != english["message"]


def test_cursor_pagination_walks_every_item_exactly_once(api: Any, org: Any) -> None:
    for n in range(17):
        UnitFactory(
            parent=Unit.objects.get(code="dept-b1"), code=f"extra-{n:02d}", name=f"Extra {n}"
        )
    client = api(org.employee)
    first = client.get("/units", limit=4).json()
    assert len(first["items"]) == 4 and first["next"]
    for limit in (1, 4, 9, 27, 500):
        codes = [u["code"] for u in client.walk("/units", limit=limit)]
        assert len(codes) == len(set(codes)) == Unit.objects.count() == 27
        assert codes == list(Unit.objects.order_by("pk").values_list("code", flat=True))


def test_a_cursor_survives_units_added_that_shift_the_tree(api: Any, org: Any) -> None:
    """Adding a unit renumbers its siblings' paths; the cursor does not depend on them."""
    client = api(org.employee)
    page = client.get("/units", limit=5).json()
    seen = [u["code"] for u in page["items"]]
    UnitFactory(parent=Unit.objects.get(code="exec"), code="aaa-first", name="AAA first")
    rest = client.walk("/units", cursor=page["next"])
    codes = seen + [u["code"] for u in rest]
    assert len(codes) == len(set(codes)) == Unit.objects.count()


def test_the_openapi_document_describes_every_endpoint(org: Any) -> None:
    response = Client().get(BASE + "/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert {
        "/api/v1/units",
        "/api/v1/agreements/{unit}/{year}/submit",
        "/api/v1/values",
        "/api/v1/audit",
    } <= set(paths)
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["TokenAuth"].items()
    for item in paths.values():
        for operation in item.values():
            assert "ErrorOut" in str(operation["responses"]["403"])


def test_the_reference_page_lists_every_endpoint_without_inline_scripts_or_styles(org: Any) -> None:
    document = Client().get(BASE + "/openapi.json").json()
    client = Client()
    client.force_login(org.head)
    response = client.get(BASE + "/docs", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = response.content.decode()
    for path, item in document["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}" in page
    assert "swagger" not in page.lower() and "cdn" not in page.lower()
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "<style" not in page and " style=" not in page
    assert "API reference" in page
