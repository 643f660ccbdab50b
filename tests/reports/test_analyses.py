"""Analyses per goal and period: who writes them, the required why, optimistic locking,
history, the previous period beside the editor and the roll-up a centre reads."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from pejling.core.history import ConcurrentEditError
from pejling.reports import services
from pejling.reports.markdown import render_markdown
from pejling.reports.models import Analysis, Assessment
from pejling.reports.selectors import analyses_under, previous_analysis

pytestmark = pytest.mark.django_db


def _save(org, cascade, period, by=None, unit=None, **kwargs):
    fields = {"body": "## Läget\n\nBra.", "assessment": Assessment.ON_TRACK} | kwargs
    return services.analysis_save(
        goal=cascade.goal_1, unit=unit or org.unit, period=period, by=by or org.head, **fields
    )


def test_the_unit_head_writes_an_analysis_and_history_records_it(org, cascade, periods):
    analysis = _save(org, cascade, periods[0])
    assert analysis.version == 1 and analysis.updated_by == org.head
    assert analysis.history.count() == 1


def test_people_without_a_writing_role_on_the_unit_may_not_write(org, cascade, periods):
    for person in (org.employee, org.colleague, org.outsider, org.executive):
        with pytest.raises(PermissionDenied):
            _save(org, cascade, periods[0], by=person)
    assert not Analysis.objects.exists()


def test_an_assessment_that_differs_from_the_computed_status_needs_a_why(org, cascade, periods):
    with pytest.raises(ValidationError) as info:
        _save(org, cascade, periods[0], assessment=Assessment.ON_TRACK, computed_status="off_track")
    assert "deviation_reason" in info.value.message_dict
    analysis = _save(
        org,
        cascade,
        periods[0],
        assessment=Assessment.ON_TRACK,
        computed_status="off_track",
        deviation_reason="New agreements came in after the measurement.",
    )
    assert analysis.deviation_reason.startswith("New agreements")


def test_no_why_is_asked_when_the_goal_has_no_data(org, cascade, periods):
    analysis = _save(org, cascade, periods[0], computed_status="no_data")
    assert analysis.deviation_reason == ""


def test_the_second_writer_sees_the_first_writers_change(org, cascade, periods):
    first = _save(org, cascade, periods[0])
    _save(org, cascade, periods[0], body="The head's newer text", expected_version=first.version)
    with pytest.raises(ConcurrentEditError) as info:
        _save(
            org,
            cascade,
            periods[0],
            by=org.parent_head,
            body="The parent's text",
            expected_version=first.version,
        )
    assert any("The head's newer text" in c.new for c in info.value.changes)
    assert Analysis.objects.get().body == "The head's newer text"


def test_the_editor_page_shows_a_conflict_and_keeps_the_text(client, org, cascade, periods):
    first = _save(org, cascade, periods[0])
    _save(org, cascade, periods[0], body="Saved meanwhile", expected_version=first.version)
    client.force_login(org.head)
    url = reverse(
        "board_reports:analysis_edit", args=[org.unit.code, periods[0].pk, cascade.goal_1.pk]
    )
    response = client.post(
        url, {"assessment": "on_track", "body": "My version", "version": first.version}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Saved meanwhile" in page and "My version" in page
    assert Analysis.objects.get().body == "Saved meanwhile"


def test_the_previous_periods_analysis_is_shown_beside_the_editor(client, org, cascade, periods):
    _save(org, cascade, periods[0], body="What we wrote in T1")
    assert previous_analysis(goal=cascade.goal_1, unit=org.unit, period=periods[1]).body == (
        "What we wrote in T1"
    )
    client.force_login(org.head)
    url = reverse(
        "board_reports:analysis_edit", args=[org.unit.code, periods[1].pk, cascade.goal_1.pk]
    )
    page = client.get(url).content.decode()
    assert "What we wrote in T1" in page


def test_a_centre_reads_its_units_analyses_on_one_page(client, org, cascade, periods):
    _save(org, cascade, periods[0], body="Seen from team one")
    _save(org, cascade, periods[0], unit=org.sibling, by=org.colleague, body="Seen from team two")
    _save(org, cascade, periods[0], unit=org.unit_b1a, by=org.office, body="Seen from afar")
    rows = analyses_under(
        user=org.parent_head, unit=org.dept_a1, goal=cascade.goal_1, period=periods[0]
    )
    assert [r.unit.code for r in rows] == ["unit-a1a", "unit-a1b"]
    client.force_login(org.parent_head)
    url = reverse(
        "board_reports:analysis_rollup", args=[org.dept_a1.code, periods[0].pk, cascade.goal_1.pk]
    )
    page = client.get(url).content.decode()
    assert "Seen from team one" in page and "Seen from team two" in page
    assert "Seen from afar" not in page
    # A unit head does not read a sibling's analyses.
    assert [
        r.unit.code
        for r in analyses_under(
            user=org.head, unit=org.dept_a1, goal=cascade.goal_1, period=periods[0]
        )
    ] == ["unit-a1a"]


def test_markdown_is_rendered_without_raw_html_or_script_links():
    html = render_markdown("# Head\n\n<script>alert(1)</script> [x](javascript:alert(1)) **b**")
    assert "<script>" not in html and "javascript:" not in html.replace(
        "[x](javascript:alert(1))", ""
    )
    assert "<h3>Head</h3>" in html and "<strong>b</strong>" in html
    assert 'href="javascript' not in html
