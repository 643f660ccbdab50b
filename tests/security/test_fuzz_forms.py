"""Every form, posted through its real view by a permitted person, with random input.

Random, unicode, huge and empty values never cause a server error, and a post the page
answers with errors writes nothing: the row count of every table of ours stays the same.
Each example runs in a savepoint that is rolled back, so examples do not see each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.contrib.messages import ERROR
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Cascade, Org
from tests.factories import (
    YEAR,
    AgreementFactory,
    ElementFactory,
    IndicatorFactory,
    InitiativeFactory,
    ReportDeadlineFactory,
)

FUZZ = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Text of every kind: empty, blank, unicode (no surrogates: a browser cannot send them), NUL and
# control characters, markup, huge, numbers and dates in and out of range.
values = st.one_of(
    st.just(""),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.sampled_from(
        [
            " ",
            "\x00",
            "a\x00b",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "../../etc/passwd",
            "0",
            "-1",
            "2026",
            "99999999999999999999999",
            "1e309",
            "NaN",
            "2026-02-30",
            "2026-01-01",
            "on",
            "true",
        ]
    ),
    st.integers(min_value=0, max_value=100_000).map(lambda n: "x" * n),
    st.integers().map(str),
)


def _our_models() -> list[Any]:
    labels = {"auth", "organisation", "strategy", "agreements", "indicators", "followup", "api"}
    return [m for m in apps.get_models() if m._meta.app_label in labels]


def row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in _our_models()}


@dataclass
class Case:
    name: str
    user: str  # attribute of Org
    url: Callable[[Org, Cascade, dict[str, Any]], str]
    fields: list[str]
    fixed: Callable[[Org, Cascade, dict[str, Any]], dict[str, Any]] = field(
        default=lambda org, cascade, extra: {}
    )
    files: list[str] = field(default_factory=list)


def _version(obj: Any) -> dict[str, str]:
    """Optimistic locking, where the model has it: post the current version."""
    return {"version": str(obj.version)} if hasattr(obj, "version") else {}


CASES = [
    Case(
        "login",
        "head",
        lambda org, c, x: reverse("login"),
        ["username", "password", "next"],
    ),
    Case(
        "strategy create",
        "office",
        lambda org, c, x: reverse("strategy:strategy_create"),
        [
            "code",
            "title",
            "summary",
            "body",
            "start_year",
            "end_year",
            "parent",
            "status",
            "position",
        ],
    ),
    Case(
        "strategy edit",
        "office",
        lambda org, c, x: reverse("strategy:strategy_edit", args=[c.group.code]),
        [
            "code",
            "title",
            "summary",
            "body",
            "start_year",
            "end_year",
            "parent",
            "status",
            "position",
        ],
        lambda org, c, x: _version(c.group),
    ),
    Case(
        "strategy levels",
        "office",
        lambda org, c, x: reverse("strategy:strategy_levels", args=[c.group.code]),
        [
            "levels-TOTAL_FORMS",
            "levels-INITIAL_FORMS",
            "levels-MAX_NUM_FORMS",
            "levels-0-name",
            "levels-0-name_plural",
            "levels-0-holds_goals",
            "levels-1-name",
            "levels-1-name_plural",
            "levels-1-holds_goals",
        ],
    ),
    Case(
        "element create",
        "office",
        lambda org, c, x: reverse("strategy:element_create", args=[c.group.code]),
        [
            "code",
            "title",
            "description",
            "position",
            "measure_kind",
            "target_text",
            "measure_unit",
            "baseline_value",
            "baseline_date",
            "target_value",
            "target_date",
            "source",
            "references",
            "parent",
            "level",
        ],
    ),
    Case(
        "element edit",
        "office",
        lambda org, c, x: reverse("strategy:element_edit", args=[c.group.code, c.goal_1.pk]),
        ["code", "title", "description", "measure_kind", "baseline_value", "target_date"],
        lambda org, c, x: _version(c.goal_1),
    ),
    Case(
        "agreement edit",
        "head",
        lambda org, c, x: reverse("agreements:agreement_edit", args=[org.unit.code, YEAR]),
        ["summary"],
        lambda org, c, x: _version(x["agreement"]),
    ),
    Case(
        "initiative create",
        "head",
        lambda org, c, x: reverse("agreements:initiative_create", args=[org.unit.code, YEAR]),
        ["title", "description", "owner", "start_date", "end_date", "status", "goals"],
    ),
    Case(
        "initiative edit",
        "head",
        lambda org, c, x: reverse(
            "agreements:initiative_edit", args=[org.unit.code, YEAR, x["initiative"].pk]
        ),
        ["title", "description", "owner", "start_date", "end_date", "status", "goals"],
        lambda org, c, x: {"goals": str(c.goal_1.pk), **_version(x["initiative"])},
    ),
    Case(
        "return agreement",
        "parent_head",
        lambda org, c, x: reverse(
            "agreements:agreement_transition", args=[org.unit.code, YEAR, "return"]
        ),
        ["comment"],
    ),
    Case(
        "submit agreement with justifications",
        "head",
        lambda org, c, x: reverse(
            "agreements:agreement_transition", args=[org.unit.code, YEAR, "submit"]
        ),
        ["justification-1", "justification-x", "justification-999999999999999999999"],
    ),
    Case(
        "assess a goal",
        "office",
        lambda org, c, x: reverse("followup:assess", args=[x["assessed"].pk]) + f"?year={YEAR}",
        ["status", "justification"],
    ),
    Case(
        "comment",
        "head",
        lambda org, c, x: reverse("reports:comment_add"),
        ["body", "parent", "next"],
        lambda org, c, x: {"agreement": str(x["agreement"].pk)},
    ),
    Case(
        "status report",
        "head",
        lambda org, c, x: reverse("reports:report_period", args=[org.unit.code, x["deadline"].pk]),
        ["action", "bulk_status", "selected", "status-{initiative}", "comment-{initiative}"],
    ),
    Case(
        "KPI import",
        "office",
        lambda org, c, x: reverse("indicators:import_new"),
        ["indicator"],
        files=["file"],
    ),
    Case(
        "API token",
        "head",
        lambda org, c, x: reverse("api:token_list"),
        ["name", "scope", "expires_in_days"],
    ),
]


@pytest.fixture
def world(org: Org, cascade: Cascade) -> dict[str, Any]:
    agreement = AgreementFactory(unit=org.unit, year=YEAR, summary="Our year")
    initiative = InitiativeFactory(agreement=agreement, title="Early talks", goals=[cascade.goal_1])
    assessed = ElementFactory(parent=cascade.theme_2, code="T2.9", measure_kind="assessed")
    IndicatorFactory()
    return {
        "agreement": agreement,
        "initiative": initiative,
        "assessed": assessed,
        "deadline": ReportDeadlineFactory(),
    }


def _failed(response: Any) -> bool:
    """Whether the page answered the post with errors (a re-rendered form or an error message)."""
    if response.status_code not in (201, 302, 303):
        return True
    # Only this request's messages: earlier ones wait in the session until a page shows them.
    queued = getattr(response.wsgi_request._messages, "_queued_messages", [])
    return any(m.level == ERROR for m in queued)


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_random_input_never_breaks_a_form_or_writes_half(
    case: Case, org: Org, cascade: Cascade, world: dict[str, Any]
) -> None:
    user = getattr(org, case.user)
    client = Client()
    if case.name != "login":
        client.force_login(user)
    url = case.url(org, cascade, world)
    fixed = case.fixed(org, cascade, world)
    names = [name.format(initiative=world["initiative"].pk) for name in case.fields]
    file_data = st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=500).map(lambda t: t.encode("utf-8")),
        st.just(b"PK\x03\x04garbage"),
    )
    file_names = st.sampled_from(["values.csv", "values.xlsx", "values.txt", "x.exe", "", "..."])

    @FUZZ
    @given(
        data=st.fixed_dictionaries({}, optional=dict.fromkeys(names, values)),
        upload=st.tuples(file_data, file_names),
    )
    def run(data: dict[str, str], upload: tuple[bytes, str]) -> None:
        post: dict[str, Any] = {**fixed, **data}
        if case.files:
            content, name = upload
            post["file"] = SimpleUploadedFile(name or "upload", content)
        with transaction.atomic():
            before = row_counts()
            response = client.post(url, post)
            assert response.status_code < 500, (case.name, post)
            if _failed(response):
                assert row_counts() == before, (case.name, response.status_code, post)
            transaction.set_rollback(True)

    run()


@pytest.mark.django_db
def test_a_choice_posted_as_a_huge_number_is_an_invalid_choice(
    org: Org, cascade: Cascade, world: dict[str, Any]
) -> None:
    """SQLite raises OverflowError for integers beyond 64 bits; the form reports an error."""
    client = Client()
    client.force_login(org.head)
    huge = "99999999999999999999999"
    url = reverse("agreements:initiative_create", args=[org.unit.code, YEAR])
    before = row_counts()
    response = client.post(url, {"title": "T", "status": "planned", "owner": huge, "goals": huge})
    assert response.status_code == 200
    assert row_counts() == before


@pytest.mark.django_db
def test_a_comment_with_a_nul_character_is_refused(org: Org, world: dict[str, Any]) -> None:
    """PostgreSQL text cannot hold NUL: the comment is refused, not a server error."""
    client = Client()
    client.force_login(org.head)
    before = row_counts()
    body = {"agreement": str(world["agreement"].pk), "body": "a\x00b"}
    response = client.post(reverse("reports:comment_add"), body)
    assert response.status_code == 302
    assert row_counts() == before
