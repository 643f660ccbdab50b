"""The compliance matrix (units × themes), the executive dashboard and the compliance page:
what they show, their filters, who may see them, and that their queries do not grow with the
organisation."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pejling.agreements.models import (
    Agreement,
    AgreementState,
    Initiative,
    InitiativeGoal,
    InitiativeStatus,
    RuleJustification,
    traffic_light,
)
from pejling.agreements.selectors import light_counts, unit_statuses, unit_statuses_by_attention
from pejling.followup.models import (
    AssessmentStatus,
    CountsWhat,
    Deadline,
    DeadlineKind,
    GoalAssessment,
    ReportStatus,
)
from pejling.followup.selectors import ROW_STATES, Cell, ComplianceByAttention, compliance_matrix
from pejling.organisation.models import Role, Unit, UnitLevel
from pejling.overview.views import DASHBOARD_ROWS
from pejling.strategy.models import AgreementRule, Element, MeasureKind
from tests.factories import (
    YEAR,
    AgreementFactory,
    AgreementRuleFactory,
    DeadlineFactory,
    DerivedGoalFactory,
    GoalAssessmentFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    InitiativeFactory,
    KpiGoalFactory,
    MembershipFactory,
    StatusReportFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db

C, J, M, D, N = Cell.COVERED, Cell.JUSTIFIED, Cell.MISSING, Cell.DRAFT, Cell.NO_AGREEMENT
AUTUMN = datetime(YEAR, 9, 1, 10, tzinfo=UTC)


def level(depth: int) -> UnitLevel:
    return UnitLevel.objects.get(depth=depth)


@dataclass
class Scene:
    rule: AgreementRule


@pytest.fixture
def scene(org: Any, cascade: Any) -> Scene:
    """A rule for the units (level 4) of the group strategy, and their agreements:

    ============  ==========  ====================  ==========================
    unit          state       goals                 cells (T1, T2, T3)
    ============  ==========  ====================  ==========================
    Unit A1a      published   1, 2, 3               covered ×3
    Unit A1b      submitted   1 + a justification   covered, justified ×2
    Unit A2a      draft       2                     draft ×3 (not a commitment yet)
    Unit B1a      –           –                     no agreement ×3
    ============  ==========  ====================  ==========================
    """
    rule = AgreementRuleFactory(
        strategy=cascade.group, unit_level=level(4), name="Every theme has an initiative"
    )
    complete = AgreementFactory(unit=org.unit, state=AgreementState.PUBLISHED)
    InitiativeFactory(agreement=complete, goals=[cascade.goal_1, cascade.goal_2])
    InitiativeFactory(agreement=complete, goals=[cascade.goal_3])
    justified = AgreementFactory(unit=org.sibling, state=AgreementState.SUBMITTED)
    InitiativeFactory(agreement=justified, goals=[cascade.goal_1])
    RuleJustification.objects.create(agreement=justified, rule=rule, text="We merge in June.")
    gaps = AgreementFactory(unit=org.unit_a2a, state=AgreementState.DRAFT)
    InitiativeFactory(agreement=gaps, goals=[cascade.goal_2])
    # Measured goals, one under each theme, for the dashboard.
    cascade.goal_2.measure_kind = MeasureKind.COUNT
    cascade.goal_2.target_value = Decimal(3)
    cascade.goal_2.save()
    DerivedGoalFactory(goal=cascade.goal_2, counts=CountsWhat.UNITS)
    cascade.goal_3.measure_kind = MeasureKind.COVERAGE
    cascade.goal_3.target_value = Decimal(100)
    cascade.goal_3.save()
    DerivedGoalFactory(goal=cascade.goal_3, unit_level=level(4))
    return Scene(rule)


def cells(matrix: Any) -> dict[str, list[str]]:
    return {row.unit.name: row.cells for row in matrix.rows}


def login(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


def matrix_shown(response: Any) -> list[str]:
    """The units of the dashboard's compliance table, in the order shown."""
    return [row.unit.name for row in response.context["matrix_page"]]


def statuses_shown(response: Any) -> list[str]:
    """The units of the dashboard's table of initiatives by unit, in the order shown."""
    return [status.unit.name for status in response.context["unit_page"]]


# The matrix ---------------------------------------------------------------------------------------


def test_the_matrix_shows_covered_justified_draft_and_no_agreement(org, cascade, scene):
    matrix = compliance_matrix(year=YEAR, strategy=cascade.group, level=level(4))

    assert matrix.columns == [cascade.theme_1, cascade.theme_2, cascade.theme_3]
    assert cells(matrix) == {
        "Unit A1a": [C, C, C],
        "Unit A1b": [C, J, J],
        "Unit A2a": [D, D, D],
        "Unit B1a": [N, N, N],
    }
    assert [row.complete for row in matrix.rows] == [True, False, False, False]
    assert matrix.complete_count == 1
    assert matrix.rows[3].agreement is None


def test_a_draft_covers_no_theme_it_links(org, cascade, scene):
    """Unit A2a's draft links goal 2 (theme 2): a draft is not a commitment, as in the goal
    evaluations, so the whole row shows the draft, and links to it."""
    draft = org.unit_a2a.agreements.get()
    RuleJustification.objects.create(agreement=draft, rule=scene.rule, text="Not yet")

    matrix = compliance_matrix(year=YEAR, strategy=cascade.group, level=level(4))

    [row] = [r for r in matrix.rows if r.unit == org.unit_a2a]
    assert row.cells == [D, D, D]
    assert row.agreement == draft
    assert not row.complete


