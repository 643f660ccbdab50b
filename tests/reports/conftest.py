from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pejling.followup.models import Deadline
from pejling.reports import services
from pejling.reports.models import Report
from tests.factories import ReportDeadlineFactory


@pytest.fixture
def periods(db: None) -> tuple[Deadline, Deadline]:
    t1 = ReportDeadlineFactory(period="T1", title="Tertial 1", due_date=date(2026, 5, 15))
    t2 = ReportDeadlineFactory(period="T2", title="Tertial 2", due_date=date(2026, 9, 15))
    return t1, t2


@pytest.fixture
def report(org: Any, cascade: Any, periods: tuple[Deadline, Deadline]) -> Report:
    return services.report_create(period=periods[0], by=org.office, title="Interim report T1")
