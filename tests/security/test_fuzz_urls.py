"""NUL bytes and other control characters in addresses: every route of the project, with such
text in its path parameters and in the query string, answers 400 or 404 to a signed-in person,
never a server error (PostgreSQL refuses NUL in text with ``DataError``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pejling.core.tabular import has_control_characters

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_PARAMETER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


def _routes(patterns: list[Any] | None = None, prefix: str = "") -> list[str]:
    """Every route of the project as written (``indicators/<str:code>/``), regex ones left out."""
    routes = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = str(pattern.pattern)
        if route.startswith("^"):
            continue
        if isinstance(pattern, URLResolver):
            routes += _routes(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern):
            routes.append(prefix + route)
    return sorted(set(routes))


ROUTES = _routes()
# A text with at least one control character.
CONTROL_TEXT = st.builds(
    lambda before, control, after: before + control + after,
    st.text(max_size=4),
    st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\x00\x00"]),
    st.text(max_size=4),
)


def _address(route: str, text: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return "1" if match["kind"] == "int" else quote(text, safe="")

    return "/" + _PARAMETER.sub(fill, route)


def test_the_routes_are_found() -> None:
    assert "indicators/<str:code>/" in ROUTES and len(ROUTES) > 50


@pytest.fixture
def office_client(org: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(org.office)
    return client


@FUZZ
@given(text=CONTROL_TEXT)
def test_control_characters_in_any_path_or_query_are_refused_not_a_server_error(
    office_client: Client, text: str
) -> None:
    for route in ROUTES:
        address = _address(route, text)
        response = office_client.get(address, {"q": text, "unit": text, "year": text})
        assert response.status_code in (400, 404), (address, response.status_code)


@pytest.mark.parametrize(
    "address", ["/organisation/?q=%00", "/indicators/%00/", "/indicators/?unit=%00"]
)
def test_the_reported_addresses_answer_400(office_client: Client, address: str) -> None:
    response = office_client.get(address, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert "control character" in response.content.decode()


def test_the_api_answers_its_own_error_shape(office_client: Client) -> None:
    response = office_client.get("/api/v1/units", {"within": "\x00"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_tab_in_a_search_is_a_search(office_client: Client) -> None:
    assert office_client.get("/organisation/", {"q": "a\tb"}).status_code == 200
    assert has_control_characters("a\x00b", allow_breaks=True)
    assert not has_control_characters("a\tb\n", allow_breaks=True)