def test_an_agreement_reopened_for_a_revision_shows_as_a_draft(org, cascade, scene):
    Agreement.objects.filter(unit=org.unit).update(state=AgreementState.DRAFT)

    matrix = compliance_matrix(year=YEAR, strategy=cascade.group, level=level(4))

    assert cells(matrix)["Unit A1a"] == [D, D, D]
    assert matrix.complete_count == 0


@pytest.mark.parametrize(
    "state", [AgreementState.SUBMITTED, AgreementState.AGREED, AgreementState.PUBLISHED]
)
def test_a_submitted_agreed_or_published_agreement_covers_the_themes_it_links(
    org, cascade, scene, state
):
    agreement = AgreementFactory(unit=org.unit_b1a, state=state)
    InitiativeFactory(agreement=agreement, goals=[cascade.goal_1, cascade.goal_3])

    matrix = compliance_matrix(year=YEAR, strategy=cascade.group, level=level(4))

    assert cells(matrix)["Unit B1a"] == [C, M, C]


def test_a_cancelled_initiative_covers_no_theme(org, cascade, scene):
    agreement = AgreementFactory(unit=org.unit_b1a, state=AgreementState.AGREED)
    InitiativeFactory(agreement=agreement, goals=[cascade.goal_1])
    InitiativeFactory(
        agreement=agreement,
        goals=[cascade.goal_2, cascade.goal_3],
        status=InitiativeStatus.CANCELLED,
    )
    InitiativeFactory(  # a cancelled one beside a live one on the same theme: still covered
        agreement=agreement, goals=[cascade.goal_1], status=InitiativeStatus.CANCELLED
    )

    matrix = compliance_matrix(year=YEAR, strategy=cascade.group, level=level(4))

    assert cells(matrix)["Unit B1a"] == [C, M, M]


def test_a_unit_whose_only_initiative_is_cancelled_has_no_theme_covered(org, cascade, scene):
    published = org.unit.agreements.get()
    published.initiatives.update(status=InitiativeStatus.CANCELLED)

    matrix = compliance_matrix(year=YEAR, strategy=cascade.group, level=level(4))

    assert cells(matrix)["Unit A1a"] == [M, M, M]
    assert not matrix.rows[0].complete


def test_the_matrix_of_another_level_lists_the_units_of_that_level(org, cascade, scene):
    AgreementFactory(unit=org.dept_a1, state=AgreementState.SUBMITTED)
    AgreementFactory(unit=org.dept_a2)  # a draft

    matrix = compliance_matrix(year=YEAR, strategy=cascade.group, level=level(3))

    assert cells(matrix) == {
        "Department A1": [M, M, M],
        "Department A2": [D, D, D],
        "Department B1": [N, N, N],
    }


def test_a_justification_of_another_levels_rule_does_not_justify(org, cascade, scene):
    department_rule = AgreementRuleFactory(strategy=cascade.group, unit_level=level(3))
    agreement = AgreementFactory(unit=org.unit_b1a, state=AgreementState.SUBMITTED)
    RuleJustification.objects.create(agreement=agreement, rule=department_rule, text="No")

    matrix = compliance_matrix(year=YEAR, strategy=cascade.group, level=level(4))

    assert cells(matrix)["Unit B1a"] == [M, M, M]


def test_the_matrix_within_a_unit_lists_only_the_units_below_it(org, cascade, scene):
    matrix = compliance_matrix(
        year=YEAR, strategy=cascade.group, level=level(4), within=org.dept_a1
    )

    assert list(cells(matrix)) == ["Unit A1a", "Unit A1b"]


def test_the_matrix_for_one_theme_has_one_column(org, cascade, scene):
    matrix = compliance_matrix(
        year=YEAR, strategy=cascade.group, level=level(4), columns_filter=[cascade.theme_2.pk]
    )

    assert matrix.columns == [cascade.theme_2]
    assert cells(matrix) == {
        "Unit A1a": [C],
        "Unit A1b": [J],
        "Unit A2a": [D],
        "Unit B1a": [N],
    }


def test_the_matrix_leaves_out_closed_units_and_other_years(org, cascade, scene):
    Unit.objects.filter(pk=org.unit_b1a.pk).update(closed_on=date(YEAR - 1, 6, 30))

    assert list(cells(compliance_matrix(year=YEAR, strategy=cascade.group, level=level(4)))) == [
        "Unit A1a",
        "Unit A1b",
        "Unit A2a",
    ]
    next_year = compliance_matrix(year=YEAR + 1, strategy=cascade.group, level=level(4))
    assert all(row.cells == [N, N, N] for row in next_year.rows)


def test_the_matrix_without_a_strategy_or_level_is_empty(org, cascade, scene):
    assert compliance_matrix(year=YEAR, strategy=None, level=level(4)).rows == []
    assert compliance_matrix(year=YEAR, strategy=cascade.group, level=None).rows == []


