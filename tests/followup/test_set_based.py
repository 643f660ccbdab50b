"""The dashboard's set-based reads give what a plain, per-object definition gives.

``overdue_agreements``, ``overdue_reports`` (followup) and ``unit_statuses`` (agreements) let
the database rank, count and roll up (issue 15: no loop per unit or per deadline). Here random
organisations (trees, agreements in every state, initiatives in every status, reports for some
deadlines, closed units, other years) are checked against the rules written out the slow way,
on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pejling.agreements.coverage import is_committed
from pejling.agreements.models import Agreement, AgreementState, Initiative, InitiativeStatus
from pejling.agreements.selectors import unit_statuses
from pejling.followup import selectors
from pejling.followup.models import Deadline, DeadlineKind, StatusReport
from pejling.organisation.models import Unit
from tests.factories import (
    YEAR,
    AgreementFactory,
    DeadlineFactory,
    InitiativeFactory,
    StatusReportFactory,
    UnitFactory,
)

TODAY = date(YEAR, 12, 1)
LISTED = 3  # OVERDUE_LISTED for these small trees, so the cut is exercised too

unit_specs = st.lists(
    st.fixed_dictionaries(
        {
            "parent": st.integers(min_value=0, max_value=1000),
            "closed": st.booleans(),
            # None: no agreement this year; else its state
            "state": st.none() | st.sampled_from(AgreementState.values),
            "other_year": st.booleans(),
            "initiatives": st.lists(
                st.tuples(
                    st.sampled_from(InitiativeStatus.values),
                    st.lists(st.booleans(), min_size=3, max_size=3),  # reported per deadline
                    st.none() | st.integers(min_value=1, max_value=300),  # day reported
                ),
                max_size=3,
            ),
        }
    ),
    min_size=1,
    max_size=14,
)


def _build(specs: list[dict[str, Any]]) -> tuple[list[Unit], list[Deadline]]:
    root = UnitFactory(code="root", name="Root")
    units = [root]
    for n, spec in enumerate(specs):
        parent = Unit.objects.get(pk=units[spec["parent"] % len(units)].pk)
        units.append(UnitFactory(parent=parent, code=f"u{n:02d}", name=f"Unit {n:02d}"))
    levels = sorted({u.level for u in units}, key=lambda lv: lv.depth)
    deadlines = [
        DeadlineFactory(kind=DeadlineKind.REPORT, period="T1", due_date=date(YEAR, 5, 15)),
        DeadlineFactory(kind=DeadlineKind.REPORT, period="T2", due_date=date(YEAR, 9, 15)),
        DeadlineFactory(kind=DeadlineKind.REPORT, period="T3", due_date=date(YEAR + 1, 1, 15)),
    ]
    for level in levels[1:3]:
        DeadlineFactory(kind=DeadlineKind.AGREEMENT, unit_level=level, due_date=date(YEAR, 2, 1))
    DeadlineFactory(kind=DeadlineKind.AGREEMENT, unit_level=levels[-1], due_date=date(YEAR, 3, 1))
    DeadlineFactory(kind=DeadlineKind.REPORT, year=YEAR - 1, due_date=date(YEAR - 1, 5, 1))
    for unit, spec in zip(units[1:], specs, strict=True):
        if spec["closed"]:
            Unit.objects.filter(pk=unit.pk).update(closed_on=date(YEAR, 1, 1))
        if spec["other_year"]:
            other = AgreementFactory(unit=unit, year=YEAR - 1, state=AgreementState.PUBLISHED)
            InitiativeFactory(agreement=other, status=InitiativeStatus.OFF_TRACK)
        if spec["state"] is None:
            continue
        agreement = AgreementFactory(unit=unit, state=spec["state"])
        for status, reported, day in spec["initiatives"]:
            initiative = InitiativeFactory(agreement=agreement, status=status)
            if day is not None:
                at = datetime(YEAR, 1, 1, tzinfo=UTC).replace(day=1, month=1 + day % 12)
                Initiative.objects.filter(pk=initiative.pk).update(status_reported_at=at)
            for deadline, done in zip(deadlines, reported, strict=True):
                if done:
                    StatusReportFactory(initiative=initiative, deadline=deadline)
    return list(Unit.objects.order_by("path")), deadlines


def _late_agreements(within: Unit | None) -> list[tuple[int, list[int], int]]:
    """Each passed agreement deadline: the open units of its level without a submitted,
    agreed or published agreement of the year (the first LISTED in tree order, and how many)."""
    result = []
    for deadline in Deadline.objects.filter(
        year=YEAR, kind=DeadlineKind.AGREEMENT, due_date__lt=TODAY, unit_level__isnull=False
    ):
        late = []
        for unit in Unit.objects.order_by("path"):
            if unit.level_id != deadline.unit_level_id or unit.closed_on is not None:
                continue
            if within is not None and not unit.path.startswith(within.path):
                continue
            agreement = Agreement.objects.filter(unit=unit, year=YEAR).first()
            if agreement is None or not is_committed(agreement.state):
                late.append(unit.pk)
        result.append((deadline.pk, late[:LISTED], len(late)))
    return result


def _late_reports(within: Unit | None) -> list[tuple[int, list[int], int]]:
    """Each passed report deadline: the units whose agreed or published agreement of the year
    has an initiative without a report for it."""
    result = []
    for deadline in Deadline.objects.filter(
        year=YEAR, kind=DeadlineKind.REPORT, due_date__lt=TODAY
    ):
        late = []
        for unit in Unit.objects.order_by("path"):
            if within is not None and not unit.path.startswith(within.path):
                continue
            agreement = Agreement.objects.filter(unit=unit, year=YEAR).first()
            if agreement is None or agreement.state not in (
                AgreementState.AGREED,
                AgreementState.PUBLISHED,
            ):
                continue
            for initiative in agreement.initiatives.all():
                if not StatusReport.objects.filter(initiative=initiative, deadline=deadline):
                    late.append(unit.pk)
                    break
        result.append((deadline.pk, late[:LISTED], len(late)))
    return result


def _statuses(unit: Unit) -> tuple[dict[str, int], datetime | None]:
    """A unit's subtree's initiatives of the year by status, and the latest report."""
    initiatives = [
        i
        for i in Initiative.objects.filter(agreement__year=YEAR).select_related("agreement__unit")
        if i.agreement.unit.path.startswith(unit.path)
    ]
    reported = [i.status_reported_at for i in initiatives if i.status_reported_at]
    return dict(Counter(i.status for i in initiatives)), max(reported, default=None)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=unit_specs, data=st.data())
def test_overdue_lists_and_unit_statuses_match_the_rules_written_out(
    db: None, monkeypatch: pytest.MonkeyPatch, specs: list[dict[str, Any]], data: st.DataObject
) -> None:
    monkeypatch.setattr(selectors, "OVERDUE_LISTED", LISTED)
    with transaction.atomic():
        units, _deadlines = _build(specs)
        within = data.draw(st.none() | st.sampled_from(units), label="within")

        found = [
            (o.deadline.pk, [u.pk for u in o.units], o.count)
            for o in selectors.overdue_agreements(year=YEAR, today=TODAY, within=within)
        ]
        assert found == _late_agreements(within)
        found = [
            (o.deadline.pk, [u.pk for u in o.units], o.count)
            for o in selectors.overdue_reports(year=YEAR, today=TODAY, within=within)
        ]
        assert found == _late_reports(within)

        # Any units, at any depths, a unit and its own descendants listed together included.
        listed = data.draw(
            st.lists(st.sampled_from(units), max_size=6, unique_by=lambda u: u.pk), label="listed"
        )
        for status in unit_statuses(year=YEAR, units=listed):
            assert (status.counts, status.reported_at) == _statuses(status.unit)
        transaction.set_rollback(True)


def test_a_unit_listed_with_a_unit_below_it_counts_its_own_initiatives_once(db: None) -> None:
    """The roll-up cut paths to the listed units' lengths; before it was set-based, a unit
    listed together with a deeper unit counted its own initiatives once per deeper length."""
    root = UnitFactory()
    child = UnitFactory(parent=root)
    grandchild = UnitFactory(parent=child)
    InitiativeFactory(agreement=AgreementFactory(unit=root), status=InitiativeStatus.ON_TRACK)
    InitiativeFactory(agreement=AgreementFactory(unit=grandchild), status=InitiativeStatus.DONE)
    root.refresh_from_db()
    grandchild.refresh_from_db()
    by_unit = {s.unit.pk: s for s in unit_statuses(year=YEAR, units=[root, grandchild])}
    assert by_unit[root.pk].counts == {"on_track": 1, "done": 1}
    assert by_unit[grandchild.pk].counts == {"done": 1}
