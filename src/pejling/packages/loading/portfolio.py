"""The ``portfolio`` section of a package: leadership teams, workshops, challenges with their
journeys, supports, comments and decisions, and assignments with their stages, benefits and
placements of freed capacity.

Within the file, workshops and challenges carry a ``ref`` (``W1``, ``C1``, …) that other
entries point at; in the database they are found again by their natural keys (a workshop by
title and date, a challenge by unit and title, an assignment by unit, year and title), so
loading the same file twice changes nothing. An assignment in an annual agreement names its
initiative by title (``initiative``) in its unit's agreement of its year: the agreement keeps
the one copy of the shared fields.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import ProtectedError, RestrictedError

from pejling.agreements.models import Initiative
from pejling.core.history import SYSTEM, delete_as, save_as
from pejling.indicators.models import Indicator
from pejling.packages.formats import decimal_text, to_decimal
from pejling.packages.loading.write_base import assign
from pejling.portfolio.models import (
    Assignment,
    Benefit,
    BenefitYear,
    Challenge,
    ChallengeComment,
    Decision,
    DecisionKind,
    JourneyStep,
    LeadershipTeam,
    LedgerEntry,
    Meeting,
    StageRecord,
    Support,
    Workshop,
)
from pejling.strategy.models import Element


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _compact(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None and v != "" and v != [] and v != {}}


def _ref(element: Element | None) -> str | None:
    return f"{element.strategy.code}:{element.code}" if element is not None else None


def _user(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# Dumping ----------------------------------------------------------------------------------------


def dump_portfolio() -> dict[str, Any]:
    """The portfolio as a package section (empty when there is none), in a stable order."""
    workshops = list(Workshop.objects.prefetch_related("units").order_by("pk"))
    challenges = list(
        Challenge.objects.select_related("unit", "submitted_by", "workshop", "merged_into")
        .prefetch_related("goals__strategy")
        .order_by("pk")
    )
    if not (workshops or challenges or Assignment.objects.exists()):
        return {}
    w_refs = {w.pk: f"W{i}" for i, w in enumerate(workshops, 1)}
    c_refs = {c.pk: f"C{i}" for i, c in enumerate(challenges, 1)}
    steps: dict[int, list[JourneyStep]] = defaultdict(list)
    for step in JourneyStep.objects.order_by("position", "pk"):
        steps[step.challenge_id].append(step)
    supporters: dict[int, list[str]] = defaultdict(list)
    for challenge_id, username in Support.objects.values_list("challenge_id", "user__username"):
        supporters[challenge_id].append(username)
    comments: dict[int, list[ChallengeComment]] = defaultdict(list)
    for comment in ChallengeComment.objects.select_related("author").order_by("created_at", "pk"):
        comments[comment.challenge_id].append(comment)
    decisions: dict[int, list[Decision]] = defaultdict(list)
    for decision in Decision.objects.select_related(
        "team", "meeting", "decided_by", "unit", "lead"
    ).order_by("decided_on", "pk"):
        decisions[decision.challenge_id].append(decision)
    teams = LeadershipTeam.objects.select_related("chair").prefetch_related("members")
    meetings = Meeting.objects.select_related("team").prefetch_related("agenda")
    section = {
        "teams": [
            _compact(
                {
                    "name": t.name,
                    "description": t.description,
                    "chair": _user(t.chair),
                    "members": sorted(m.get_username() for m in t.members.all()),
                }
            )
            for t in teams.order_by("name")
        ],
        "meetings": [
            _compact(
                {
                    "team": m.team.name,
                    "held_on": _iso(m.held_on),
                    "notes": m.notes,
                    "agenda": sorted(
                        (c_refs[c.pk] for c in m.agenda.all()), key=lambda r: int(r[1:])
                    ),
                }
            )
            for m in sorted(meetings, key=lambda m: (m.team.name, m.held_on))
        ],
        "workshops": [
            _compact(
                {
                    "ref": w_refs[w.pk],
                    "title": w.title,
                    "held_on": _iso(w.held_on),
                    "place": w.place,
                    "units": sorted(u.code for u in w.units.all()),
                    "notes": w.notes,
                    "recorded_by": _user(w.recorded_by),
                }
            )
            for w in workshops
        ],
        "challenges": [
            _challenge(c, c_refs, w_refs, steps, supporters, comments, decisions)
            for c in challenges
        ],
        "assignments": _assignments(c_refs),
    }
    return _compact(section)


def _challenge(
    c: Challenge,
    c_refs: dict[int, str],
    w_refs: dict[int, str],
    steps: dict[int, list[JourneyStep]],
    supporters: dict[int, list[str]],
    comments: dict[int, list[ChallengeComment]],
    decisions: dict[int, list[Decision]],
) -> dict[str, Any]:
    return _compact(
        {
            "ref": c_refs[c.pk],
            "kind": c.kind,
            "title": c.title,
            "description": c.description,
            "unit": c.unit.code,
            "goals": sorted(_ref(g) or "" for g in c.goals.all()),
            "links": c.link_list,
            "workshop": w_refs.get(c.workshop_id) if c.workshop_id else None,
            "state": c.state,
            "parked_until": _iso(c.parked_until),
            "merged_into": c_refs.get(c.merged_into_id) if c.merged_into_id else None,
            "submitted_by": _user(c.submitted_by),
            "journey": [
                _compact(
                    {
                        "actor": s.actor,
                        "action": s.action,
                        "pain_point": s.pain_point,
                        "feeling": s.feeling,
                        "opportunity": s.opportunity,
                    }
                )
                for s in steps[c.pk]
            ],
            "supporters": sorted(supporters[c.pk]),
            "comments": [
                _compact({"author": _user(m.author), "body": m.body}) for m in comments[c.pk]
            ],
            "decisions": [
                _compact(
                    {
                        "team": d.team.name,
                        "meeting": _iso(d.meeting.held_on) if d.meeting else None,
                        "kind": d.kind,
                        "decided_on": _iso(d.decided_on),
                        "decided_by": _user(d.decided_by),
                        "rationale": d.rationale,
                        "unit": d.unit.code if d.unit else None,
                        "lead": _user(d.lead),
                        "parked_until": _iso(d.parked_until),
                        "merged_into": c_refs.get(d.merged_into_id) if d.merged_into_id else None,
                    }
                )
                for d in decisions[c.pk]
            ],
        }
    )


def _assignments(c_refs: dict[int, str]) -> list[dict[str, Any]]:
    assignments = list(
        Assignment.objects.select_related("unit", "lead", "decision", "initiative")
        .prefetch_related("goals__strategy")
        .order_by("pk")
    )
    a_refs = {a.pk: f"A{i}" for i, a in enumerate(assignments, 1)}
    stages: dict[int, list[StageRecord]] = defaultdict(list)
    for record in StageRecord.objects.order_by("started_on", "pk"):
        stages[record.assignment_id].append(record)
    benefits: dict[int, list[Benefit]] = defaultdict(list)
    for benefit in (
        Benefit.objects.select_related("goal__strategy", "indicator", "owner")
        .prefetch_related("years", "ledger_entries__unit")
        .order_by("pk")
    ):
        benefits[benefit.assignment_id].append(benefit)
    rows = []
    for a in assignments:
        rows.append(
            _compact(
                {
                    "ref": a_refs[a.pk],
                    "origin": a.origin,
                    "challenge": c_refs.get(a.decision.challenge_id) if a.decision else None,
                    "issued_by": a.issued_by,
                    "title": a.title,
                    "description": a.description,
                    "unit": a.unit.code,
                    "lead": _user(a.lead),
                    "goals": sorted(_ref(g) or "" for g in a.goals.all()),
                    "year": a.year,
                    "due_date": _iso(a.due_date),
                    "stage": a.stage,
                    "stopped_reason": a.stopped_reason,
                    "initiative": a.initiative.title if a.initiative else None,
                    "stages": [
                        _compact(
                            {
                                "stage": r.stage,
                                "started_on": _iso(r.started_on),
                                "ended_on": _iso(r.ended_on),
                                "note": r.note,
                                "tested_what": r.tested_what,
                                "tested_where": r.tested_where,
                                "learnt": r.learnt,
                            }
                        )
                        for r in stages[a.pk]
                    ],
                    "benefits": [_benefit(b, a_refs) for b in benefits[a.pk]],
                }
            )
        )
    return rows


def _benefit(b: Benefit, a_refs: dict[int, str]) -> dict[str, Any]:
    return _compact(
        {
            "description": b.description,
            "stakeholder": b.stakeholder,
            "class": b.benefit_class,
            "measure": b.measure,
            "measure_label": b.measure_label,
            "goal": _ref(b.goal),
            "indicator": b.indicator.code if b.indicator else None,
            "owner": _user(b.owner),
            "baseline": decimal_text(b.baseline),
            "years": [
                _compact(
                    {
                        "year": y.year,
                        "expected": decimal_text(y.expected),
                        "pessimistic": decimal_text(y.pessimistic),
                        "optimistic": decimal_text(y.optimistic),
                        "realised": decimal_text(y.realised),
                        "source": y.realised_source,
                    }
                )
                for y in sorted(b.years.all(), key=lambda y: y.year)
            ],
            "placements": [
                _compact(
                    {
                        "year": e.year,
                        "placement": e.placement,
                        "amount": decimal_text(e.amount),
                        "unit": e.unit.code if e.unit else None,
                        "purpose": e.purpose,
                        "assignment": a_refs.get(e.assignment_id) if e.assignment_id else None,
                        "decided_on": _iso(e.decided_on),
                        "decided_by": e.decided_by,
                    }
                )
                for e in sorted(b.ledger_entries.all(), key=lambda e: (e.year, e.decided_on, e.pk))
            ],
        }
    )


# Checking ---------------------------------------------------------------------------------------


class _SectionChecker:
    """Checks the references of the portfolio section, reporting through the package checker."""

    def __init__(self, checker: Any) -> None:
        self.checker = checker
        self.section = checker.data.get("portfolio") or {}
        self.teams: set[str] = set()
        self.workshops = {w["ref"] for w in self.section.get("workshops", [])}
        self.challenges = [c["ref"] for c in self.section.get("challenges", [])]
        self.assignments = {a["ref"] for a in self.section.get("assignments", [])}

    def add(self, path: str, message: str) -> None:
        self.checker.add(path, message)

    def person(self, path: str, username: str | None) -> None:
        if username and username not in self.checker.people:
            self.add(path, f'unknown person "{username}"')

    def known(self, path: str, ref: str | None, refs: Any, what: str) -> None:
        if ref and ref not in refs:
            self.add(path, f'unknown {what} "{ref}"')

    def run(self) -> None:
        for i, team in enumerate(self.section.get("teams", [])):
            self.team(f"portfolio.teams[{i}]", team)
        for i, workshop in enumerate(self.section.get("workshops", [])):
            for j, code in enumerate(workshop.get("units", [])):
                self.checker.unit(f"portfolio.workshops[{i}].units[{j}]", code)
            self.person(f"portfolio.workshops[{i}].recorded_by", workshop.get("recorded_by"))
        if len(set(self.challenges)) != len(self.challenges):
            self.add("portfolio.challenges", "two challenges have the same ref")
        for i, challenge in enumerate(self.section.get("challenges", [])):
            self.challenge(f"portfolio.challenges[{i}]", challenge)
        for i, meeting in enumerate(self.section.get("meetings", [])):
            self.known(f"portfolio.meetings[{i}].team", meeting["team"], self.teams, "team")
            for j, ref in enumerate(meeting.get("agenda", [])):
                self.known(
                    f"portfolio.meetings[{i}].agenda[{j}]", ref, self.challenges, "challenge"
                )
        for i, assignment in enumerate(self.section.get("assignments", [])):
            self.assignment(f"portfolio.assignments[{i}]", assignment)

    def team(self, path: str, team: dict[str, Any]) -> None:
        if team["name"] in self.teams:
            self.add(f"{path}.name", f'duplicate team "{team["name"]}"')
        self.teams.add(team["name"])
        self.person(f"{path}.chair", team["chair"])
        for j, member in enumerate(team.get("members", [])):
            self.person(f"{path}.members[{j}]", member)

    def challenge(self, path: str, c: dict[str, Any]) -> None:
        self.checker.unit(f"{path}.unit", c["unit"])
        for j, goal in enumerate(c.get("goals", [])):
            self.checker.element(f"{path}.goals[{j}]", goal)
        self.known(f"{path}.workshop", c.get("workshop"), self.workshops, "workshop")
        self.known(f"{path}.merged_into", c.get("merged_into"), self.challenges, "challenge")
        self.person(f"{path}.submitted_by", c.get("submitted_by"))
        for j, username in enumerate(c.get("supporters", [])):
            self.person(f"{path}.supporters[{j}]", username)
        for j, d in enumerate(c.get("decisions", [])):
            where = f"{path}.decisions[{j}]"
            self.known(f"{where}.team", d["team"], self.teams, "team")
            self.person(f"{where}.decided_by", d["decided_by"])
            self.person(f"{where}.lead", d.get("lead"))
            self.checker.unit(f"{where}.unit", d.get("unit"))

    def assignment(self, path: str, a: dict[str, Any]) -> None:
        self.checker.unit(f"{path}.unit", a["unit"])
        self.person(f"{path}.lead", a.get("lead"))
        self.known(f"{path}.challenge", a.get("challenge"), self.challenges, "challenge")
        for j, goal in enumerate(a.get("goals", [])):
            self.checker.element(f"{path}.goals[{j}]", goal)
        for j, b in enumerate(a.get("benefits", [])):
            where = f"{path}.benefits[{j}]"
            if b.get("goal"):
                self.checker.element(f"{where}.goal", b["goal"])
            self.person(f"{where}.owner", b.get("owner"))
            self.known(
                f"{where}.indicator", b.get("indicator"), self.checker.indicators, "indicator"
            )
            for k, p in enumerate(b.get("placements", [])):
                self.checker.unit(f"{where}.placements[{k}].unit", p.get("unit"))
                self.known(
                    f"{where}.placements[{k}].assignment",
                    p.get("assignment"),
                    self.assignments,
                    "assignment",
                )


def check_portfolio(checker: Any) -> None:
    """Every reference of the section points at something in the package (the checker's
    ``add`` collects the problems; nothing is written when there are any)."""
    _SectionChecker(checker).run()


# Writing ----------------------------------------------------------------------------------------


def _date(value: str | None) -> Any:
    from datetime import date

    return date.fromisoformat(value) if value else None


class PortfolioWriter:
    """Writes the section through the loader's ``save`` (history without an acting user)."""

    def __init__(self, writer: Any) -> None:
        self.w = writer
        self.section = writer.data["portfolio"]
        self.users = {u.get_username(): u for u in get_user_model().objects.all()}
        self.units = writer.units
        self.elements = {
            f"{e.strategy.code}:{e.code}": e for e in Element.objects.select_related("strategy")
        }
        self.teams: dict[str, LeadershipTeam] = {}
        self.workshops: dict[str, Workshop] = {}
        self.challenges: dict[str, Challenge] = {}
        self.assignments: dict[str, Assignment] = {}

    def user(self, username: str | None) -> Any:
        return self.users[username] if username else None

    def save(self, obj: Any, values: dict[str, Any], kind: str) -> bool:
        """Save ``obj`` when new or changed (history without an acting person); whether it was."""
        adding = obj._state.adding
        if not (assign(obj, values) or adding):
            return False
        save_as(obj, SYSTEM)
        self.w.report.count(kind, "created" if adding else "updated")
        return True

    def remove(self, obj: Any, kind: str) -> bool:
        """Delete ``obj`` unless something still depends on it; whether it went."""
        try:
            delete_as(obj, SYSTEM)
        except (ProtectedError, RestrictedError):
            self.w.report.kept.append(f"{kind} {obj}: still in use, kept")
            return False
        self.w.report.count(kind, "removed")
        return True

    def unit(self, code: str | None) -> Any:
        return self.units[code] if code else None

    def run(self) -> None:
        for item in self.section.get("teams", []):
            team = LeadershipTeam.objects.filter(name=item["name"]).first() or LeadershipTeam(
                name=item["name"]
            )
            self.save(
                team,
                {"description": item.get("description", ""), "chair": self.user(item["chair"])},
                "leadership team",
            )
            team.members.set([self.user(u) for u in item.get("members", [])])
            self.teams[team.name] = team
        for item in self.section.get("workshops", []):
            held_on = _date(item["held_on"])
            workshop = Workshop.objects.filter(
                title=item["title"], held_on=held_on
            ).first() or Workshop(title=item["title"], held_on=held_on)
            values = {
                "place": item.get("place", ""),
                "notes": item.get("notes", ""),
                "recorded_by": self.user(item.get("recorded_by")),
            }
            self.save(workshop, values, "workshop")
            workshop.units.set([self.unit(c) for c in item.get("units", [])])
            self.workshops[item["ref"]] = workshop
        for item in self.section.get("challenges", []):
            self.write_challenge(item)
        for item in self.section.get("challenges", []):
            self.write_decisions(item)
        for item in self.section.get("meetings", []):
            team = self.teams[item["team"]]
            held_on = _date(item["held_on"])
            meeting = Meeting.objects.filter(team=team, held_on=held_on).first() or Meeting(
                team=team, held_on=held_on
            )
            self.save(meeting, {"notes": item.get("notes", "")}, "meeting")
            meeting.agenda.set([self.challenges[r] for r in item.get("agenda", [])])
        for item in self.section.get("challenges", []):
            self.link_meetings(item)
        for item in self.section.get("assignments", []):
            self.write_assignment(item)
        for item in self.section.get("assignments", []):
            self.write_benefits(item)

    def write_challenge(self, item: dict[str, Any]) -> None:
        unit = self.unit(item["unit"])
        challenge = Challenge.objects.filter(unit=unit, title=item["title"]).first() or Challenge(
            unit=unit, title=item["title"]
        )
        values = {
            "kind": item.get("kind", "challenge"),
            "description": item.get("description", ""),
            "links": "\n".join(item.get("links", [])),
            "workshop": self.workshops.get(item.get("workshop") or ""),
            "state": item.get("state", "submitted"),
            "parked_until": _date(item.get("parked_until")),
            "submitted_by": self.user(item.get("submitted_by")),
        }
        self.save(challenge, values, "challenge")
        challenge.goals.set([self.elements[g] for g in item.get("goals", [])])
        self.challenges[item["ref"]] = challenge
        existing = list(challenge.journey_steps.order_by("position", "pk"))
        for position, spec in enumerate(item.get("journey", []), 1):
            step = (
                existing[position - 1]
                if position <= len(existing)
                else JourneyStep(challenge=challenge, position=position)
            )
            self.save(
                step,
                {
                    "position": position,
                    "actor": spec["actor"],
                    "action": spec["action"],
                    "pain_point": spec.get("pain_point", ""),
                    "feeling": spec["feeling"],
                    "opportunity": spec.get("opportunity", ""),
                },
                "journey step",
            )
        for step in existing[len(item.get("journey", [])) :]:
            self.remove(step, "journey step")
        wanted = {self.user(u).pk for u in item.get("supporters", [])}
        Support.objects.filter(challenge=challenge).exclude(user_id__in=wanted).delete()
        have = set(Support.objects.filter(challenge=challenge).values_list("user_id", flat=True))
        for user_id in sorted(wanted - have):
            Support.objects.create(challenge=challenge, user_id=user_id)
        have_comments = {
            (c.author_id, c.body) for c in ChallengeComment.objects.filter(challenge=challenge)
        }
        for spec in item.get("comments", []):
            author = self.user(spec.get("author"))
            if (author.pk if author else None, spec["body"]) not in have_comments:
                save_as(
                    ChallengeComment(challenge=challenge, author=author, body=spec["body"]), None
                )
                self.w.report.count("comment", "created")

    def write_decisions(self, item: dict[str, Any]) -> None:
        challenge = self.challenges[item["ref"]]
        merged = item.get("merged_into")
        if merged and challenge.merged_into_id != self.challenges[merged].pk:
            challenge.merged_into = self.challenges[merged]
            save_as(challenge, None, update_fields=["merged_into"])
        for spec in item.get("decisions", []):
            team = self.teams[spec["team"]]
            decided_on = _date(spec["decided_on"])
            decision = Decision.objects.filter(
                challenge=challenge, team=team, decided_on=decided_on, kind=spec["kind"]
            ).first() or Decision(
                challenge=challenge, team=team, decided_on=decided_on, kind=spec["kind"]
            )
            values = {
                "decided_by": self.user(spec["decided_by"]),
                "rationale": spec["rationale"],
                "unit": self.unit(spec.get("unit")),
                "lead": self.user(spec.get("lead")),
                "parked_until": _date(spec.get("parked_until")),
                "merged_into": self.challenges.get(spec.get("merged_into") or ""),
            }
            self.save(decision, values, "decision")

    def link_meetings(self, item: dict[str, Any]) -> None:
        challenge = self.challenges[item["ref"]]
        for spec in item.get("decisions", []):
            if not spec.get("meeting"):
                continue
            meeting = Meeting.objects.filter(
                team=self.teams[spec["team"]], held_on=_date(spec["meeting"])
            ).first()
            Decision.objects.filter(
                challenge=challenge, team__name=spec["team"], decided_on=_date(spec["decided_on"])
            ).exclude(meeting=meeting).update(meeting=meeting)

    def write_assignment(self, item: dict[str, Any]) -> None:
        unit = self.unit(item["unit"])
        assignment = Assignment.objects.filter(
            unit=unit, year=item["year"], title=item["title"]
        ).first() or Assignment(unit=unit, year=item["year"], title=item["title"])
        decision = None
        if item.get("challenge"):
            decision = Decision.objects.filter(
                challenge=self.challenges[item["challenge"]], kind=DecisionKind.ASSIGN
            ).first()
        initiative = None
        if item.get("initiative"):
            initiative = Initiative.objects.filter(
                agreement__unit=unit, agreement__year=item["year"], title=item["initiative"]
            ).first()
        values = {
            "origin": item["origin"],
            "decision": decision,
            "issued_by": item.get("issued_by", ""),
            "description": item.get("description", ""),
            "lead": self.user(item.get("lead")),
            "due_date": _date(item.get("due_date")),
            "stage": item["stage"],
            "stopped_reason": item.get("stopped_reason", ""),
            "initiative": initiative,
        }
        self.save(assignment, values, "assignment")
        assignment.goals.set([self.elements[g] for g in item.get("goals", [])])
        self.assignments[item["ref"]] = assignment
        existing = {r.stage: r for r in assignment.stages.all()}
        for spec in item.get("stages", []):
            record = existing.pop(spec["stage"], None) or StageRecord(
                assignment=assignment, stage=spec["stage"], started_on=_date(spec["started_on"])
            )
            self.save(
                record,
                {
                    "started_on": _date(spec["started_on"]),
                    "ended_on": _date(spec.get("ended_on")),
                    "note": spec.get("note", ""),
                    "tested_what": spec.get("tested_what", ""),
                    "tested_where": spec.get("tested_where", ""),
                    "learnt": spec.get("learnt", ""),
                },
                "stage",
            )
        for record in existing.values():
            self.remove(record, "stage")

    def write_benefits(self, item: dict[str, Any]) -> None:
        assignment = self.assignments[item["ref"]]
        for spec in item.get("benefits", []):
            benefit = Benefit.objects.filter(
                assignment=assignment, description=spec["description"]
            ).first() or Benefit(assignment=assignment, description=spec["description"])
            indicator = (
                Indicator.objects.get(code=spec["indicator"]) if spec.get("indicator") else None
            )
            self.save(
                benefit,
                {
                    "stakeholder": spec["stakeholder"],
                    "benefit_class": spec["class"],
                    "measure": spec["measure"],
                    "measure_label": spec.get("measure_label", ""),
                    "goal": self.elements.get(spec.get("goal") or ""),
                    "indicator": indicator,
                    "owner": self.user(spec.get("owner")),
                    "baseline": to_decimal(spec.get("baseline")),
                },
                "benefit",
            )
            years = {y.year: y for y in benefit.years.all()}
            for y in spec.get("years", []):
                row = years.pop(y["year"], None) or BenefitYear(benefit=benefit, year=y["year"])
                self.save(
                    row,
                    {
                        "expected": to_decimal(y.get("expected")),
                        "pessimistic": to_decimal(y.get("pessimistic")),
                        "optimistic": to_decimal(y.get("optimistic")),
                        "realised": to_decimal(y.get("realised")),
                        "realised_source": y.get("source", ""),
                    },
                    "benefit year",
                )
            for row in years.values():
                self.remove(row, "benefit year")
            have = list(benefit.ledger_entries.all())
            for p in spec.get("placements", []):
                values = {
                    "year": p["year"],
                    "placement": p["placement"],
                    "amount": to_decimal(p["amount"]),
                    "unit": self.unit(p.get("unit")),
                    "purpose": p.get("purpose", ""),
                    "assignment": self.assignments.get(p.get("assignment") or ""),
                    "decided_on": _date(p["decided_on"]),
                    "decided_by": p["decided_by"],
                }
                same = next(
                    (e for e in have if all(getattr(e, k) == v for k, v in values.items())), None
                )
                if same is not None:
                    have.remove(same)
                    continue
                self.save(LedgerEntry(benefit=benefit), values, "ledger entry")
            for entry in have:
                self.remove(entry, "ledger entry")


def write_portfolio(writer: Any) -> None:
    PortfolioWriter(writer).run()