def test_a_unit_moved_to_another_centre_is_in_its_new_centres_matrix(org, cascade, scene):
    Unit.objects.move(org.dept_a2, org.centre_b, "sorted-child")
    centre_a = Unit.objects.get(pk=org.centre_a.pk)
    centre_b = Unit.objects.get(pk=org.centre_b.pk)

    def within(centre: Unit) -> list[str]:
        matrix = compliance_matrix(year=YEAR, strategy=cascade.group, level=level(4), within=centre)
        return list(cells(matrix))

    assert within(centre_a) == ["Unit A1a", "Unit A1b"]
    assert within(centre_b) == ["Unit A2a", "Unit B1a"]


# The compliance page ------------------------------------------------------------------------------


def test_the_compliance_page_defaults_to_the_rules_strategy_and_level(client, org, cascade, scene):
    response = login(client, org.office).get(reverse("followup:compliance"), {"year": YEAR})

    assert response.status_code == 200
    assert response.context["strategy"] == cascade.group
    assert response.context["level"] == level(4)
    assert [row.unit.name for row in response.context["rows"]] == [
        "Unit A1a",
        "Unit A1b",
        "Unit A2a",
        "Unit B1a",
    ]
    content = response.content.decode()
    assert org.unit.agreements.get().get_absolute_url() in content  # drill down to agreements
    assert org.unit_a2a.agreements.get().get_absolute_url() in content  # drafts too
    assert org.unit_b1a.get_absolute_url() in content  # and to units without one


def test_the_compliance_page_labels_a_draft_and_explains_every_state(client, org, cascade, scene):
    response = login(client, org.office).get(
        reverse("followup:compliance"), {"year": YEAR}, headers={"Accept-Language": "en"}
    )

    content = response.content.decode()
    assert content.count('<td class="cell-draft">') == 3  # Unit A2a's row
    assert "Draft, not submitted" in content
    assert "The unit has no agreement for the year." in content
    assert 'id="matrix-legend"' in content
    for state in ("covered", "justified", "missing", "draft", "no_agreement"):
        assert f'<dt class="cell-{state}">' in content


def test_the_compliance_page_shows_only_the_units_with_gaps(client, org, cascade, scene):
    response = login(client, org.office).get(
        reverse("followup:compliance"), {"year": YEAR, "gaps": "1"}
    )

    assert response.context["only_gaps"] is True
    assert [row.unit.name for row in response.context["rows"]] == [
        "Unit A1b",
        "Unit A2a",
        "Unit B1a",
    ]


def test_the_compliance_page_filters_by_level_and_within_a_unit(client, org, cascade, scene):
    response = login(client, org.office).get(
        reverse("followup:compliance"),
        {"year": YEAR, "level": level(3).pk, "unit": org.centre_a.code},
    )

    assert response.context["level"] == level(3)
    assert response.context["within"] == org.centre_a
    assert [row.unit.name for row in response.context["rows"]] == [
        "Department A1",
        "Department A2",
    ]


def test_the_compliance_page_shows_the_chosen_strategy(client, org, cascade, scene):
    response = login(client, org.office).get(
        reverse("followup:compliance"), {"year": YEAR, "strategy": cascade.narrative.pk}
    )

    assert response.context["strategy"] == cascade.narrative
    narrative_top = cascade.narrative.elements.order_by("position", "code")
    assert response.context["matrix"].columns == list(narrative_top)


# The dashboard ------------------------------------------------------------------------------------


def test_the_dashboard_groups_the_goals_by_theme_and_counts_their_statuses(
    client, org, cascade, scene
):
    with time_machine.travel(AUTUMN, tick=False):
        response = login(client, org.executive).get(reverse("followup:dashboard"), {"year": YEAR})

    assert response.status_code == 200
    groups = response.context["groups"]
    assert [(theme, [e.goal for e in evaluations]) for theme, evaluations in groups] == [
        (cascade.theme_1, [cascade.goal_1]),
        (cascade.theme_2, [cascade.goal_2]),
        (cascade.theme_3, [cascade.goal_3]),
    ]
    # Unit A1a (published) counts; the draft of Unit A2a does not.
    count = groups[1][1][0]
    assert count.value == 1
    assert count.behind == ["Unit A1a"]
    coverage = groups[2][1][0]
    assert coverage.value == 25.0
    assert coverage.missing == ["Unit A1b", "Unit A2a", "Unit B1a"]
    assert sum(c.count for c in response.context["counts"]) == 3
    assert response.context["matrix"].level == level(4)
    content = response.content.decode()
    assert "Competence plans everywhere" in content
    assert "Unit B1a" in content


def test_the_dashboard_filtered_by_a_theme_shows_its_goals_and_its_column(
    client, org, cascade, scene
):
    response = login(client, org.executive).get(
        reverse("followup:dashboard"), {"year": YEAR, "theme": cascade.theme_2.pk}
    )

    assert [theme for theme, _ in response.context["groups"]] == [cascade.theme_2]
    assert response.context["theme_id"] == cascade.theme_2.pk
    assert response.context["matrix"].columns == [cascade.theme_2]
    assert response.context["themes"] == [cascade.theme_1, cascade.theme_2, cascade.theme_3]


