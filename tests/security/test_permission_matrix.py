"""The permission matrix: every URL of the project, every role, an explicit decision.

Each row of ``CASES`` is a route (a URL name, and for the API also its OpenAPI operation), a
method, how to fill its arguments from the shared scene, and the expected outcome for each
role, in the order of ``ROLES``:

* ``Y`` allowed: 2xx, or a redirect to a page that is not the login page (and, where a view
  answers a refused write with a redirect and a message, the write really happened);
* ``N`` refused: 403/404 for a signed-in person; a redirect to the login page (web) or 401
  (API) for the anonymous visitor.

A URL pattern (or API operation) without a row fails ``test_every_route_has_a_decision``, so
a new view cannot be added without deciding who may use it.

The scene is built once per module (``django_db_blocker``) inside a transaction that is rolled
back at the end; each request runs in a savepoint of its own that is rolled back too, so a
permitted write never changes what the next role sees.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from pejling.agreements import services as agreement_services
from pejling.agreements.models import Agreement, AgreementState, Initiative
from pejling.api.api import api as ninja_api
from pejling.api.models import ApiToken
from pejling.api.tokens import token_create
from pejling.followup.models import CalendarFeed, Comment, StatusReport
from pejling.indicators.models import ImportBatch, ImportStatus, Indicator, SourceFetch
from pejling.ops.models import WorkerHeartbeat
from pejling.organisation.models import Membership, Role, Unit
from pejling.reports import services as report_services
from pejling.reports.models import DocumentJob, JobStatus, Report, ReportState, Section
from pejling.sso.models import GroupRole
from pejling.strategy.models import Element, Strategy, StrategyStatus
from tests.factories import (
    YEAR,
    AgreementFactory,
    AgreementRuleFactory,
    CommentFactory,
    DeadlineFactory,
    ElementFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    InitiativeFactory,
    KpiGoalFactory,
    MembershipFactory,
    ReportDeadlineFactory,
    StatusReportFactory,
    StrategyFactory,
    StrategyLevelFactory,
    UnitFactory,
    UserFactory,
)
from tests.portfolio.matrix import portfolio_api_cases, portfolio_cases, portfolio_scene

ROLES = ("office", "executive", "head", "colleague", "employee", "outsider", "anonymous")
SIGNED_IN = ROLES[:-1]
API = "/api/v1"

# Text that only someone who may read unpublished agreements of unit A may ever see.
SECRETS = ("DRAFT-SECRET-A", "REVISION-SECRET-A", "DRAFT-SUMMARY-A", "DRAFT-COMMENT-A")


# The scene ---------------------------------------------------------------------------------


@dataclass
class World:
    units: dict[str, Unit]
    users: dict[str, Any]
    tokens: dict[str, str]
    objects: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None


def _build() -> World:
    root = UnitFactory(code="exec", name="Executive board")
    centre_a = UnitFactory(parent=root, code="centre-a", name="Centre A")
    centre_b = UnitFactory(parent=root, code="centre-b", name="Centre B")
    dept_a1 = UnitFactory(parent=centre_a, code="dept-a1", name="Department A1")
    dept_b1 = UnitFactory(parent=centre_b, code="dept-b1", name="Department B1")
    unit_a = UnitFactory(parent=dept_a1, code="unit-a1a", name="Unit A1a")
    unit_b = UnitFactory(parent=dept_a1, code="unit-a1b", name="Unit A1b")
    UnitFactory(parent=dept_b1, code="unit-b1a", name="Unit B1a")
    units = {u.code: u for u in Unit.objects.all()}
    unit_a, unit_b, root = units["unit-a1a"], units["unit-a1b"], units["exec"]

    def person(username: str, *roles: tuple[Unit, str]) -> Any:
        user = UserFactory(username=username)
        for where, role in roles:
            MembershipFactory(user=user, unit=where, role=role)
        return user

    users = {
        "office": person("office", (root, Role.STRATEGY_OFFICE)),
        "executive": person("executive", (root, Role.EXECUTIVE)),
        "head": person("head", (unit_a, Role.UNIT_HEAD), (unit_a, Role.MEMBER)),
        "colleague": person("colleague", (unit_b, Role.UNIT_HEAD)),
        "employee": person("employee", (unit_a, Role.MEMBER)),
        "outsider": person("outsider"),
    }
    spare = person("spare", (unit_b, Role.MEMBER))

    # Strategies: a published one with themes and goals, and a draft.
    group = StrategyFactory(code="group", title="Group strategy", start_year=2025, end_year=2031)
    StrategyLevelFactory(strategy=group, depth=1, name="Theme", name_plural="Themes")
    StrategyLevelFactory(
        strategy=group, depth=2, name="Goal", name_plural="Goals", holds_goals=True
    )
    theme = ElementFactory(strategy=group, code="T1", title="Together")
    goal = ElementFactory(
        parent=theme,
        code="T1.1",
        title="Sick leave falls",
        measure_kind="kpi",
        baseline_value=Decimal("14.9"),
        target_value=Decimal("13.5"),
    )
    assessed = ElementFactory(parent=theme, code="T1.2", title="Culture", measure_kind="assessed")
    loose = ElementFactory(strategy=group, code="T9", title="A theme nobody uses")
    draft_strategy = StrategyFactory(code="secret-plan", status=StrategyStatus.DRAFT)
    draft_element = ElementFactory(strategy=draft_strategy, code="S1", title="Draft element")
    rule = AgreementRuleFactory(strategy=group)

    # Indicators.
    indicator = IndicatorFactory(code="SICK", name="Sick days")
    for month in ("2025-01", "2025-02"):
        IndicatorValueFactory(indicator=indicator, unit=unit_a, period=month, value=3)
    KpiGoalFactory(goal=goal, indicator=indicator)
    empty_indicator = IndicatorFactory(code="EMPTY", name="Nothing yet")
    fetch = SourceFetch.objects.create(indicator=indicator, source="statbank", series="FOLK1A")
    batch = ImportBatch.objects.create(
        source="upload", filename="values.csv", status=ImportStatus.DONE, created_by=users["office"]
    )

    # Agreements of unit A (the head's) and unit B (the colleague's).
    head, executive = users["head"], users["executive"]
    colleague = users["colleague"]
    draft = AgreementFactory(unit=unit_a, year=YEAR, summary="DRAFT-SUMMARY-A")
    draft_initiative = InitiativeFactory(agreement=draft, title="DRAFT-SECRET-A", goals=[goal])
    published = AgreementFactory(unit=unit_b, year=YEAR, summary="Published B")
    public_initiative = InitiativeFactory(agreement=published, title="PUBLIC-B", goals=[goal])
    for step in (
        agreement_services.agreement_submit,
        agreement_services.agreement_agree,
        agreement_services.agreement_publish,
    ):
        step(agreement=published, by=executive if step.__name__ == "agreement_agree" else colleague)
    # Last year's agreement of A: published, then reopened with a new (secret) initiative.
    revised = AgreementFactory(unit=unit_a, year=YEAR - 1, summary="Published A")
    InitiativeFactory(agreement=revised, title="PUBLIC-A", goals=[goal])
    agreement_services.agreement_submit(agreement=revised, by=head)
    agreement_services.agreement_agree(agreement=revised, by=executive)
    agreement_services.agreement_publish(agreement=revised, by=head)
    agreement_services.agreement_revise(agreement=revised, by=head)
    InitiativeFactory(agreement=revised, title="REVISION-SECRET-A", goals=[goal])
    submitted = AgreementFactory(unit=unit_a, year=YEAR + 2, state=AgreementState.SUBMITTED)
    agreed = AgreementFactory(unit=unit_a, year=YEAR + 3, state=AgreementState.AGREED)

    # Follow-up: an agreement deadline, two report periods with a report, comments, feeds.
    deadline = DeadlineFactory(title="Agreements due")
    t1 = ReportDeadlineFactory(period="T1", title="Follow-up T1")
    t2 = ReportDeadlineFactory(period="T2", title="Follow-up T2")
    t2.due_date = t2.due_date.replace(month=9)
    t2.save()
    report = StatusReportFactory(initiative=public_initiative, deadline=t1)
    public_comment = CommentFactory(agreement=published, author=colleague, body="Well done")
    CommentFactory(agreement=draft, author=head, body="DRAFT-COMMENT-A")
    feed = CalendarFeed.objects.create(user=users["employee"])

    tokens = {
        role: token_create(user=user, name="matrix", scope="read_write", expires_in_days=30).secret
        for role, user in users.items()
    }
    web_token = token_create(
        user=users["employee"], name="revocable", scope="read", expires_in_days=30
    )
    world = World(units=units, users=users, tokens=tokens)
    world.objects.update(
        group=group,
        theme=theme,
        goal=goal,
        assessed=assessed,
        loose=loose,
        draft_strategy=draft_strategy,
        draft_element=draft_element,
        rule=rule,
        indicator=indicator,
        empty_indicator=empty_indicator,
        fetch=fetch,
        batch=batch,
        draft=draft,
        draft_initiative=draft_initiative,
        published=published,
        public_initiative=public_initiative,
        revised=revised,
        published_version=revised.versions.filter(state=AgreementState.PUBLISHED).first(),
        submitted=submitted,
        agreed=agreed,
        deadline=deadline,
        t1=t1,
        t2=t2,
        report=report,
        public_comment=public_comment,
        feed=feed,
        web_token=ApiToken.objects.get(user=users["employee"], name="revocable"),
        spare_membership=Membership.objects.get(user=spare),
        group_role=GroupRole.objects.create(group="matrix", unit=root, role=Role.READER),
    )
    assert web_token.secret
    # A background worker that reported (and stays fresh through the run): readiness answers 200.
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id="matrix", host="test", pid=1, started_at=now, seen_at=now + timedelta(hours=2)
    )
    world.objects.update(_board_reports(world))
    world.objects.update(portfolio_scene(users, units))
    return world


def _board_reports(w: World) -> dict[str, Any]:
    """A report in progress (a chapter assigned to the head of unit A), one whose chapters
    are all approved, a finalised one, an analysis of unit A and a document of the employee."""
    office, head = w.users["office"], w.users["head"]
    running = report_services.report_create(period=w.t1, by=office, title="Report T1")
    section = running.sections.order_by("position").first()
    section = report_services.section_assign(
        section=section, by=office, unit=w.units["unit-a1a"], assignee=head, due_date=None
    )
    report_services.section_update(section=section, by=head, body="DRAFT-SECRET-A chapter")
    approved = report_services.report_create(period=w.t2, by=office, title="Report T2")
    for s in approved.sections.all():
        report_services.section_step(section=s, step="ready", by=office)
        report_services.section_step(section=s, step="approve", by=office)
    finalised = report_services.report_create(period=w.t1, by=office, title="Report final")
    for s in finalised.sections.all():
        report_services.section_step(section=s, step="ready", by=office)
        report_services.section_step(section=s, step="approve", by=office)
    report_services.report_finalise(report=finalised, by=office, language="en")
    analysis = report_services.analysis_save(
        goal=w.goal,
        unit=w.units["unit-a1a"],
        period=w.t1,
        by=head,
        body="Our analysis",
        assessment="on_track",
    )
    job = DocumentJob.objects.create(
        kind="strategy",
        format="xlsx",
        language="en",
        requested_by=w.users["employee"],
        status=JobStatus.DONE,
        content=b"PK",
        filename="strategy.xlsx",
    )
    return {
        "running_report": running,
        "running_section": Section.objects.get(pk=section.pk),
        "approved_report": approved,
        "finalised_report": finalised,
        "analysis": analysis,
        "job": job,
    }


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def _module_clients() -> dict[str, Client]:
    """One client per role and one for the API, kept for the module: each new client loads
    the middleware again, and WhiteNoise then walks every static file."""
    return {role: Client() for role in (*ROLES, "api")}


@pytest.fixture
def clients(world: World, _module_clients: dict[str, Client], db: None) -> dict[str, Client]:
    """The clients, signed in afresh: sessions live in the cache, which each test clears
    (it also holds the API's rate limit counters)."""
    cache.clear()
    for role in SIGNED_IN:
        _module_clients[role].cookies.clear()
        _module_clients[role].force_login(world.users[role])
    for role in ("anonymous", "api"):
        _module_clients[role].cookies.clear()
    return _module_clients


# The table ---------------------------------------------------------------------------------

Kwargs = Callable[[World], dict[str, Any]]


def _none(w: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Case:
    name: str  # the URL name ("namespace:name")
    method: str
    expect: str  # one letter per role of ROLES
    kwargs: Kwargs = _none
    data: Callable[[World], Any] | None = None
    query: str = ""
    api: str = ""  # the OpenAPI path template, for API operations
    note: str = ""  # tells apart two rows of one route
    # Views that answer a refused write with a redirect and a message: did the write happen?
    effect: Callable[[World], bool] | None = None
    login_redirect_ok: bool = False  # logout sends everyone to the login page
    raw: str = ""  # a ready URL, for patterns that cannot be reversed (unnamed ones)
    multipart: bool = False  # an API operation taking a file (multipart/form-data)

    @property
    def id(self) -> str:
        label = self.api or self.name
        return f"{self.method} {label}" + (f" [{self.note}]" if self.note else "")

    def url(self, w: World) -> str:
        if self.raw:
            return self.raw
        kwargs = self.kwargs(w)
        path = API + self.api.format(**kwargs) if self.api else reverse(self.name, kwargs=kwargs)
        return path + (f"?{self.query}" if self.query else "")


ALL = "YYYYYYY"  # public
SIGNED = "YYYYYYN"  # everyone signed in
OFFICE = "YNNNNNN"
OVERVIEW = "YYNNNNN"  # strategy office and executive board
READ_A = "YYYNNNN"  # may read unit A's unpublished agreements
WRITE_A = "YNYNNNN"  # may write unit A's agreement
WRITE_B = "YNNYNNN"  # may write unit B's agreement
AGREE_A = "NYNNNNN"  # may agree unit A's agreement (above it, never the office alone)
NOBODY = "NNNNNNN"


def a(w: World, year: int = YEAR) -> dict[str, Any]:
    return {"unit_code": "unit-a1a", "year": year}


def b(w: World) -> dict[str, Any]:
    return {"unit_code": "unit-a1b", "year": YEAR}


def strat(w: World) -> dict[str, Any]:
    return {"code": "group"}


def _section(w: World) -> dict[str, Any]:
    return {"pk": w.running_report.pk, "section_pk": w.running_section.pk}


def _analysis(w: World) -> dict[str, Any]:
    return {"unit_code": "unit-a1a", "period_id": w.t1.pk}


def state_of(agreement_attr: str, state: str) -> Callable[[World], bool]:
    return lambda w: Agreement.objects.get(pk=getattr(w, agreement_attr).pk).state == state


def _comment_added(w: World) -> bool:
    return Comment.objects.filter(body__in=("Nice", "Hm")).exists()


def _agreements_of_a() -> int:
    return Agreement.objects.filter(unit__code="unit-a1a").count()


WEB: list[Case] = [
    Case("home", "GET", SIGNED),
    Case("healthz", "GET", ALL),
    # Operations: health for load balancers; metrics only with a token or an allowed address.
    Case("ops:live", "GET", ALL),
    Case("ops:ready", "GET", ALL),
    Case("ops:metrics", "GET", "NNNNNNN"),
    Case("favicon", "GET", ALL),
    Case("login", "GET", ALL),
    Case("logout", "POST", ALL, login_redirect_ok=True),
    Case("set_language", "POST", ALL, data=lambda w: {"language": "sv", "next": "/"}),
    # Organisation
    Case("organisation:unit_list", "GET", SIGNED),
    Case("organisation:unit_list", "GET", SIGNED, query="q=a1", note="search"),
    Case("organisation:unit_detail", "GET", SIGNED, lambda w: {"code": "unit-a1a"}),
    Case("organisation:sync_runs", "GET", OFFICE),
    # Strategy
    Case("strategy:strategy_list", "GET", SIGNED),
    Case("strategy:strategy_create", "GET", OFFICE),
    Case(
        "strategy:strategy_create",
        "POST",
        OFFICE,
        data=lambda w: {"code": "new-one", "title": "New", "start_year": 2026, "end_year": 2027},
    ),
    Case("strategy:strategy_detail", "GET", SIGNED, strat),
    Case(
        "strategy:strategy_detail", "GET", OFFICE, lambda w: {"code": "secret-plan"}, note="draft"
    ),
    Case("strategy:strategy_edit", "GET", OFFICE, strat),
    Case("strategy:strategy_edit", "POST", OFFICE, strat, data=lambda w: {}),
    Case("strategy:strategy_levels", "GET", OFFICE, strat),
    Case("strategy:strategy_levels", "POST", OFFICE, strat, data=lambda w: {}),
    Case("strategy:strategy_history", "GET", SIGNED, strat),
    Case(
        "strategy:strategy_history", "GET", OFFICE, lambda w: {"code": "secret-plan"}, note="draft"
    ),
    Case("strategy:element_create", "GET", OFFICE, strat),
    Case("strategy:element_create", "POST", OFFICE, strat, data=lambda w: {}),
    Case("strategy:element_detail", "GET", SIGNED, lambda w: {"code": "group", "pk": w.goal.pk}),
    Case(
        "strategy:element_detail",
        "GET",
        OFFICE,
        lambda w: {"code": "secret-plan", "pk": w.draft_element.pk},
        note="draft",
    ),
    Case("strategy:element_edit", "GET", OFFICE, lambda w: {"code": "group", "pk": w.goal.pk}),
    Case(
        "strategy:element_edit",
        "POST",
        OFFICE,
        lambda w: {"code": "group", "pk": w.goal.pk},
        data=lambda w: {},
    ),
    Case(
        "strategy:element_delete",
        "POST",
        OFFICE,
        lambda w: {"code": "group", "pk": w.loose.pk},
        effect=lambda w: not Element.objects.filter(pk=w.loose.pk).exists(),
    ),
    # Agreements
    Case("agreements:agreement_list", "GET", SIGNED, query=f"year={YEAR}"),
    Case("agreements:unit_agreements", "GET", SIGNED, lambda w: {"code": "unit-a1a"}),
    Case("agreements:unit_sight", "GET", SIGNED, lambda w: {"code": "unit-a1a"}),
    Case("agreements:goal_initiatives", "GET", SIGNED, lambda w: {"pk": w.goal.pk}),
    Case(
        "agreements:goal_initiatives",
        "GET",
        OFFICE,
        lambda w: {"pk": w.draft_element.pk},
        note="draft",
    ),
    Case("agreements:agreement_detail", "GET", READ_A, a, note="draft of A"),
    Case("agreements:agreement_detail", "GET", SIGNED, b, note="published of B"),
    Case(
        "agreements:agreement_detail",
        "GET",
        SIGNED,
        lambda w: a(w, YEAR - 1),
        note="A in revision",
    ),
    Case(
        "agreements:agreement_create",
        "POST",
        WRITE_A,
        lambda w: a(w, YEAR + 5),
        effect=lambda w: _agreements_of_a() == 5,
    ),
    Case("agreements:agreement_edit", "GET", WRITE_A, a),
    Case("agreements:agreement_edit", "POST", WRITE_A, a, data=lambda w: {"summary": "Changed"}),
    Case("agreements:agreement_history", "GET", READ_A, a),
    Case(
        "agreements:agreement_version",
        "GET",
        SIGNED,
        lambda w: {**a(w, YEAR - 1), "number": w.published_version.number},
    ),
    Case("agreements:initiative_create", "GET", WRITE_A, a),
    Case("agreements:initiative_create", "POST", WRITE_A, a, data=lambda w: {}),
    Case(
        "agreements:initiative_edit",
        "GET",
        WRITE_A,
        lambda w: {**a(w), "pk": w.draft_initiative.pk},
    ),
    Case(
        "agreements:initiative_delete",
        "POST",
        WRITE_A,
        lambda w: {**a(w), "pk": w.draft_initiative.pk},
        effect=lambda w: not w.draft.initiatives.exists(),
    ),
    Case(
        "agreements:agreement_carry_forward",
        "POST",
        WRITE_A,
        a,
        effect=lambda w: Agreement.objects.filter(unit__code="unit-a1a", year=YEAR + 1).exists(),
    ),
    Case(
        "agreements:agreement_transition",
        "POST",
        WRITE_A,
        lambda w: {**a(w), "action": "submit"},
        effect=state_of("draft", AgreementState.SUBMITTED),
        note="submit",
    ),
    Case(
        "agreements:agreement_transition",
        "POST",
        AGREE_A,
        lambda w: {**a(w, YEAR + 2), "action": "agree"},
        effect=state_of("submitted", AgreementState.AGREED),
        note="agree",
    ),
    Case(
        "agreements:agreement_transition",
        "POST",
        AGREE_A,
        lambda w: {**a(w, YEAR + 2), "action": "return"},
        data=lambda w: {"comment": "Again"},
        effect=state_of("submitted", AgreementState.DRAFT),
        note="return",
    ),
    Case(
        "agreements:agreement_transition",
        "POST",
        "YYYNNNN",
        lambda w: {**a(w, YEAR + 3), "action": "publish"},
        effect=state_of("agreed", AgreementState.PUBLISHED),
        note="publish",
    ),
    Case(
        "agreements:agreement_transition",
        "POST",
        WRITE_B,
        lambda w: {**b(w), "action": "revise"},
        effect=state_of("published", AgreementState.DRAFT),
        note="revise",
    ),
    # Indicators
    Case("indicators:indicator_list", "GET", SIGNED),
    Case("indicators:indicator_detail", "GET", SIGNED, lambda w: {"code": "SICK"}),
    Case("indicators:goal_panel", "GET", SIGNED, lambda w: {"pk": w.goal.pk}),
    Case("indicators:unit_panel", "GET", SIGNED, lambda w: {"code": "unit-a1a"}),
    Case(
        "indicators:unit_chart", "GET", SIGNED, lambda w: {"code": "unit-a1a", "indicator": "SICK"}
    ),
    Case("indicators:import_list", "GET", OFFICE),
    Case("indicators:import_new", "GET", OFFICE),
    Case("indicators:import_new", "POST", OFFICE, data=lambda w: {}),
    Case("indicators:import_detail", "GET", OFFICE, lambda w: {"pk": w.batch.pk}),
    Case("indicators:import_confirm", "POST", OFFICE, lambda w: {"pk": w.batch.pk}),
    Case("indicators:import_template", "GET", OFFICE),
    Case("indicators:indicator_new", "GET", OFFICE),
    Case("indicators:indicator_new", "POST", OFFICE, data=lambda w: {}),
    Case("indicators:indicator_edit", "GET", OFFICE, lambda w: {"code": "SICK"}),
    Case(
        "indicators:indicator_edit", "POST", OFFICE, lambda w: {"code": "SICK"}, data=lambda w: {}
    ),
    Case(
        "indicators:indicator_archive",
        "POST",
        OFFICE,
        lambda w: {"code": "SICK"},
        effect=lambda w: Indicator.objects.get(code="SICK").archived_at is not None,
    ),
    Case(
        "indicators:indicator_delete",
        "POST",
        OFFICE,
        lambda w: {"code": "EMPTY"},
        effect=lambda w: not Indicator.objects.filter(code="EMPTY").exists(),
    ),
    Case("indicators:goal_link", "GET", OFFICE, lambda w: {"pk": w.goal.pk}),
    Case("indicators:goal_link", "POST", OFFICE, lambda w: {"pk": w.goal.pk}, data=lambda w: {}),
    Case("indicators:fetch_new", "GET", OFFICE, lambda w: {"code": "SICK"}),
    Case("indicators:fetch_detail", "GET", OFFICE, lambda w: {"pk": w.fetch.pk}),
    Case(
        "indicators:fetch_run",
        "POST",
        OFFICE,
        lambda w: {"pk": w.fetch.pk},
        effect=lambda w: SourceFetch.objects.get(pk=w.fetch.pk).status == "queued",
    ),
    Case(
        "indicators:fetch_delete",
        "POST",
        OFFICE,
        lambda w: {"pk": w.fetch.pk},
        effect=lambda w: not SourceFetch.objects.filter(pk=w.fetch.pk).exists(),
    ),
    # Follow-up
    Case("followup:dashboard", "GET", OVERVIEW),
    Case("followup:compliance", "GET", "YYYYNNN"),  # heads: their own units
    Case("followup:cycle", "GET", SIGNED),
    Case("followup:calendar_reset", "POST", SIGNED),
    Case("followup:calendar_feed", "GET", ALL, lambda w: {"token": w.feed.token}),
    Case("followup:calendar_feed", "GET", NOBODY, lambda w: {"token": "x" * 40}, note="bad"),
    Case("followup:assess", "GET", OVERVIEW, lambda w: {"pk": w.assessed.pk}),
    Case("followup:unit_overdue", "GET", SIGNED, lambda w: {"code": "unit-a1a"}),
    Case("followup:agreement_comments", "GET", READ_A, a, note="draft of A"),
    Case("followup:agreement_comments", "GET", SIGNED, b, note="published of B"),
    Case("followup:agreement_reporting", "GET", READ_A, a, note="draft of A"),
    Case("followup:agreement_reporting", "GET", SIGNED, b, note="published of B"),
    # Status reports and comments
    Case(
        "reports:comment_add",
        "POST",
        SIGNED,
        data=lambda w: {"agreement": w.published.pk, "body": "Nice"},
        effect=_comment_added,
        note="published",
    ),
    Case(
        "reports:comment_add",
        "POST",
        READ_A,
        data=lambda w: {"agreement": w.draft.pk, "body": "Hm"},
        effect=_comment_added,
        note="draft",
    ),
    Case("reports:unit_reports", "GET", READ_A, lambda w: {"unit_code": "unit-a1a"}),
    Case(
        "reports:report_period",
        "GET",
        READ_A,
        lambda w: {"unit_code": "unit-a1a", "deadline_id": w.t1.pk},
    ),
    Case(
        "reports:report_period",
        "POST",
        WRITE_B,
        lambda w: {"unit_code": "unit-a1b", "deadline_id": w.t2.pk},
        data=lambda w: {"action": "save", f"status-{w.public_initiative.pk}": "on_track"},
    ),
    # Audit trail
    Case("audit:trail", "GET", OFFICE),
    Case("audit:export", "GET", OFFICE),
    # API tokens page
    Case("api:token_list", "GET", SIGNED),
    Case(
        "api:token_list",
        "POST",
        SIGNED,
        data=lambda w: {"name": "new", "scope": "read", "expires_in_days": 30},
    ),
    Case("api:token_revoke", "POST", "NNNNYNN", lambda w: {"pk": w.web_token.pk}),
    # Roles from single sign-on groups
    Case("sso:group_roles", "GET", OFFICE),
    Case(
        "sso:group_roles",
        "POST",
        OFFICE,
        data=lambda w: {"group": "new", "role": Role.READER, "unit": w.units["centre-a"].pk},
    ),
    Case("sso:group_role_delete", "POST", OFFICE, lambda w: {"pk": w.group_role.pk}),
    # --- Single sign-on: OpenID Connect (pejling/sso/oidc.py) -----------------------------
    # With OpenID Connect configured, starting a sign-in and the provider's callback are public
    # like the log-in page (tests/sso/test_oidc.py signs in anonymously through both). This
    # matrix runs without it configured, and then neither page is there: 404 for everyone.
    Case("oidc_authentication_init", "GET", NOBODY, note="OIDC not configured"),
    Case(
        "oidc_authentication_callback",
        "GET",
        NOBODY,
        query="code=x&state=y",
        note="OIDC not configured",
    ),
    # mozilla-django-oidc's log-out: signs out locally and goes to the log-in page, like logout.
    Case("oidc_logout", "POST", ALL, login_redirect_ok=True),
    # --- Single sign-on: SAML 2.0 (pejling/sso/saml.py) -------------------------------------
    # With SAML configured, starting a sign-in, the assertion consumer service and the SP
    # metadata are public like the log-in page (tests/sso/test_saml.py signs in anonymously
    # through them against a real IdP). This matrix runs without SAML: 404 for everyone.
    Case("saml2_login", "GET", NOBODY, note="SAML not configured"),
    Case(
        "saml2_acs",
        "POST",
        NOBODY,
        data=lambda w: {"SAMLResponse": "x"},
        note="SAML not configured",
    ),
    Case("saml2_metadata", "GET", NOBODY, note="SAML not configured"),
    # --- Board reports (pejling/reports) -----------------------------------------------------
    Case("board_reports:report_list", "GET", SIGNED),
    Case("board_reports:report_create", "GET", OFFICE),
    Case(
        "board_reports:report_create",
        "POST",
        OFFICE,
        data=lambda w: {"title": "New", "period": w.t2.pk, "kind": "interim"},
    ),
    # In progress: the office, the executive board and the people it is assigned to.
    Case("board_reports:report_detail", "GET", READ_A, lambda w: {"pk": w.running_report.pk}),
    Case(
        "board_reports:report_detail",
        "GET",
        SIGNED,
        lambda w: {"pk": w.finalised_report.pk},
        note="finalised",
    ),
    Case(
        "board_reports:report_finalise",
        "POST",
        OFFICE,
        lambda w: {"pk": w.approved_report.pk},
        effect=lambda w: Report.objects.get(pk=w.approved_report.pk).state == ReportState.FINALISED,
    ),
    # A draft chapter: its writers and the office.
    Case("board_reports:section_detail", "GET", WRITE_A, _section),
    Case(
        "board_reports:section_detail",
        "POST",
        WRITE_A,
        _section,
        data=lambda w: {"body": "Changed", "version": w.running_section.version},
        effect=lambda w: Section.objects.get(pk=w.running_section.pk).body == "Changed",
    ),
    Case(
        "board_reports:section_assign",
        "POST",
        OFFICE,
        _section,
        data=lambda w: {"due_date": "2026-10-01", "version": w.running_section.version},
        effect=lambda w: Section.objects.get(pk=w.running_section.pk).due_date is not None,
    ),
    Case(
        "board_reports:section_step",
        "POST",
        WRITE_A,
        lambda w: _section(w) | {"step": "ready"},
        effect=lambda w: Section.objects.get(pk=w.running_section.pk).state == "ready",
    ),
    Case("board_reports:analysis_start", "GET", SIGNED),
    # A unit's analyses: those who read its unpublished work (and the executive board).
    Case("board_reports:analysis_list", "GET", READ_A, _analysis),
    Case(
        "board_reports:analysis_edit",
        "GET",
        READ_A,
        lambda w: _analysis(w) | {"goal_id": w.goal.pk},
    ),
    Case(
        "board_reports:analysis_edit",
        "POST",
        WRITE_A,
        lambda w: _analysis(w) | {"goal_id": w.goal.pk},
        data=lambda w: {"assessment": "at_risk", "body": "x", "version": w.analysis.version},
    ),
    Case(
        "board_reports:analysis_rollup",
        "GET",
        OVERVIEW,
        lambda w: {"unit_code": "dept-a1", "period_id": w.t1.pk, "goal_id": w.goal.pk},
    ),
    Case("board_reports:document_list", "GET", SIGNED),
    Case(
        "board_reports:document_create",
        "POST",
        SIGNED,
        data=lambda w: {"kind": "strategy", "format": "pdf", "language": "en"},
    ),
    # A document is its requester's alone.
    Case("board_reports:document_detail", "GET", "NNNNYNN", lambda w: {"pk": w.job.pk}),
    Case("board_reports:document_download", "GET", "NNNNYNN", lambda w: {"pk": w.job.pk}),
    Case("board_reports:document_retry", "POST", "NNNNYNN", lambda w: {"pk": w.job.pk}),
]


def _api(
    method: str, path: str, name: str, expect: str, kwargs: Kwargs = _none, **extra: Any
) -> Case:
    return Case(f"api-v1:{name}", method, expect, kwargs, api=path, **extra)


def _checked_upload(w: World) -> dict[str, Any]:
    """A checked upload waiting for confirmation (made inside the row's rolled-back transaction)."""
    batch = ImportBatch.objects.create(
        source="file", filename="v.csv", file="v.csv", status=ImportStatus.PREVIEW
    )
    return {"batch_id": batch.pk}


def _initiative_in(w: World) -> dict[str, Any]:
    return {"title": "Via API", "goals": [w.goal.pk]}


API_CASES: list[Case] = [
    _api("GET", "/", "api-root", SIGNED),  # the root: name, version and links
    _api("GET", "/units", "list_units", SIGNED),
    _api("GET", "/units/{code}", "get_unit", SIGNED, lambda w: {"code": "unit-a1a"}),
    _api("GET", "/people", "list_people", SIGNED),
    _api("GET", "/people/{username}", "get_person", SIGNED, lambda w: {"username": "head"}),
    _api("GET", "/memberships", "list_memberships", SIGNED),
    _api(
        "POST",
        "/memberships",
        "create_membership",
        OFFICE,
        data=lambda w: {"person": "outsider", "unit": "unit-b1a", "role": Role.MEMBER},
    ),
    _api(
        "POST",
        "/memberships/{membership_id}/end",
        "end_membership",
        OFFICE,
        lambda w: {"membership_id": w.spare_membership.pk},
        data=lambda w: {},
    ),
    _api("GET", "/strategies", "list_strategies", SIGNED),
    _api(
        "POST",
        "/strategies",
        "create_strategy",
        OFFICE,
        data=lambda w: {"code": "api-new", "title": "New", "start_year": 2026, "end_year": 2027},
    ),
    _api("GET", "/strategies/{code}", "get_strategy", SIGNED, strat),
    _api(
        "GET",
        "/strategies/{code}",
        "get_strategy",
        OFFICE,
        lambda w: {"code": "secret-plan"},
        note="draft",
    ),
    _api(
        "PATCH",
        "/strategies/{code}",
        "update_strategy",
        OFFICE,
        strat,
        data=lambda w: {"edit_version": Strategy.objects.get(code="group").version},
    ),
    _api(
        "PUT",
        "/strategies/{code}/levels",
        "set_levels",
        OFFICE,
        strat,
        data=lambda w: [{"name": "Theme"}, {"name": "Goal", "holds_goals": True}],
    ),
    _api("GET", "/strategies/{code}/elements", "list_elements", SIGNED, strat),
    _api(
        "POST",
        "/strategies/{code}/elements",
        "create_element",
        OFFICE,
        strat,
        data=lambda w: {"title": "New theme", "code": "T7"},
    ),
    _api(
        "GET", "/elements/{element_id}", "get_element", SIGNED, lambda w: {"element_id": w.goal.pk}
    ),
    _api(
        "GET",
        "/elements/{element_id}",
        "get_element",
        OFFICE,
        lambda w: {"element_id": w.draft_element.pk},
        note="draft",
    ),
    _api(
        "PUT",
        "/elements/{element_id}",
        "update_element",
        OFFICE,
        lambda w: {"element_id": w.loose.pk},
        data=lambda w: {
            "title": "Renamed",
            "code": "T9",
            "edit_version": Element.objects.get(pk=w.loose.pk).version,
        },
    ),
    _api(
        "DELETE",
        "/elements/{element_id}",
        "delete_element",
        OFFICE,
        lambda w: {"element_id": w.loose.pk},
    ),
    _api("GET", "/agreement-rules", "list_rules", SIGNED),
    _api(
        "POST",
        "/agreement-rules",
        "create_rule",
        OFFICE,
        data=lambda w: {
            "strategy": "group",
            "name": "Another",
            "kind": w.rule.kind,
            "unit_level": w.units["dept-a1"].level.depth,
        },
    ),
    _api("GET", "/agreement-rules/{rule_id}", "get_rule", SIGNED, lambda w: {"rule_id": w.rule.pk}),
    _api("GET", "/indicators", "list_indicators", SIGNED),
    _api("GET", "/indicators/{code}", "get_indicator", SIGNED, lambda w: {"code": "SICK"}),
    _api(
        "GET",
        "/indicators/{code}/series",
        "indicator_series",
        SIGNED,
        lambda w: {"code": "SICK"},
    ),
    _api("GET", "/values", "list_values", SIGNED),
    _api(
        "POST",
        "/values",
        "write_values",
        OFFICE,
        data=lambda w: {
            "values": [{"indicator": "SICK", "unit": "unit-a1a", "period": "2025-03", "value": 2}]
        },
    ),
    _api(
        "POST",
        "/imports",
        "upload_import",
        OFFICE,
        data=lambda w: {
            "file": SimpleUploadedFile(
                "v.csv", b"Indicator;Unit;Period;Value\nSICK;unit-a1a;2025;1\n"
            )
        },
        multipart=True,
    ),
    _api("GET", "/imports/{batch_id}", "import_status", OFFICE, lambda w: {"batch_id": w.batch.pk}),
    _api("POST", "/imports/{batch_id}/confirm", "confirm_import", OFFICE, _checked_upload),
    _api("GET", "/agreements", "list_agreements", SIGNED),
    _api(
        "POST",
        "/agreements",
        "create_agreement",
        WRITE_A,
        data=lambda w: {"unit": "unit-a1a", "year": YEAR + 5},
    ),
    _api(
        "GET",
        "/agreements/{unit}/{year}",
        "get_agreement",
        READ_A,
        lambda w: {"unit": "unit-a1a", "year": YEAR},
        note="draft of A",
    ),
    _api(
        "GET",
        "/agreements/{unit}/{year}",
        "get_agreement",
        SIGNED,
        lambda w: {"unit": "unit-a1b", "year": YEAR},
        note="published of B",
    ),
    _api(
        "GET",
        "/agreements/{unit}/{year}",
        "get_agreement",
        SIGNED,
        lambda w: {"unit": "unit-a1a", "year": YEAR - 1},
        note="A in revision",
    ),
    _api(
        "PATCH",
        "/agreements/{unit}/{year}",
        "update_agreement",
        WRITE_A,
        lambda w: {"unit": "unit-a1a", "year": YEAR},
        data=lambda w: {
            "summary": "Changed",
            "edit_version": Agreement.objects.get(pk=w.draft.pk).version,
        },
    ),
    _api(
        "POST",
        "/agreements/{unit}/{year}/initiatives",
        "create_initiative",
        WRITE_A,
        lambda w: {"unit": "unit-a1a", "year": YEAR},
        data=_initiative_in,
    ),
    _api(
        "PUT",
        "/agreements/{unit}/{year}/initiatives/{initiative_id}",
        "update_initiative",
        WRITE_A,
        lambda w: {"unit": "unit-a1a", "year": YEAR, "initiative_id": w.draft_initiative.pk},
        data=lambda w: {
            **_initiative_in(w),
            "edit_version": Initiative.objects.get(pk=w.draft_initiative.pk).version,
        },
    ),
    _api(
        "DELETE",
        "/agreements/{unit}/{year}/initiatives/{initiative_id}",
        "delete_initiative",
        WRITE_A,
        lambda w: {"unit": "unit-a1a", "year": YEAR, "initiative_id": w.draft_initiative.pk},
    ),
    _api(
        "POST",
        "/agreements/{unit}/{year}/submit",
        "submit",
        WRITE_A,
        lambda w: {"unit": "unit-a1a", "year": YEAR},
        data=lambda w: {},
    ),
    _api(
        "POST",
        "/agreements/{unit}/{year}/agree",
        "agree",
        AGREE_A,
        lambda w: {"unit": "unit-a1a", "year": YEAR + 2},
    ),
    _api(
        "POST",
        "/agreements/{unit}/{year}/publish",
        "publish",
        "YYYNNNN",
        lambda w: {"unit": "unit-a1a", "year": YEAR + 3},
    ),
    _api(
        "POST",
        "/agreements/{unit}/{year}/return",
        "return_",
        AGREE_A,
        lambda w: {"unit": "unit-a1a", "year": YEAR + 2},
        data=lambda w: {"comment": "Again"},
    ),
    _api(
        "POST",
        "/agreements/{unit}/{year}/revise",
        "revise",
        WRITE_B,
        lambda w: {"unit": "unit-a1b", "year": YEAR},
    ),
    _api("GET", "/status-reports", "list_reports", SIGNED),
    _api(
        "POST",
        "/status-reports/{unit}/{deadline_id}",
        "report_period",
        WRITE_B,
        lambda w: {"unit": "unit-a1b", "deadline_id": w.t2.pk},
        data=lambda w: {"entries": [{"initiative": w.public_initiative.pk, "status": "on_track"}]},
    ),
    _api(
        "POST",
        "/status-reports/{unit}/{deadline_id}/unchanged",
        "confirm_unchanged",
        WRITE_B,
        lambda w: {"unit": "unit-a1b", "deadline_id": w.t2.pk},
    ),
    _api("GET", "/evaluations", "list_evaluations", OVERVIEW),
    _api("GET", "/deadlines", "list_deadlines", SIGNED),
    _api("GET", "/audit", "list_audit", OFFICE),
    # Not operations of the OpenAPI document, but URL patterns of the API all the same.
    Case("api-v1:openapi-json", "GET", ALL),
    Case("api-v1:docs", "GET", ALL),
]


def _admin_cases() -> list[Case]:
    """The admin is for staff only, and no role of the matrix is staff: each of its URL
    patterns refuses everyone (its login page aside)."""
    cases = []
    for name, _pattern, route in _routes():
        if not name.startswith("admin:"):
            continue
        # The login page is public; logout sends a non-staff person on to the admin index
        # (which then refuses them).
        expect = {"admin:login": ALL, "admin:logout": SIGNED}.get(name, NOBODY)
        if "(?P<app_label>" in route:
            app_label = next(iter(admin_site._registry))._meta.app_label
            url = reverse("admin:app_list", kwargs={"app_label": app_label})
        else:
            url = "/" + re.sub(r"<[^>]+>", "1", route)
        cases.append(Case(name, "GET", expect, raw=url))
    return cases


def _routes(
    patterns: list[Any] | None = None, namespace: str = "", prefix: str = ""
) -> Iterator[tuple[str, URLPattern, str]]:
    """Every URL pattern of the project, as ``namespace:name`` (unnamed ones by their route)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _routes(pattern.url_patterns, inner, route)
        else:
            name = pattern.name or f"<unnamed {route}>"
            yield (f"{namespace}:{name}" if namespace else name), pattern, route


def _route_names() -> set[str]:
    return {name for name, _pattern, _route in _routes()}


def _publication_cases() -> list[Case]:
    """The public site (``public``) with the installation's default, the site off: nobody
    reads it (404) but the accessibility statement, which is never off. Its preview
    (``preview``): the strategy office, site on or off. The publisher's page: the office."""
    pages = {
        "root": {},
        "accessibility_root": {},
        "catalog": {},
        "catalog_ttl": {},
        "catalog_rdf": {},
        "data_file": {"filename": "goals.json"},
        "home": {"lang": "sv"},
        "strategy": {"lang": "sv", "code": "x"},
        "element": {"lang": "sv", "code": "x", "element": "y"},
        "agreement_list": {"lang": "sv"},
        "agreement_year": {"lang": "sv", "year": YEAR},
        "agreement": {"lang": "sv", "year": YEAR, "unit": "unit-a1a"},
        "indicator_list": {"lang": "sv"},
        "indicator": {"lang": "sv", "code": "x"},
        "search": {"lang": "sv"},
        "open_data": {"lang": "sv"},
        "accessibility": {"lang": "en"},
    }
    always = {"accessibility", "accessibility_root"}
    # Pages of things that do not exist (or are not public: A's agreement is a draft) answer
    # 404 in the preview too.
    missing = {"strategy", "element", "agreement", "indicator"}
    cases = []
    for name, kwargs in pages.items():
        cases.append(
            Case(f"public:{name}", "GET", ALL if name in always else NOBODY, lambda w, k=kwargs: k)
        )
        cases.append(
            Case(
                f"preview:{name}",
                "GET",
                NOBODY if name in missing else OFFICE,
                lambda w, k=kwargs: k,
            )
        )
    cases += [
        Case("publication:settings", "GET", OFFICE),
        Case(
            "publication:settings",
            "POST",
            OFFICE,
            data=lambda w: {
                "form": "statement",
                "statement-a11y_compliance": "full",
                "statement-a11y_method": "self",
            },
        ),
        Case("publication:history", "GET", OFFICE),
    ]
    return cases


CASES = (
    WEB
    + API_CASES
    + _admin_cases()
    + portfolio_cases(Case)
    + portfolio_api_cases(_api)
    + _publication_cases()
)


# The matrix ---------------------------------------------------------------------------------


def test_every_route_has_a_decision() -> None:
    decided = {case.name for case in CASES}
    missing = sorted(_route_names() - decided)
    assert not missing, f"URL patterns without a row in the permission matrix: {missing}"
    stale = sorted(decided - _route_names())
    assert not stale, f"rows of the permission matrix without a URL pattern: {stale}"

    schema = ninja_api.get_openapi_schema()
    operations = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    listed = {(case.method, API + case.api) for case in CASES if case.api}
    assert not operations - listed, (
        f"API operations without a row in the permission matrix: {sorted(operations - listed)}"
    )
    assert not listed - operations, f"rows for no API operation: {sorted(listed - operations)}"


def test_cases_are_well_formed() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "two rows of the matrix have the same id"
    for case in CASES:
        assert len(case.expect) == len(ROLES) and set(case.expect) <= {"Y", "N"}, case.id


def _request(clients: dict[str, Client], case: Case, w: World, role: str) -> Any:
    client = clients[role]
    url = case.url(w)
    data = case.data(w) if case.data else None
    headers: dict[str, str] = {}
    if case.api and role != "anonymous":
        headers["Authorization"] = f"Bearer {w.tokens[role]}"
        client = clients["api"]  # the token, not the session, is who is asking
    method = getattr(client, case.method.lower())
    if case.api and case.multipart:
        return method(url, data or {}, headers=headers)
    if case.api and case.method != "GET":
        body = json.dumps(data if data is not None else {})
        return method(url, body, content_type="application/json", headers=headers)
    if case.method == "GET":
        return method(url, headers=headers)
    return method(url, data or {}, headers=headers)


def _outcome(response: Any, case: Case, w: World, role: str) -> str:
    """``Y`` allowed, ``N`` refused (as the role should be refused), else what happened."""
    code = response.status_code
    if code in (301, 302, 303, 307, 308):
        location = response["Location"]
        if "/login/" in location.split("?")[0] and not case.login_redirect_ok:
            return "N"
        if case.effect is not None:
            return "Y" if case.effect(w) else "N"
        return "Y"
    if case.api and role == "anonymous":
        return "N" if code == 401 else ("Y" if 200 <= code < 300 else f"<{code}>")
    if code in (403, 404):
        return "N"
    if 200 <= code < 300:
        return "Y"
    return f"<{code}>"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_permission_matrix(case: Case, world: World, clients: dict[str, Client], db: None) -> None:
    got = []
    for role in ROLES:
        with transaction.atomic():
            response = _request(clients, case, world, role)
            clients["api"].cookies.clear()
            got.append(_outcome(response, case, world, role))
            transaction.set_rollback(True)
    table = "  ".join(f"{r}={e}/{g}" for r, e, g in zip(ROLES, case.expect, got, strict=True))
    assert "".join(got) == case.expect, f"{case.id}: expected/got per role: {table}"


# Unpublished drafts never leak ------------------------------------------------------------

LEAK_ROLES = ("colleague", "employee", "outsider")

LEAK_PAGES: list[tuple[str, Callable[[World], str]]] = [
    ("agreement list", lambda w: reverse("agreements:agreement_list") + f"?year={YEAR}"),
    (
        "agreement list, last year",
        lambda w: reverse("agreements:agreement_list") + f"?year={YEAR - 1}",
    ),
    (
        "unit page of A (line of sight)",
        lambda w: reverse("organisation:unit_detail", args=["unit-a1a"]),
    ),
    (
        "unit page of A last year",
        lambda w: reverse("organisation:unit_detail", args=["unit-a1a"]) + f"?year={YEAR - 1}",
    ),
    (
        "unit page of A: its agreements (fragment)",
        lambda w: reverse("agreements:unit_agreements", args=["unit-a1a"]) + f"?year={YEAR}",
    ),
    (
        "unit page of A: line of sight (fragment)",
        lambda w: reverse("agreements:unit_sight", args=["unit-a1a"]) + f"?year={YEAR}",
    ),
    (
        "unit page of A last year: line of sight (fragment)",
        lambda w: reverse("agreements:unit_sight", args=["unit-a1a"]) + f"?year={YEAR - 1}",
    ),
    (
        "element: initiatives linked (fragment)",
        lambda w: reverse("agreements:goal_initiatives", args=[w.goal.pk]),
    ),
    (
        "draft agreement of A: comments (fragment)",
        lambda w: reverse("followup:agreement_comments", args=["unit-a1a", YEAR]),
    ),
    (
        "agreement A in revision: comments (fragment)",
        lambda w: reverse("followup:agreement_comments", args=["unit-a1a", YEAR - 1]),
    ),
    (
        "draft agreement of A: report links (fragment)",
        lambda w: reverse("followup:agreement_reporting", args=["unit-a1a", YEAR]),
    ),
    ("home", lambda w: reverse("home")),
    ("organisation search", lambda w: reverse("organisation:unit_list") + "?q=a1a"),
    (
        "element: initiatives linked",
        lambda w: reverse("strategy:element_detail", args=["group", w.goal.pk]),
    ),
    (
        "agreement A in revision",
        lambda w: reverse("agreements:agreement_detail", args=["unit-a1a", YEAR - 1]),
    ),
    (
        "draft agreement of A",
        lambda w: reverse("agreements:agreement_detail", args=["unit-a1a", YEAR]),
    ),
    ("dashboard", lambda w: reverse("followup:dashboard") + f"?year={YEAR}"),
    ("compliance", lambda w: reverse("followup:compliance") + f"?year={YEAR}"),
    ("calendar feed", lambda w: reverse("followup:calendar_feed", args=[w.feed.token])),
    ("API agreements", lambda w: f"{API}/agreements?year={YEAR}"),
    ("API agreements, all years", lambda w: f"{API}/agreements"),
    ("API draft of A", lambda w: f"{API}/agreements/unit-a1a/{YEAR}"),
    ("API A in revision", lambda w: f"{API}/agreements/unit-a1a/{YEAR - 1}"),
    ("API status reports", lambda w: f"{API}/status-reports"),
    ("API evaluations", lambda w: f"{API}/evaluations?year={YEAR}"),
    ("board reports", lambda w: reverse("board_reports:report_list")),
    (
        "board report in progress",
        lambda w: reverse("board_reports:report_detail", args=[w.running_report.pk]),
    ),
    (
        "its draft chapter",
        lambda w: reverse(
            "board_reports:section_detail", args=[w.running_report.pk, w.running_section.pk]
        ),
    ),
    (
        "finalised board report",
        lambda w: reverse("board_reports:report_detail", args=[w.finalised_report.pk]),
    ),
]


@pytest.mark.parametrize("role", LEAK_ROLES)
def test_unpublished_drafts_never_leak(
    role: str, world: World, clients: dict[str, Client], db: None
) -> None:
    leaks = []
    for label, url in LEAK_PAGES:
        path = url(world)
        if path.startswith(API):
            response = clients["api"].get(
                path, headers={"Authorization": f"Bearer {world.tokens[role]}"}
            )
        else:
            response = clients[role].get(path)
        assert response.status_code in (200, 403, 404), (label, response.status_code)
        text = response.content.decode()
        leaks += [f"{label}: {secret}" for secret in SECRETS if secret in text]
    assert not leaks, f"{role} sees what is not published: {leaks}"


def test_the_scene_shows_drafts_to_those_who_may_read_them(
    world: World, clients: dict[str, Client], db: None
) -> None:
    """The leak test looks for the right text: the head of unit A does see it."""
    text = clients["head"].get(reverse("agreements:agreement_detail", args=["unit-a1a", YEAR]))
    assert "DRAFT-SECRET-A" in text.content.decode()
    page = clients["office"].get(reverse("agreements:goal_initiatives", args=[world.goal.pk]))
    assert "PUBLIC-B" in page.content.decode()
    listing = clients["colleague"].get(reverse("agreements:agreement_list") + f"?year={YEAR}")
    assert "unit-a1b" in listing.content.decode() or "Unit A1b" in listing.content.decode()
    assert StatusReport.objects.exists() and Strategy.objects.filter(code="group").exists()
