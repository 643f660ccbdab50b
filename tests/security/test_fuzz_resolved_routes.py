"""Control characters in the query string of EVERY route with its arguments resolved to real
objects (the permission matrix's scene and rows: each URL pattern and API operation, each
method), signed in as the strategy office: 400 from ``RefuseControlCharactersMiddleware``
before any view runs. The line breaks and tabs it lets through to the views (a search may hold
a tab) reach every GET view with real arguments and never give a server error.

(``test_fuzz_urls`` puts the text in the path parameters instead, where a route can only
answer 400 or 404.)"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.test_fuzz_urls import CONTROL_TEXT
from tests.security.test_permission_matrix import (  # noqa: F401 (fixtures)
    CASES,
    Case,
    World,
    _module_clients,
    clients,
    world,
)

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=3,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text with a tab or line break, which the middleware lets through in query values.
BREAKS_TEXT = st.builds(
    lambda before, brk, after: before + brk + after,
    st.text(max_size=4).filter(lambda t: not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in t)),
    st.sampled_from(["\t", "\n", "\r", "\r\n", "\n\n"]),
    st.sampled_from(["", "2026", "a", "exec"]),
)
# Names the views read from the query string.
KEYS = ("q", "unit", "year", "period", "page", "sort", "from", "to", "within", "state")


def _with_query(url: str, text: str) -> str:
    query = urlencode(dict.fromkeys(KEYS, text))
    return url + ("&" if "?" in url else "?") + query


def _send(client: Client, case: Case, url: str, w: World) -> Any:
    method = getattr(client, case.method.lower())
    if case.method == "GET":
        return method(url)
    return method(url, case.data(w) if case.data else {})


def test_every_row_of_the_matrix_is_asked() -> None:
    assert len(CASES) > 250
    assert {case.method for case in CASES} >= {"GET", "POST"}


@FUZZ
@given(text=CONTROL_TEXT, breaks=BREAKS_TEXT)
def test_control_characters_in_the_query_of_every_route_are_refused_with_400(
    world: World,  # noqa: F811 (the matrix's fixture)
    clients: dict[str, Client],  # noqa: F811
    text: str,
    breaks: str,
) -> None:
    office = clients["office"]
    office.raise_request_exception = True  # a server error fails with its traceback
    refused = []
    for case in CASES:
        with transaction.atomic():
            response = _send(office, case, _with_query(case.url(world), text), world)
            transaction.set_rollback(True)
        if response.status_code != 400:
            refused.append((case.id, response.status_code))
    assert not refused, refused
    broken, answered = [], 0
    for case in CASES:
        if case.method != "GET":
            continue
        with transaction.atomic():
            response = _send(office, case, _with_query(case.url(world), breaks), world)
            transaction.set_rollback(True)
        if response.status_code >= 500:
            broken.append((case.id, response.status_code))
        answered += 200 <= response.status_code < 300
    assert not broken, broken
    assert answered > 100  # the views ran with the text, not only refusals