def test_the_dashboard_filtered_by_a_level_shows_that_levels_matrix(client, org, cascade, scene):
    response = login(client, org.executive).get(
        reverse("followup:dashboard"), {"year": YEAR, "level": level(2).pk}
    )

    assert matrix_shown(response) == ["Centre A", "Centre B"]


def test_the_dashboard_drills_down_into_a_unit(client, org, cascade, scene):
    DeadlineFactory(
        kind=DeadlineKind.AGREEMENT, unit_level=level(4), due_date=date(YEAR, 2, 1), title="Plans"
    )

    with time_machine.travel(AUTUMN, tick=False):
        whole = login(client, org.executive).get(reverse("followup:dashboard"), {"year": YEAR})
        centre_b = client.get(reverse("followup:dashboard"), {"year": YEAR, "unit": "centre-b"})

    assert [u.name for u in whole.context["late_agreements"][0].units] == [
        "Unit A2a",
        "Unit B1a",
    ]
    assert centre_b.context["within"] == org.centre_b
    assert matrix_shown(centre_b) == ["Unit B1a"]
    assert [u.name for u in centre_b.context["late_agreements"][0].units] == ["Unit B1a"]


def test_the_dashboard_after_a_unit_moved_shows_it_under_its_new_centre(
    client, org, cascade, scene
):
    Unit.objects.move(org.dept_a2, org.centre_b, "sorted-child")

    response = login(client, org.executive).get(
        reverse("followup:dashboard"), {"year": YEAR, "unit": "centre-b"}
    )

    # Unit B1a (no agreement) needs attention before Unit A2a (a draft).
    assert matrix_shown(response) == ["Unit B1a", "Unit A2a"]


# Who may see it -----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["followup:dashboard", "followup:compliance"])
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("executive", 200),
        ("office", 200),
        ("head", 403),
        ("parent_head", 403),
        ("employee", 403),
        ("outsider", 403),
    ],
)
def test_only_the_executive_board_and_the_strategy_office_see_the_overview(
    client, org, cascade, scene, page, who, status
):
    response = login(client, getattr(org, who)).get(reverse(page), {"year": YEAR})

    if page == "followup:compliance" and who in ("head", "parent_head"):
        status = 200  # a unit head sees compliance for her own units (compliance_subtrees)
    assert response.status_code == status


@pytest.mark.parametrize("page", ["followup:dashboard", "followup:compliance"])
def test_the_overview_asks_an_anonymous_visitor_to_log_in(client, org, page):
    response = client.get(reverse(page))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def _sheet(response: Any) -> list[tuple]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)


