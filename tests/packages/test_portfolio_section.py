"""The package's portfolio section: loaded, dumped back the same, loaded again without change;
a wrong reference is refused with its path, and nothing is written."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pejling.packages.dumping import dump_package
from pejling.packages.formats import PackageError, parse, schema_problems
from pejling.packages.loading import load_package
from pejling.portfolio.models import Assignment, Challenge, LedgerEntry
from pejling.portfolio.selectors import ledger_balance, ledger_totals
from tests.packages.helpers import EVERY_KIND

pytestmark = pytest.mark.django_db


def with_portfolio() -> dict[str, Any]:
    package = parse(EVERY_KIND.read_text(encoding="utf-8"))
    goal = package["agreements"][1]["initiatives"][0]["goals"][0]
    package["portfolio"] = {
        "teams": [{"name": "Care team", "chair": "anna", "members": ["anna", "bo"]}],
        "meetings": [{"team": "Care team", "held_on": "2026-02-01", "agenda": ["C1", "C2"]}],
        "workshops": [
            {
                "ref": "W1",
                "title": "Night shift dialogue",
                "held_on": "2026-01-20",
                "units": ["CARE-NIGHT"],
                "recorded_by": "office",
            }
        ],
        "challenges": [
            {
                "ref": "C1",
                "kind": "challenge",
                "title": "Alarms reach the wrong person",
                "unit": "CARE-NIGHT",
                "workshop": "W1",
                "state": "assigned",
                "goals": [goal],
                "journey": [
                    {"actor": "Nurse", "action": "Answers the alarm", "feeling": 1},
                    {"actor": "Resident", "action": "Waits", "feeling": 2},
                ],
                "supporters": ["bo"],
                "comments": [{"author": "bo", "body": "Every night."}],
                "decisions": [
                    {
                        "team": "Care team",
                        "meeting": "2026-02-01",
                        "kind": "assign",
                        "decided_on": "2026-02-01",
                        "decided_by": "anna",
                        "rationale": "Safety",
                        "unit": "CARE-NIGHT",
                        "lead": "bo",
                    }
                ],
            },
            {
                "ref": "C2",
                "kind": "idea",
                "title": "Key boxes",
                "unit": "CARE-HOME",
                "state": "merged",
                "merged_into": "C1",
                "decisions": [
                    {
                        "team": "Care team",
                        "meeting": "2026-02-01",
                        "kind": "merge",
                        "decided_on": "2026-02-01",
                        "decided_by": "anna",
                        "rationale": "Same",
                        "merged_into": "C1",
                    }
                ],
            },
        ],
        "assignments": [
            {
                "ref": "A1",
                "origin": "decision",
                "challenge": "C1",
                "title": "Alarms reach the wrong person",
                "unit": "CARE-NIGHT",
                "lead": "bo",
                "year": 2026,
                "stage": "test",
                "goals": [goal],
                "stages": [
                    {"stage": "explore", "started_on": "2026-02-01", "ended_on": "2026-03-01"},
                    {
                        "stage": "test",
                        "started_on": "2026-03-01",
                        "tested_what": "Routing",
                        "learnt": "Faster",
                    },
                ],
                "benefits": [
                    {
                        "description": "Fewer wasted call-outs",
                        "stakeholder": "Night staff",
                        "class": "freed_capacity",
                        "measure": "hours",
                        "owner": "bo",
                        "years": [
                            {
                                "year": 2026,
                                "expected": "100",
                                "realised": "80",
                                "source": "Alarm log",
                            }
                        ],
                        "placements": [
                            {
                                "year": 2026,
                                "placement": "reinvested",
                                "amount": "50",
                                "unit": "CARE-HOME",
                                "purpose": "Evening walks",
                                "decided_on": "2026-06-01",
                                "decided_by": "Care team",
                            }
                        ],
                    }
                ],
            },
            {
                "ref": "A2",
                "origin": "top_down",
                "issued_by": "Council",
                "title": "Investigate night supervision",
                "unit": "CARE",
                "year": 2026,
                "stage": "stopped",
                "stopped_reason": "Covered by the region",
                "stages": [
                    {"stage": "explore", "started_on": "2026-01-10", "ended_on": "2026-04-01"}
                ],
            },
        ],
    }
    return package


def test_the_section_loads_and_dumps_back_the_same() -> None:
    package = with_portfolio()
    assert schema_problems(package) == []
    load_package(package)
    first = dump_package()
    assert first["portfolio"] == package["portfolio"]
    assert Challenge.objects.get(title="Key boxes").merged_into is not None
    assert Assignment.objects.get(title="Alarms reach the wrong person").decision is not None
    hours = ledger_totals(ledger_balance(year=2026))[0]
    assert (hours.freed, hours.reinvested, hours.unplaced) == (80, 50, 30)
    report = load_package(copy.deepcopy(first))
    assert not [c for c in report.counts if c[1] in ("created", "updated")], report.counts
    assert dump_package() == first
    assert LedgerEntry.objects.count() == 1


def test_a_wrong_reference_is_refused_with_its_path_and_nothing_is_written() -> None:
    package = with_portfolio()
    package["portfolio"]["challenges"][0]["unit"] = "NOWHERE"
    package["portfolio"]["assignments"][0]["lead"] = "nobody"
    package["portfolio"]["meetings"][0]["agenda"].append("C9")
    with pytest.raises(PackageError) as caught:
        load_package(package)
    text = [str(p) for p in caught.value.problems]
    assert any("portfolio.challenges[0].unit" in t and "NOWHERE" in t for t in text), text
    assert any("portfolio.assignments[0].lead" in t for t in text), text
    assert any("portfolio.meetings[0].agenda[2]" in t for t in text), text
    assert not Challenge.objects.exists()
