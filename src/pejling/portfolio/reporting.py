"""The development portfolio's part of a board report, as plain tables.

``pejling.reports`` reads this (only when the portfolio app is installed) for a report's
portfolio chapter: each table is ``(title, column names, rows)`` of plain values, so the
reports app needs nothing of the portfolio's models and the portfolio nothing of reports.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from pejling.portfolio.permissions import can_read_portfolio
from pejling.portfolio.selectors import (
    assignment_list,
    benefit_totals,
    ledger_balance,
    ledger_totals,
)

Row = list[str | int | float | None]
ReportTable = tuple[str, list[str], list[Row]]


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _assignments(year: int) -> ReportTable:
    rows: list[Row] = [
        [
            a.shown_title,
            a.unit.name,
            a.lead.get_full_name() if a.lead else "",
            a.get_stage_display(),
            ", ".join(goal.title for goal in a.shown_goals()),
        ]
        for a in assignment_list(year=year).order_by("unit__path", "pk")
    ]
    columns = [_("Assignment"), _("Owner unit"), _("Lead"), _("Stage"), _("Goals")]
    return (_("Assignments %(year)s") % {"year": year}, columns, rows)


def _benefits(year: int) -> ReportTable:
    rows: list[Row] = [
        [t.class_label, t.measure, _number(t.expected), _number(t.realised)]
        for t in benefit_totals()
        if t.year == year
    ]
    columns = [_("Class"), _("Measure"), _("Expected"), _("Realised")]
    return (_("Benefits expected and realised %(year)s") % {"year": year}, columns, rows)


def _ledger(year: int) -> ReportTable:
    rows: list[Row] = [
        [
            row.measure_label,
            _number(row.freed),
            _number(row.reinvested),
            _number(row.returned),
            _number(row.unplaced),
        ]
        for row in ledger_totals(ledger_balance(year=year))
    ]
    columns = [_("Measure"), _("Freed"), _("Reinvested"), _("Returned"), _("Not yet placed")]
    return (_("Freed capacity and where it went %(year)s") % {"year": year}, columns, rows)


def report_tables(*, user: Any, year: int) -> list[ReportTable]:
    """The portfolio chapter's tables for ``year``, as ``user`` may read them (none when the
    person may not read the portfolio)."""
    if not can_read_portfolio(user):
        return []
    return [_assignments(year), _benefits(year), _ledger(year)]