def test_the_dashboard_tables_download_with_the_pages_filters_and_permissions(
    client, org, cascade, scene
):
    office = login(client, org.office)
    url = reverse("followup:dashboard")
    query = {"year": YEAR, "level": level(4).pk, "format": "xlsx"}
    # In the page's order: those that need attention first (no agreement, a draft, justified).
    rows = _sheet(office.get(url, {**query, "table": "compliance"}))
    assert [row[0] for row in rows[1:]] == ["Unit B1a", "Unit A2a", "Unit A1b", "Unit A1a"]
    rows = _sheet(office.get(url, {**query, "table": "compliance", "unit": "dept-a1"}))
    assert [row[0] for row in rows[1:]] == ["Unit A1b", "Unit A1a"]
    # Initiatives by unit: counts as numbers, the light in words.
    rows = _sheet(office.get(url, {**query, "table": "initiatives"}))
    assert [row[0] for row in rows[1:]] == ["Unit A1a", "Unit A1b", "Unit A2a", "Unit B1a"]
    assert all(isinstance(n, int) for row in rows[1:] for n in row[2:7])
    # CSV in the reader's language; someone who may not see the page gets no file.
    response = office.get(url, {**query, "table": "goals", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert login(client, org.employee).get(url, query).status_code == 403
    head = login(client, org.parent_head)
    rows = _sheet(head.get(reverse("followup:compliance"), query))
    assert [row[0] for row in rows[1:]] == ["Unit A1a", "Unit A1b"]  # her own units only


def test_the_navigation_links_to_the_dashboard_only_for_those_who_may_see_it(client, org):
    assert reverse("followup:dashboard") in login(client, org.executive).get("/").content.decode()
    assert reverse("followup:dashboard") not in login(client, org.head).get("/").content.decode()


# Queries do not grow with the organisation --------------------------------------------------------


def grow(org: Any, cascade: Any, t1: Deadline, count: int) -> None:
    """Add ``count`` units (level 4) below the departments, each with a head, an agreement in
    one of the four states, initiatives linked to the goals, status reports, justifications and
    indicator values."""
    departments = [org.dept_a1, org.dept_a2, org.dept_b1]
    states = list(AgreementState.values)
    goals = [cascade.goal_1, cascade.goal_2, cascade.goal_3]
    rule = AgreementRule.objects.get()
    indicator = cascade.goal_1.kpi.indicator
    start = Unit.objects.filter(level__depth=4).count()
    for i in range(start, start + count):
        unit = UnitFactory(
            parent=Unit.objects.get(pk=departments[i % 3].pk), code=f"grown-{i}", name=f"Grown {i}"
        )
        MembershipFactory(unit=unit, role=Role.UNIT_HEAD)
        agreement = AgreementFactory(unit=unit, state=states[i % 4])
        for j in range(1 + i % 3):
            initiative = InitiativeFactory(
                agreement=agreement,
                goals=goals[j : j + 2],
                status=[InitiativeStatus.STARTED, InitiativeStatus.DONE][j % 2],
            )
            if i % 2:
                StatusReportFactory(initiative=initiative, deadline=t1, status=ReportStatus.AT_RISK)
        if i % 5 == 0:
            RuleJustification.objects.create(agreement=agreement, rule=rule, text=f"Because {i}")
        for month in (1, 2, 3):
            IndicatorValueFactory(
                indicator=indicator, unit=unit, period=f"{YEAR}-{month:02d}", value=i + month
            )


@pytest.fixture
def busy(org: Any, cascade: Any, scene: Scene) -> Deadline:
    """Everything the dashboard reads: every kind of goal, passed deadlines, reports."""
    KpiGoalFactory(goal=cascade.goal_1, indicator=IndicatorFactory(code="SICK"))
    cascade.goal_1.measure_kind = MeasureKind.KPI
    cascade.goal_1.target_value = Decimal("13.5")
    cascade.goal_1.save()
    assessed = Element.objects.create(
        strategy=cascade.group,
        parent=cascade.theme_3,
        level=cascade.goal_3.level,
        code="T3.2",
        title="Pilots evaluated",
        measure_kind=MeasureKind.ASSESSED,
    )
    GoalAssessmentFactory(goal=assessed, status=AssessmentStatus.AT_RISK)
    counted = Element.objects.create(
        strategy=cascade.group,
        parent=cascade.theme_1,
        level=cascade.goal_3.level,
        code="T1.2",
        title="Initiatives done",
        measure_kind=MeasureKind.COUNT,
        target_value=Decimal(20),
    )
    DerivedGoalFactory(
        goal=counted,
        counts=CountsWhat.INITIATIVES,
        statuses=[InitiativeStatus.DONE],
        scope_strategy=cascade.group,
    )
    DeadlineFactory(
        kind=DeadlineKind.AGREEMENT, unit_level=level(4), due_date=date(YEAR, 2, 1), title="Plans"
    )
    DeadlineFactory(
        kind=DeadlineKind.AGREEMENT, unit_level=level(3), due_date=date(YEAR, 1, 15), title="Depts"
    )
    t1 = DeadlineFactory(
        kind=DeadlineKind.REPORT, period="T1", due_date=date(YEAR, 5, 15), title="T1"
    )
    DeadlineFactory(kind=DeadlineKind.REPORT, period="T2", due_date=date(YEAR, 8, 15), title="T2")
    for unit in (org.unit, org.sibling, org.unit_a2a, org.unit_b1a):
        IndicatorValueFactory(
            indicator=cascade.goal_1.kpi.indicator, unit=unit, period=f"{YEAR}-01", value=14
        )
    return t1


def queries_of(client: Any, url: str, *, cold: bool = True) -> int:
    """The queries of one call; ``cold``: with the figures computed anew (an empty cache), else
    read from the cache under the current data generation."""
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        f"/followup/dashboard/?year={YEAR}",
        f"/followup/dashboard/?year={YEAR}&unit=centre-a",
        f"/followup/compliance/?year={YEAR}",
        f"/followup/compliance/?year={YEAR}&gaps=1",
    ],
)
def test_the_overview_reads_as_many_queries_for_60_units_as_for_10(
    client, org, cascade, busy, url, django_assert_num_queries
):
    login(client, org.executive)
    with time_machine.travel(AUTUMN, tick=False):
        client.get(url)  # warm up (session, content types) before counting
        assert Unit.objects.count() == 10
        small, small_warm = queries_of(client, url), queries_of(client, url, cold=False)
        grow(org, cascade, busy, 50)
        assert Unit.objects.count() == 60
        cache.clear()
        with django_assert_num_queries(small):  # computed anew
            response = client.get(url)
        with django_assert_num_queries(small_warm):  # and from the cache
            client.get(url)

    if "compliance" in url:
        assert len(response.context["matrix"].rows) > 30  # the grown units are on the page
    else:  # the dashboard shows a page of them, and counts them all
        assert len(response.context["matrix_page"].object_list) == DASHBOARD_ROWS
        assert response.context["matrix"].unit_count > 30
        assert len(response.context["unit_page"].object_list) == DASHBOARD_ROWS
        assert response.context["unit_status"].count() > 30
        # and behind every part of the dashboard
        assert sum(len(o.units) for o in response.context["late_agreements"]) > 10
        assert sum(len(o.units) for o in response.context["late_reports"]) > 5
        kpi = response.context["groups"][0][1][0]
        assert kpi.goal == cascade.goal_1
        assert kpi.value is not None


