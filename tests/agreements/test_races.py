"""No update is lost to a race: two real clients (the API and the web pages, over HTTP to a live
server, each request on its own database connection) take racing steps at the same moment, many
times; every outcome equals one of the serial orders, and the loser is told (409, a message).

PostgreSQL only: SQLite serialises writers on the whole file, so it cannot show a race.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client

from pejling.agreements import services
from pejling.agreements.models import Agreement, AgreementState, AgreementVersion
from pejling.api.tokens import token_create
from tests.factories import AgreementFactory, InitiativeFactory

pytestmark = pytest.mark.django_db(transaction=True)

TRIES = 15
FIRST_YEAR = 2100  # each try races on a fresh agreement of its own year


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("race tests need PostgreSQL (row locks); SQLite serialises every writer")


class Api:
    """A JSON client of ``/api/v1`` over HTTP with a personal token."""

    def __init__(self, base: str, user: Any) -> None:
        secret = token_create(user=user, name="race", scope="read_write", expires_in_days=1).secret
        self.base = base + "/api/v1"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {secret}", "Accept-Language": "en"})

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base + path, timeout=30)

    def send(self, method: str, path: str, body: dict[str, Any]) -> requests.Response:
        return self.session.request(method, self.base + path, json=body, timeout=30)


class Browser:
    """A signed-in browser of the web pages over HTTP: session cookie and CSRF token."""

    def __init__(self, base: str, user: Any) -> None:
        client = Client()
        client.force_login(user)
        self.base = base
        self.session = requests.Session()
        self.session.headers["Accept-Language"] = "en"
        self.session.cookies.set(
            settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
        )

    def form(self, path: str) -> dict[str, str]:
        """The hidden fields of the page's first form (the CSRF token, the version)."""
        page = self.session.get(self.base + path, timeout=30).text
        fields = {}
        for tag in re.findall(r"<input[^>]*>", page):
            name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
            if 'type="hidden"' in tag and name and value:
                fields.setdefault(name.group(1), value.group(1))
        return fields

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        return self.session.post(
            self.base + path, data=data, headers={"Referer": self.base + path}, timeout=30
        )


def at_once(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], Any]) -> Any:
        barrier.wait()
        return action()

    with ThreadPoolExecutor(len(actions)) as pool:
        return [f.result() for f in [pool.submit(run, a) for a in actions]]


@pytest.fixture
def base(live_server: Any) -> str:
    return str(live_server.url)


@pytest.fixture
def fresh(org: Any, cascade: Any) -> Iterator[Callable[[int, str], Agreement]]:
    """``fresh(i, state)``: a new agreement of ``org.unit`` for its own year, with an
    initiative, taken through the workflow to ``state`` by the services."""

    def make(i: int, state: str = AgreementState.DRAFT) -> Agreement:
        agreement = AgreementFactory(unit=org.unit, year=FIRST_YEAR + i, summary="Before")
        InitiativeFactory(agreement=agreement, title="Talks", goals=[cascade.goal_1])
        if state in (AgreementState.SUBMITTED, AgreementState.AGREED):
            services.agreement_submit(agreement=agreement, by=org.head)
        if state == AgreementState.AGREED:
            services.agreement_agree(agreement=agreement, by=org.executive)
        return Agreement.objects.get(pk=agreement.pk)

    yield make


def stored(agreement: Agreement) -> Agreement:
    return Agreement.objects.get(pk=agreement.pk)


