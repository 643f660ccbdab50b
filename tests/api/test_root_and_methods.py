"""The API's root (``GET /api/v1/``: name, version, links) and a method a path does not take
(405 in the error format, with ``Allow``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.api.helpers import BASE, assert_error

RESOURCES = {
    "units",
    "people",
    "memberships",
    "strategies",
    "agreement-rules",
    "indicators",
    "values",
    "agreements",
    "status-reports",
    "evaluations",
    "deadlines",
    "audit",
}


# The root -------------------------------------------------------------------------------------


def test_the_root_gives_the_name_the_version_and_links_to_everything(api: Any, org: Any) -> None:
    response = api(org.office).get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["name"] == "Pejling API"
    assert body["version"] == "1"
    assert body["links"] == {
        "openapi": "http://testserver/api/v1/openapi.json",
        "docs": "http://testserver/api/v1/docs",
    }
    assert set(body["resources"]) == RESOURCES
    assert body["resources"]["units"] == "http://testserver/api/v1/units"


def test_every_link_of_the_root_leads_somewhere(api: Any, org: Any) -> None:
    client = api(org.office)
    body = client.get("/").json()
    links = [*body["links"].values(), *body["resources"].values()]

    for link in links:
        path = link.removeprefix("http://testserver")
        response = client.client.get(path)
        assert response.status_code == 200, (link, response.content[:200])


def test_the_root_lists_every_top_level_collection_of_the_openapi_document(org: Any) -> None:
    document = Client().get(BASE + "/openapi.json").json()
    top = {
        path.removeprefix("/api/v1/")
        for path, item in document["paths"].items()
        if "get" in item and path.count("/") == 3 and path != "/api/v1/"
    }

    assert top == RESOURCES
    assert "/api/v1/" in document["paths"]  # the root is documented too


def test_the_root_answers_a_signed_in_browser(org: Any) -> None:
    client = Client()
    client.force_login(org.employee)

    response = client.get(BASE + "/")

    assert response.status_code == 200
    assert response.json()["name"] == "Pejling API"


def test_the_root_refuses_a_caller_without_credentials_with_401(api: Any, org: Any) -> None:
    assert_error(api().get("/"), 401, "unauthenticated")
    assert_error(Client().get(BASE + "/"), 401, "unauthenticated")


def test_the_root_refuses_a_bad_token_with_401(org: Any) -> None:
    response = Client(headers={"Authorization": "Bearer pjl_nope"}).get(BASE + "/")

    assert_error(response, 401, "invalid_token")


# A method a path does not take ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("delete", "/units", "GET"),
        ("post", "/units/unit-a1a", "GET"),
        ("put", "/agreements", "GET, POST"),
        ("get", "/agreements/unit-a1a/2026/submit", "POST"),
        ("patch", "/elements/1", "DELETE, GET, PUT"),
        ("post", "/", "GET"),
        ("post", "/docs", "GET"),
        ("post", "/openapi.json", "GET, HEAD"),
        ("delete", "/openapi.json", "GET, HEAD"),
    ],
)
def test_a_method_the_path_does_not_take_is_a_json_405_with_allow(
    api: Any, org: Any, method: str, path: str, allow: str
) -> None:
    client = api(org.office).client

    response = getattr(client, method)(
        BASE + path, content_type="application/json", headers={"Accept-Language": "en"}
    )

    body = assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == allow
    assert response["Content-Type"].startswith("application/json")
    assert body["message"] == (f"This address does not take {method.upper()}; it takes {allow}.")
    assert body["fields"] == {}


def test_a_wrong_method_is_405_before_authentication(org: Any) -> None:
    """Which methods a path takes is public (the OpenAPI document), so the answer does not
    wait for credentials."""
    response = Client().delete(BASE + "/units")

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


def test_the_405_message_follows_the_requested_language(api: Any, org: Any) -> None:
    client = api(org.head).client

    english = client.delete(BASE + "/units", headers={"Accept-Language": "en"}).json()
    swedish = client.delete(BASE + "/units", headers={"Accept-Language": "sv"}).json()

    assert english["code"] == swedish["code"] == "method_not_allowed"
    assert "DELETE" in swedish["message"] and "GET" in swedish["message"]


def test_the_openapi_document_still_answers_get_and_head(org: Any) -> None:
    assert Client().get(BASE + "/openapi.json").status_code == 200
    assert Client().head(BASE + "/openapi.json").status_code == 200


def test_a_method_an_endpoint_takes_is_not_affected(api: Any, org: Any) -> None:
    client = api(org.office)

    assert client.get("/units").status_code == 200
    assert client.post("/strategies", {}).status_code == 422  # reaches the endpoint