def test_the_dashboard_reads_as_many_queries_with_more_deadlines_kpi_goals_and_indicators(
    client, org, cascade, busy, django_assert_num_queries
):
    url = f"/followup/dashboard/?year={YEAR}"
    login(client, org.executive)
    with time_machine.travel(AUTUMN, tick=False):
        client.get(url)  # warm up (session, content types) before counting
        small, small_warm = queries_of(client, url), queries_of(client, url, cold=False)
        grow(org, cascade, busy, 12)
        for n, due in enumerate((date(YEAR, 3, 1), date(YEAR, 4, 1), date(YEAR, 6, 1))):
            DeadlineFactory(kind=DeadlineKind.REPORT, period=f"P{n}", due_date=due, title=f"R{n}")
        DeadlineFactory(
            kind=DeadlineKind.AGREEMENT, unit_level=level(4), due_date=date(YEAR, 3, 3), title="A"
        )
        for n in range(4):
            goal = Element.objects.create(
                strategy=cascade.group,
                parent=cascade.theme_2,
                level=cascade.goal_3.level,
                code=f"T2.M{n}",
                title=f"Measured {n}",
                measure_kind=MeasureKind.KPI,
                target_value=Decimal(10),
            )
            indicator = IndicatorFactory(code=f"MORE{n}")
            KpiGoalFactory(goal=goal, indicator=indicator)
            for month in (1, 2, 3, 4):
                IndicatorValueFactory(
                    indicator=indicator, unit=org.unit, period=f"{YEAR}-{month:02d}", value=n
                )
        for n, kind in enumerate([MeasureKind.COUNT, MeasureKind.COVERAGE] * 2):
            goal = Element.objects.create(
                strategy=cascade.group,
                parent=cascade.theme_2,
                level=cascade.goal_3.level,
                code=f"T2.D{n}",
                title=f"Derived {n}",
                measure_kind=kind,
                target_value=Decimal(5),
            )
            DerivedGoalFactory(
                goal=goal,
                counts=CountsWhat.UNITS,
                unit_level=level(4 - n % 2),
                scope_strategy=cascade.group,
            )
        cache.clear()
        with django_assert_num_queries(small):  # computed anew
            response = client.get(url)
        with django_assert_num_queries(small_warm):  # and from the cache
            client.get(url)
    measured = [e for _theme, group in response.context["groups"] for e in group]
    assert sum(e.goal.code.startswith("T2.M") and e.value is not None for e in measured) == 4
    assert sum(e.goal.code.startswith("T2.D") and e.value is not None for e in measured) == 4
    assert len(response.context["late_reports"]) >= 3


# The dashboard's tables of units: a page each, those that need attention first ---------------------