def test_edit_against_submit_over_the_api(base, org, fresh):
    head = Api(base, org.head)
    seen = set()
    for i in range(TRIES):
        agreement = fresh(i)
        path = f"/agreements/{org.unit.code}/{agreement.year}"
        edit, submit = at_once(
            partial(head.send, "PATCH", path, {"summary": "After", "edit_version": 1}),
            partial(head.send, "POST", f"{path}/submit", {}),
        )
        now = stored(agreement)
        assert submit.status_code == 200, submit.text  # the submit is possible in either order
        assert now.state == AgreementState.SUBMITTED  # never back to draft
        if edit.status_code == 200:  # the edit came first: the submit kept its summary
            assert now.summary == "After"
        else:  # the submit came first: the edit was refused and changed nothing
            assert edit.status_code == 409, edit.text
            assert edit.json()["code"] == "conflict"
            assert "submitted" in edit.json()["message"]
            assert now.summary == "Before"
        history = list(now.history.order_by("history_date", "history_id"))
        assert history[-1].summary == now.summary  # no row wrote an old summary back
        seen.add(edit.status_code)
    print("edit against submit, edit answered:", sorted(seen))


def test_edit_in_the_web_form_against_submit_over_the_api(base, org, fresh):
    head_api, head_web = Api(base, org.head), Browser(base, org.head)
    for i in range(TRIES):
        agreement = fresh(i)
        page = f"/agreements/{org.unit.code}/{agreement.year}/edit/"
        hidden = head_web.form(page)
        assert hidden["version"] == "1"
        edit, submit = at_once(
            partial(head_web.post, page, {**hidden, "summary": "After"}),
            partial(head_api.send, "POST", f"{page.removesuffix('edit/')}submit", {}),
        )
        now = stored(agreement)
        assert submit.status_code == 200, submit.text
        assert now.state == AgreementState.SUBMITTED
        if now.summary == "After":  # the edit came first, and was told so
            assert "The agreement was saved." in edit.text
        else:  # the submit came first: the form says why and keeps what was typed
            assert now.summary == "Before"
            assert "submitted and cannot be changed" in edit.text
            assert "After" in edit.text


def test_submit_against_return(base, org, fresh):
    """The head resubmits from a stale page while the approver returns the agreement."""
    head, approver = Api(base, org.head), Api(base, org.parent_head)
    for i in range(TRIES):
        agreement = fresh(i, AgreementState.SUBMITTED)
        path = f"/agreements/{org.unit.code}/{agreement.year}"
        submit, returned = at_once(
            partial(head.send, "POST", f"{path}/submit", {}),
            partial(approver.send, "POST", f"{path}/return", {"comment": "Sharper goals"}),
        )
        now = stored(agreement)
        assert returned.status_code == 200, returned.text  # possible in either order
        if submit.status_code == 200:  # returned first, then submitted again
            assert now.state == AgreementState.SUBMITTED
        else:  # the submit came first (still submitted: refused), then the return
            assert submit.status_code == 409, submit.text
            assert submit.json()["code"] == "conflict"
            assert now.state == AgreementState.DRAFT


def test_agree_over_the_api_against_return_on_the_web_page(base, org, fresh):
    executive, approver = Api(base, org.executive), Browser(base, org.parent_head)
    winners = []
    for i in range(TRIES):
        agreement = fresh(i, AgreementState.SUBMITTED)
        page = f"/agreements/{org.unit.code}/{agreement.year}/"
        hidden = approver.form(page)
        agree, returned = at_once(
            partial(executive.send, "POST", f"{page}agree", {}),
            partial(approver.post, f"{page}return/", {**hidden, "comment": "Sharper goals"}),
        )
        now = stored(agreement)
        versions = AgreementVersion.objects.filter(agreement=agreement).count()
        if agree.status_code == 200:  # agreed first: the return was refused with a message
            assert now.state == AgreementState.AGREED and now.agreed_by == org.executive
            assert versions == 1
            assert "this step is not possible now" in returned.text
            winners.append("agree")
        else:  # returned first: the agree was refused with 409, nothing agreed
            assert agree.status_code == 409, agree.text
            assert agree.json()["code"] == "conflict"
            assert now.state == AgreementState.DRAFT and now.agreed_by is None
            assert versions == 0
            assert "The agreement was returned to the unit." in returned.text
            winners.append("return")
    print("agree against return, winners:", winners)