def rendered_rows(response: Any, key: str) -> int:
    """The body rows the page renders in its table ``key`` (``data-export``)."""
    html = response.content.decode()
    table = html[html.index(f'data-export="{key}"') :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return body.count("<tr")


@pytest.fixture
def lights(org: Any, cascade: Any, scene: Scene) -> None:
    """Each unit of level 4 with another light: Unit B1a off track, Unit A1b at risk, Unit A2a
    no report yet (a planned initiative), Unit A1a on track."""
    Initiative.objects.filter(agreement__unit=org.unit).update(status=InitiativeStatus.ON_TRACK)
    Initiative.objects.filter(agreement__unit=org.sibling).update(status=InitiativeStatus.AT_RISK)
    late = AgreementFactory(unit=org.unit_b1a, state=AgreementState.DRAFT)
    InitiativeFactory(agreement=late, status=InitiativeStatus.OFF_TRACK)
    InitiativeFactory(agreement=late, status=InitiativeStatus.ON_TRACK)


def test_the_dashboard_shows_the_units_that_need_attention_first(
    client, org, cascade, lights, monkeypatch
):
    monkeypatch.setattr("pejling.overview.views.DASHBOARD_ROWS", 2)
    url = reverse("followup:dashboard")
    login(client, org.executive)

    first = client.get(url, {"year": YEAR}, headers={"Accept-Language": "en"})

    # Off track, at risk; then (on the next page) no report yet, on track.
    assert statuses_shown(first) == ["Unit B1a", "Unit A1b"]
    assert rendered_rows(first, "initiatives") == 2
    # Two drafts (Unit B1a has one now, in tree order), then the justified gap, then the
    # complete agreement.
    assert matrix_shown(first) == ["Unit A2a", "Unit B1a"]
    # The summary counts every unit, not the page.
    lights_ = {light.light.label: light.count for light in first.context["unit_lights"]}
    assert lights_ == {
        "Off track": 1,
        "At risk": 1,
        "No report yet": 1,
        "No initiatives": 0,
        "On track": 1,
    }
    states = {state.state: state.count for state in first.context["matrix"].states}
    assert states == {N: 0, D: 2, M: 0, J: 1, C: 1}
    assert [state.share for state in first.context["matrix"].states] == [0, 50, 0, 25, 25]
    content = first.content.decode()
    assert "(1 of 4 complete)" in content
    assert "Units 1–2 of 4, those that need attention first." in content
    assert "Page 1 of 2" in content
    assert 'href="?year=2026&amp;initiatives_page=2#initiatives" rel="next"' in content
    assert 'href="?year=2026&amp;compliance_page=2#compliance" rel="next"' in content

    # The next page of one table keeps the other's page.
    second = client.get(url, {"year": YEAR, "initiatives_page": 2, "compliance_page": 2})

    assert statuses_shown(second) == ["Unit A2a", "Unit A1a"]
    assert matrix_shown(second) == ["Unit A1b", "Unit A1a"]
    assert second.context["unit_status"].count() == 4
    content = second.content.decode()
    assert 'href="?year=2026&amp;compliance_page=2&amp;initiatives_page=1#initiatives"' in content
    # A page that does not exist shows the nearest one, never an error.
    for page in ("0", "99", "x", "-1"):
        response = client.get(url, {"year": YEAR, "initiatives_page": page})
        assert response.status_code == 200
        assert len(statuses_shown(response)) == 2


def test_a_download_of_a_dashboard_table_holds_every_unit_not_one_page(
    client, org, cascade, lights, monkeypatch
):
    monkeypatch.setattr("pejling.overview.views.DASHBOARD_ROWS", 2)
    login(client, org.office)
    query = {"year": YEAR, "format": "xlsx", "initiatives_page": "2", "compliance_page": "2"}

    initiatives = _sheet(
        client.get(reverse("followup:dashboard"), {**query, "table": "initiatives"})
    )
    compliance = _sheet(client.get(reverse("followup:dashboard"), {**query, "table": "compliance"}))

    assert [row[0] for row in initiatives[1:]] == ["Unit B1a", "Unit A1b", "Unit A2a", "Unit A1a"]
    assert [row[0] for row in compliance[1:]] == ["Unit A2a", "Unit B1a", "Unit A1b", "Unit A1a"]


def test_the_ranked_tables_agree_with_the_rules_they_rank_by(client, org, cascade, busy):
    """The database ranks the units by light and by compliance state; every row it ranks shows
    the light (``traffic_light``) and the state (``MatrixRow.state``, from ``_cells``) of its
    rank, with the same counts as the unranked reads, and the ranks never go back."""
    grow(org, cascade, busy, 30)
    some = list(Initiative.objects.order_by("pk").values_list("pk", flat=True))[:12:3]
    Initiative.objects.filter(pk__in=some).update(status=InitiativeStatus.OFF_TRACK)
    units = Unit.objects.filter(level=level(4), closed_on__isnull=True)

    ranked = unit_statuses_by_attention(year=YEAR, units=units)
    statuses = ranked[0 : ranked.count()]

    assert ranked.count() == units.count() == 34
    lights = light_counts(ranked)
    by_light = {light.light: light.rank for light in lights}
    ranks = [by_light[traffic_light(s.counts)] for s in statuses]
    assert ranks == sorted(ranks)
    assert {light.rank: light.count for light in lights} == {
        rank: ranks.count(rank) for rank in range(5)
    }
    assert ranks[0] == 0 and 4 in ranks  # off track first, on track last
    plain = {s.unit.pk: s.counts for s in unit_statuses(year=YEAR, units=list(units))}
    assert {s.unit.pk: s.counts for s in statuses} == plain
    # Units at every depth (a dashboard without a level): each its own subtree.
    everywhere = unit_statuses_by_attention(year=YEAR, units=Unit.objects.all())
    plain = {s.unit.pk: s.counts for s in unit_statuses(year=YEAR, units=list(Unit.objects.all()))}
    assert {s.unit.pk: s.counts for s in everywhere[0 : everywhere.count()]} == plain
    assert everywhere.count() == Unit.objects.count()

    matrix = ComplianceByAttention(year=YEAR, strategy=cascade.group, level=level(4))
    rows = matrix[0 : matrix.count()]
    order = [state for state, _label in ROW_STATES]
    states = [order.index(row.state) for row in rows]
    assert states == sorted(states)
    assert {s.state: s.count for s in matrix.states} == {
        state: [row.state for row in rows].count(state) for state in order
    }
    assert len(set(states)) == 5  # every state is among the grown units
    full = compliance_matrix(year=YEAR, strategy=cascade.group, level=level(4))
    assert {row.unit.pk: row.cells for row in rows} == {row.unit.pk: row.cells for row in full.rows}
    assert matrix.complete_count == full.complete_count
    assert matrix[5:9] == rows[5:9]  # a slice is the same rows as the whole


def test_the_dashboard_renders_as_many_rows_and_queries_for_64_units_as_for_24(
    client, org, cascade, busy, django_assert_num_queries
):
    """Past a page, more units at the level add no row to the page and no query: the summary
    counts them all."""
    url = f"/followup/dashboard/?year={YEAR}&level={level(4).pk}"
    login(client, org.executive)
    with time_machine.travel(AUTUMN, tick=False):
        grow(org, cascade, busy, 20)
        client.get(url)  # warm up (session, content types) before counting
        queries = queries_of(client, url)
        response = client.get(url)
        rows = rendered_rows(response, "initiatives"), rendered_rows(response, "compliance")
        grow(org, cascade, busy, 40)
        cache.clear()
        with django_assert_num_queries(queries):
            response = client.get(url)

    assert rows == (DASHBOARD_ROWS, DASHBOARD_ROWS)
    assert (rendered_rows(response, "initiatives"), rendered_rows(response, "compliance")) == rows
    assert response.context["unit_status"].count() == 64
    assert response.context["matrix"].unit_count == 64
    assert sum(light.count for light in response.context["unit_lights"]) == 64
    assert sum(state.count for state in response.context["matrix"].states) == 64
    assert response.context["unit_page"].paginator.num_pages == 7


# Fresh after every kind of write ------------------------------------------------------------------
# The dashboard's figures are cached under the data generation (``core/generation.py``). After
# each kind of write the page must show what it computes anew (an empty cache), and differ from
# before: a write that did not raise the generation fails here.


def figures(client: Any, query: str = "") -> str:
    response = client.get(f"/followup/dashboard/?year={YEAR}{query}")
    assert response.status_code == 200
    return str(response.context["figures"])


def _goal_renamed(org: Any, cascade: Any, busy: Deadline) -> str:
    cascade.goal_1.title = "Fewer sick days, renamed"
    cascade.goal_1.save()
    return "Fewer sick days, renamed"


def _deadline_added(org: Any, cascade: Any, busy: Deadline) -> str:
    DeadlineFactory(kind=DeadlineKind.REPORT, period="X", due_date=date(YEAR, 7, 1), title="Extra")
    return "Extra"


def _agreement_submitted(org: Any, cascade: Any, busy: Deadline) -> str:
    draft = Agreement.objects.get(unit=org.unit_a2a, year=YEAR)
    draft.state = AgreementState.SUBMITTED
    draft.save()
    return ""


def _goal_links_removed(org: Any, cascade: Any, busy: Deadline) -> str:
    # A query's delete (the links of the published agreement): signals per row.
    InitiativeGoal.objects.filter(initiative__agreement__unit=org.unit).delete()
    return ""


def _status_reported(org: Any, cascade: Any, busy: Deadline) -> str:
    # Every initiative of the published agreement reported on: no longer overdue.
    for initiative in Initiative.objects.filter(agreement__unit=org.unit):
        StatusReportFactory(initiative=initiative, deadline=busy, status=InitiativeStatus.AT_RISK)
    return ""


def _goal_assessed(org: Any, cascade: Any, busy: Deadline) -> str:
    assessment = GoalAssessment.objects.get(goal__code="T3.2")
    assessment.status = AssessmentStatus.OFF_TRACK
    assessment.justification = "Not this year."
    assessment.save()
    return "Not this year."


def _values_through_the_api(org: Any, cascade: Any, busy: Deadline) -> str:
    from pejling.api.tokens import token_create
    from tests.api.conftest import ApiClient

    secret = token_create(user=org.office, name="t", scope="read_write", expires_in_days=1).secret
    value = {"indicator": "SICK", "unit": "unit-a1a", "period": f"{YEAR}-02", "value": 40}
    assert ApiClient(secret).post("/values", {"values": [value]}).status_code == 201
    return ""


def _values_imported(org: Any, cascade: Any, busy: Deadline) -> str:
    from tests.indicators.files import import_bytes

    data = f"indicator;unit;period;value\nSICK;unit-a1b;{YEAR}-02;40\n".encode()
    batch = import_bytes(data=data, filename="values.csv", by=org.office)
    assert batch.created == 1, batch.errors
    return ""


def _values_deleted(org: Any, cascade: Any, busy: Deadline) -> str:
    # ``aggregate.apply_value_changes``, which package loads of values call as well.
    from pejling.indicators.services import values_delete

    indicator = cascade.goal_1.kpi.indicator
    assert values_delete(indicator=indicator, unit_ids=[org.unit.pk], by=org.office) == 1
    return ""


def _unit_moved(org: Any, cascade: Any, busy: Deadline) -> str:
    Unit.objects.move(Unit.objects.get(pk=org.unit_b1a.pk), org.dept_a2, "sorted-child")
    return ""  # now in Centre A's matrix


def _units_synced(org: Any, cascade: Any, busy: Deadline) -> str:
    from pejling.organisation.sync import sync_from_file

    report = sync_from_file(
        data=b"code;name;parent;level\nunit-b1a;Unit B1a, renamed;dept-b1;4\n", filename="u.csv"
    )
    assert report.ok, report.errors
    return "Unit B1a, renamed"


@pytest.mark.parametrize(
    "write",
    [
        _goal_renamed,
        _deadline_added,
        _agreement_submitted,
        _goal_links_removed,
        _status_reported,
        _goal_assessed,
        _values_through_the_api,
        _values_imported,
        _values_deleted,
        _unit_moved,
        _units_synced,
    ],
)
def test_the_dashboard_shows_every_kind_of_write_at_once(client, org, cascade, busy, write):
    login(client, org.executive)
    query = "&unit=centre-a" if write is _unit_moved else ""
    with time_machine.travel(AUTUMN, tick=False):
        before = figures(client, query)
        assert figures(client, query) == before  # read from the cache
        shown = write(org, cascade, busy)
        after = figures(client, query)
        cache.clear()
        assert after == figures(client, query)  # what it computes anew
    assert after != before
    assert shown in after
    assert not shown or shown not in before


def test_a_second_call_reads_the_figures_from_the_cache(
    client, org, cascade, busy, django_assert_max_num_queries
):
    login(client, org.executive)
    with time_machine.travel(AUTUMN, tick=False):
        cold = queries_of(client, f"/followup/dashboard/?year={YEAR}")
        warm = queries_of(client, f"/followup/dashboard/?year={YEAR}", cold=False)
    # The session, the user, the readable strategies, the generation, the portfolio's rights.
    assert warm <= 6 < cold
