"""Writes on the development portfolio: each a keyword-only function inside a transaction that
records history, checks the rule in ``portfolio/permissions.py`` and locks what it depends on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from pejling.agreements import services as agreement_services
from pejling.agreements.models import Agreement, AgreementState, InitiativeStatus
from pejling.core.history import delete_as, next_version, save_as
from pejling.core.utils import person_name, require
from pejling.organisation import permissions as org_permissions
from pejling.organisation.models import Unit
from pejling.portfolio import permissions
from pejling.portfolio.models import (
    DECISION_STATE,
    OPEN_STATES,
    STAGE_ORDER,
    Assignment,
    AssignmentOrigin,
    Benefit,
    BenefitClass,
    BenefitYear,
    Challenge,
    ChallengeComment,
    ChallengeKind,
    ChallengeState,
    Decision,
    DecisionKind,
    JourneyStep,
    LeadershipTeam,
    LedgerEntry,
    Measure,
    Meeting,
    Placement,
    Stage,
    StageRecord,
    Support,
    Workshop,
)
from pejling.strategy.models import Element


def _required_text(field: str, value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _clean_links(links: str) -> str:
    lines = [line.strip() for line in (links or "").splitlines() if line.strip()]
    bad = [line for line in lines if urlparse(line).scheme not in ("http", "https")]
    if bad:
        raise ValidationError(
            {
                "links": _("Not a web address (start it with https://): %(links)s")
                % {"links": ", ".join(bad)}
            }
        )
    return "\n".join(lines)


# Challenges ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChallengeInput:
    title: str
    unit: Unit
    kind: str = ChallengeKind.CHALLENGE
    description: str = ""
    goals: Sequence[Element] = ()
    links: str = ""


def _new_challenge(data: ChallengeInput, *, by: Any, workshop: Workshop | None) -> Challenge:
    if data.kind not in ChallengeKind.values:
        raise ValidationError({"kind": _("Choose a challenge or an idea.")})
    challenge = Challenge(
        kind=data.kind,
        title=_required_text("title", data.title, _("Give the challenge a title.")),
        description=data.description.strip(),
        unit=data.unit,
        links=_clean_links(data.links),
        workshop=workshop,
        submitted_by=by,
    )
    challenge.full_clean(exclude=["goals", "submitted_by"])
    save_as(challenge, by)
    challenge.goals.set(list(data.goals))
    return challenge


@transaction.atomic
def challenge_submit(*, by: Any, data: ChallengeInput) -> Challenge:
    require(permissions.can_submit_challenge(by))
    return _new_challenge(data, by=by, workshop=None)


@transaction.atomic
def challenge_update(
    *, challenge: Challenge, by: Any, data: ChallengeInput, expected_version: int | None
) -> Challenge:
    require(permissions.can_edit_challenge(by, challenge))
    next_version(challenge, expected_version)
    challenge.kind = data.kind
    challenge.title = _required_text("title", data.title, _("Give the challenge a title."))
    challenge.description = data.description.strip()
    challenge.unit = data.unit
    challenge.links = _clean_links(data.links)
    challenge.full_clean(exclude=["goals", "submitted_by", "merged_into"])
    save_as(challenge, by)
    challenge.goals.set(list(data.goals))
    return challenge


@transaction.atomic
def challenge_support(*, challenge: Challenge, by: Any) -> bool:
    """Support a challenge; a second support by the same person changes nothing (False)."""
    require(permissions.can_support(by))
    try:
        with transaction.atomic():
            Support.objects.create(challenge=challenge, user=by)
    except IntegrityError:
        return False
    return True


@transaction.atomic
def challenge_unsupport(*, challenge: Challenge, by: Any) -> None:
    require(permissions.can_support(by))
    Support.objects.filter(challenge=challenge, user=by).delete()


@transaction.atomic
def challenge_comment(*, challenge: Challenge, by: Any, body: str) -> ChallengeComment:
    require(permissions.can_comment(by))
    body = _required_text("body", body, _("Write a comment first."))
    if len(body) > 4000:
        raise ValidationError({"body": _("A comment can be at most 4000 characters.")})
    comment = ChallengeComment(challenge=challenge, author=by, body=body)
    save_as(comment, by)
    return comment


# Workshops ----------------------------------------------------------------------------------


@transaction.atomic
def workshop_record(
    *,
    by: Any,
    title: str,
    held_on: date,
    place: str = "",
    units: Iterable[Unit] = (),
    notes: str = "",
    challenges: Sequence[ChallengeInput] = (),
) -> Workshop:
    """Record a workshop and the challenges it brought up, all at once or nothing."""
    require(permissions.can_record_workshop(by))
    if not challenges:
        raise ValidationError({"challenges": _("Record at least one challenge or idea.")})
    workshop = Workshop(
        title=_required_text("title", title, _("Give the workshop a title.")),
        held_on=held_on,
        place=place.strip(),
        notes=notes.strip(),
        recorded_by=by,
    )
    save_as(workshop, by)
    workshop.units.set(list(units))
    for data in challenges:
        _new_challenge(data, by=by, workshop=workshop)
    return workshop


# User journeys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepInput:
    actor: str
    action: str
    feeling: int
    pain_point: str = ""
    opportunity: str = ""


def _lock_challenge(challenge: Challenge) -> Challenge:
    return Challenge.objects.select_for_update().get(pk=challenge.pk)


def _fill_step(step: JourneyStep, data: StepInput) -> None:
    step.actor = _required_text("actor", data.actor, _("Say who acts in this step."))
    step.action = _required_text("action", data.action, _("Say what happens in this step."))
    if not isinstance(data.feeling, int) or not 1 <= data.feeling <= 5:
        raise ValidationError({"feeling": _("The feeling is a number from 1 to 5.")})
    step.feeling = data.feeling
    step.pain_point = data.pain_point.strip()
    step.opportunity = data.opportunity.strip()


@transaction.atomic
def journey_step_add(*, challenge: Challenge, by: Any, data: StepInput) -> JourneyStep:
    require(permissions.can_edit_challenge(by, challenge))
    _lock_challenge(challenge)
    last = challenge.journey_steps.aggregate(m=Max("position"))["m"] or 0
    step = JourneyStep(challenge=challenge, position=last + 1)
    _fill_step(step, data)
    save_as(step, by)
    return step


@transaction.atomic
def journey_step_update(*, step: JourneyStep, by: Any, data: StepInput) -> JourneyStep:
    require(permissions.can_edit_challenge(by, step.challenge))
    _fill_step(step, data)
    save_as(step, by)
    return step


@transaction.atomic
def journey_step_delete(*, step: JourneyStep, by: Any) -> None:
    challenge = step.challenge
    require(permissions.can_edit_challenge(by, challenge))
    _lock_challenge(challenge)
    delete_as(step, by)
    for position, other in enumerate(challenge.journey_steps.order_by("position", "pk"), 1):
        if other.position != position:
            other.position = position
            save_as(other, by, update_fields=["position"])


@transaction.atomic
def journey_step_move(*, step: JourneyStep, by: Any, up: bool) -> None:
    """Swap a step with its neighbour (a plain form button does this, no JavaScript needed)."""
    challenge = step.challenge
    require(permissions.can_edit_challenge(by, challenge))
    _lock_challenge(challenge)
    steps = list(challenge.journey_steps.order_by("position", "pk"))
    index = next(i for i, s in enumerate(steps) if s.pk == step.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(steps):
        return
    steps[index], steps[other] = steps[other], steps[index]
    for position, item in enumerate(steps, 1):
        if item.position != position:
            item.position = position
            save_as(item, by, update_fields=["position"])


# Leadership teams and meetings --------------------------------------------------------------


@transaction.atomic
def team_save(
    *,
    by: Any,
    name: str,
    chair: Any,
    members: Iterable[Any],
    description: str = "",
    team: LeadershipTeam | None = None,
) -> LeadershipTeam:
    require(permissions.can_manage_teams(by))
    team = team or LeadershipTeam()
    team.name = _required_text("name", name, _("Give the team a name."))
    team.description = description.strip()
    team.chair = chair
    try:
        with transaction.atomic():
            save_as(team, by)
    except IntegrityError as exc:
        raise ValidationError({"name": _("A team with this name already exists.")}) from exc
    team.members.set({*members, chair})
    return team


@transaction.atomic
def meeting_create(
    *, team: LeadershipTeam, by: Any, held_on: date, agenda: Iterable[Challenge], notes: str = ""
) -> Meeting:
    require(permissions.can_plan_meeting(by, team))
    meeting = Meeting(team=team, held_on=held_on, notes=notes.strip())
    save_as(meeting, by)
    _set_agenda(meeting, list(agenda), by)
    return meeting


@transaction.atomic
def meeting_set_agenda(*, meeting: Meeting, by: Any, agenda: Iterable[Challenge]) -> Meeting:
    require(permissions.can_plan_meeting(by, meeting.team))
    _set_agenda(meeting, list(agenda), by)
    return meeting


def _set_agenda(meeting: Meeting, agenda: list[Challenge], by: Any) -> None:
    meeting.agenda.set(agenda)
    for challenge in Challenge.objects.select_for_update().filter(
        pk__in=[c.pk for c in agenda], state=ChallengeState.SUBMITTED
    ):
        challenge.state = ChallengeState.ON_AGENDA
        challenge.version += 1
        save_as(challenge, by, update_fields=["state", "version"])


# Decisions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionInput:
    challenge: Challenge
    kind: str
    rationale: str
    expected_version: int | None = None
    unit: Unit | None = None
    lead: Any = None
    parked_until: date | None = None
    merged_into: Challenge | None = None
    goals: Sequence[Element] = ()


class DecisionConflict(ValidationError):
    """Someone decided on the challenge after the form was loaded: ``decision`` is theirs."""

    def __init__(self, message: str, *, challenge: Challenge, decision: Decision | None):
        super().__init__(message, code="decision_conflict")
        self.challenge = challenge
        self.decision = decision


def _check_assign(data: DecisionInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.unit is None:
        errors["unit"] = _("Choose the unit that gets the assignment.")
    if data.lead is None:
        errors["lead"] = _("Choose who leads the assignment.")
    return errors


def _check_park(data: DecisionInput, decided_on: date) -> dict[str, str]:
    if data.parked_until is None:
        return {"parked_until": _("Say until when the challenge is parked.")}
    if data.parked_until <= decided_on:
        return {"parked_until": _("Park until a date after the decision.")}
    return {}


def _check_merge(data: DecisionInput) -> dict[str, str]:
    if data.merged_into is None:
        return {"merged_into": _("Choose the challenge to merge into.")}
    if data.merged_into.pk == data.challenge.pk:
        return {"merged_into": _("A challenge cannot be merged into itself.")}
    if data.merged_into.state == ChallengeState.MERGED:
        return {"merged_into": _("That challenge is itself merged; choose the one it went into.")}
    return {}


def _check_decision(data: DecisionInput, decided_on: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.kind not in DecisionKind.values:
        errors["kind"] = _("Choose assign, park, reject or merge.")
    if not data.rationale.strip():
        errors["rationale"] = _("Give the rationale for the decision.")
    if data.kind == DecisionKind.ASSIGN:
        errors.update(_check_assign(data))
    elif data.kind == DecisionKind.PARK:
        errors.update(_check_park(data, decided_on))
    elif data.kind == DecisionKind.MERGE:
        errors.update(_check_merge(data))
    return errors


def _conflict(locked: Challenge) -> DecisionConflict:
    latest = (
        locked.decisions.select_related("decided_by", "team").order_by("-created_at", "-pk").first()
    )
    if latest is not None:
        who = person_name(latest.decided_by)
        message = _(
            "“%(challenge)s” was decided by %(who)s in the meantime: %(decision)s. Nothing of "
            "yours was saved; check their decision and choose again."
        ) % {"challenge": locked.title, "who": who, "decision": latest.get_kind_display().lower()}
    else:
        message = _(
            "“%(challenge)s” was changed by someone else in the meantime. Nothing of yours was "
            "saved; check it and choose again."
        ) % {"challenge": locked.title}
    return DecisionConflict(message, challenge=locked, decision=latest)


def _decide_one(
    data: DecisionInput, *, team: LeadershipTeam, by: Any, decided_on: date, meeting: Meeting | None
) -> Decision:
    locked = _lock_challenge(data.challenge)
    if (
        data.expected_version is not None and locked.version != data.expected_version
    ) or locked.state not in OPEN_STATES:
        raise _conflict(locked)
    decision = Decision(
        challenge=locked,
        team=team,
        meeting=meeting,
        kind=data.kind,
        decided_on=decided_on,
        decided_by=by,
        rationale=data.rationale.strip(),
        unit=data.unit if data.kind == DecisionKind.ASSIGN else None,
        lead=data.lead if data.kind == DecisionKind.ASSIGN else None,
        parked_until=data.parked_until if data.kind == DecisionKind.PARK else None,
        merged_into=data.merged_into if data.kind == DecisionKind.MERGE else None,
    )
    save_as(decision, by)
    locked.state = DECISION_STATE[DecisionKind(data.kind)]
    locked.parked_until = decision.parked_until
    locked.merged_into = decision.merged_into
    locked.version += 1
    save_as(locked, by, update_fields=["state", "parked_until", "merged_into", "version"])
    data.challenge.state, data.challenge.version = locked.state, locked.version
    if data.kind == DecisionKind.ASSIGN:
        assert data.unit is not None
        goals = list(data.goals) or list(locked.goals.filter(level__holds_goals=True))
        _new_assignment(
            by=by,
            origin=AssignmentOrigin.DECISION,
            decision=decision,
            title=locked.title,
            description=locked.description,
            unit=data.unit,
            lead=data.lead,
            goals=goals,
            year=decided_on.year,
            due_date=None,
            started_on=decided_on,
        )
    return decision


@transaction.atomic
def decide(
    *,
    team: LeadershipTeam,
    by: Any,
    decisions: Sequence[DecisionInput],
    decided_on: date,
    meeting: Meeting | None = None,
) -> list[Decision]:
    """Decide on several challenges in one pass, all or nothing.

    Each challenge is locked and checked against the version the form was loaded with: when
    someone decided in between, ``DecisionConflict`` names their decision and nothing is saved.
    Field problems come back as one ``ValidationError`` keyed ``"<challenge id>-<field>"``."""
    require(permissions.can_decide(by, team))
    if meeting is not None and meeting.team_id != team.pk:
        raise ValidationError(_("The meeting belongs to another team."))
    errors: dict[str, str] = {}
    for data in decisions:
        for field, message in _check_decision(data, decided_on).items():
            errors[f"{data.challenge.pk}-{field}"] = message
    if errors:
        raise ValidationError(errors)
    if not decisions:
        raise ValidationError(_("Choose a decision for at least one challenge."))
    return [
        _decide_one(data, team=team, by=by, decided_on=decided_on, meeting=meeting)
        for data in sorted(decisions, key=lambda d: d.challenge.pk)  # lock in one order
    ]


# Assignments --------------------------------------------------------------------------------


def _new_assignment(
    *,
    by: Any,
    origin: str,
    title: str,
    unit: Unit,
    lead: Any,
    goals: list[Element],
    year: int,
    due_date: date | None,
    started_on: date,
    decision: Decision | None = None,
    description: str = "",
    issued_by: str = "",
) -> Assignment:
    assignment = Assignment(
        origin=origin,
        decision=decision,
        issued_by=issued_by.strip(),
        title=_required_text("title", title, _("Give the assignment a title.")),
        description=description.strip(),
        unit=unit,
        lead=lead,
        year=year,
        due_date=due_date,
        stage=Stage.EXPLORE,
    )
    save_as(assignment, by)
    assignment.goals.set(goals)
    save_as(StageRecord(assignment=assignment, stage=Stage.EXPLORE, started_on=started_on), by)
    _try_link(assignment, by)
    return assignment


@transaction.atomic
def assignment_give(
    *,
    by: Any,
    issued_by: str,
    title: str,
    unit: Unit,
    lead: Any,
    goals: Iterable[Element],
    due_date: date | None,
    given_on: date,
    description: str = "",
) -> Assignment:
    """A top-down assignment from the executive board or a committee, without a challenge."""
    require(permissions.can_give_top_down(by))
    _required_text("issued_by", issued_by, _("Say who gives the assignment."))
    if due_date is not None and due_date < given_on:
        raise ValidationError({"due_date": _("The report date cannot be before the assignment.")})
    return _new_assignment(
        by=by,
        origin=AssignmentOrigin.TOP_DOWN,
        issued_by=issued_by,
        title=title,
        description=description,
        unit=unit,
        lead=lead,
        goals=list(goals),
        year=given_on.year,
        due_date=due_date,
        started_on=given_on,
    )


def initiative_status_for(stage: str) -> str:
    """The status of the agreement's initiative that mirrors an assignment's stage."""
    if stage == Stage.EXPLORE:
        return InitiativeStatus.PLANNED
    if stage == Stage.IN_OPERATION:
        return InitiativeStatus.DONE
    if stage == Stage.STOPPED:
        return InitiativeStatus.CANCELLED
    return InitiativeStatus.STARTED


def link_blocker(assignment: Assignment, by: Any) -> str | None:
    """Why the assignment cannot be put in its unit's annual agreement now (None: it can)."""
    if assignment.initiative_id:
        return _("It is already in the annual agreement.")
    if not org_permissions.can_write_agreement(by, assignment.unit):
        return _("The unit's head or editor adds it to the annual agreement.")
    agreement = Agreement.objects.filter(unit=assignment.unit, year=assignment.year).first()
    if agreement is not None and agreement.state != AgreementState.DRAFT:
        return _(
            "The annual agreement %(year)s is %(state)s: start a revision of it to add the "
            "assignment."
        ) % {"year": assignment.year, "state": agreement.get_state_display().lower()}
    return None


def _try_link(assignment: Assignment, by: Any) -> None:
    """On creation, join the owner unit's draft agreement of the year when there is one (a
    missing agreement is created only when someone asks, with ``assignment_link``)."""
    exists = Agreement.objects.filter(unit=assignment.unit, year=assignment.year).exists()
    if exists and link_blocker(assignment, by) is None:
        _link(assignment, by)


def _link(assignment: Assignment, by: Any) -> None:
    agreement = Agreement.objects.filter(unit=assignment.unit, year=assignment.year).first()
    if agreement is None:
        agreement = agreement_services.agreement_create(
            unit=assignment.unit, year=assignment.year, by=by
        )
    initiative = agreement_services.initiative_create(
        agreement=agreement,
        by=by,
        title=assignment.title,
        description=assignment.description,
        goals=list(assignment.goals.all()),
        owner=assignment.lead,
        end_date=assignment.due_date,
        status=initiative_status_for(assignment.stage),
    )
    assignment.initiative = initiative
    save_as(assignment, by, update_fields=["initiative"])


@transaction.atomic
def assignment_link(*, assignment: Assignment, by: Any) -> Assignment:
    """Put the assignment in its owner unit's annual agreement as an initiative."""
    require(permissions.can_update_assignment(by, assignment))
    Assignment.objects.select_for_update().filter(pk=assignment.pk).first()
    assignment.refresh_from_db()
    blocker = link_blocker(assignment, by)
    if blocker:
        raise ValidationError(blocker)
    _link(assignment, by)
    return assignment


@transaction.atomic
def assignment_update(
    *,
    assignment: Assignment,
    by: Any,
    title: str,
    description: str,
    lead: Any,
    goals: Iterable[Element],
    due_date: date | None,
    expected_version: int | None,
) -> Assignment:
    """Change an assignment. Linked to an initiative, the title and goals are changed there
    (through the agreement's own service and its rules), so both pages show the same."""
    require(permissions.can_update_assignment(by, assignment))
    next_version(assignment, expected_version)
    title = _required_text("title", title, _("Give the assignment a title."))
    goal_list = list(goals)
    initiative = assignment.initiative
    if initiative is not None:
        agreement = initiative.agreement
        if agreement.state != AgreementState.DRAFT and (
            initiative.title != title
            or {g.pk for g in initiative.goals.all()} != {g.pk for g in goal_list}
        ):
            raise ValidationError(
                _(
                    "The title and goals are kept in the annual agreement %(year)s, which is "
                    "%(state)s: start a revision of it to change them."
                )
                % {"year": agreement.year, "state": agreement.get_state_display().lower()}
            )
        if agreement.state == AgreementState.DRAFT:
            agreement_services.initiative_update(
                initiative=initiative,
                by=by,
                title=title,
                goals=goal_list,
                description=description,
                owner=lead,
                start_date=initiative.start_date,
                end_date=due_date,
                status=initiative.status,
            )
    assignment.title = title
    assignment.description = description.strip()
    assignment.lead = lead
    assignment.due_date = due_date
    save_as(assignment, by)
    assignment.goals.set(goal_list)
    return assignment


@dataclass(frozen=True)
class StageInput:
    started_on: date
    note: str = ""
    tested_what: str = ""
    tested_where: str = ""
    learnt: str = ""


def _lock_assignment(assignment: Assignment, expected_version: int | None) -> None:
    next_version(assignment, expected_version)


@transaction.atomic
def assignment_advance(
    *,
    assignment: Assignment,
    by: Any,
    to: str,
    data: StageInput,
    expected_version: int | None,
    previous_ended_on: date | None = None,
) -> StageRecord:
    """Move an assignment on to a later stage. The current stage ends (on
    ``previous_ended_on``, by default the day the next starts); the next cannot start before."""
    require(permissions.can_update_assignment(by, assignment))
    _lock_assignment(assignment, expected_version)
    current = Assignment.objects.get(pk=assignment.pk)
    if to not in STAGE_ORDER or current.stage not in STAGE_ORDER:
        raise ValidationError({"stage": _("This stage cannot follow the current one.")})
    if STAGE_ORDER.index(Stage(to)) <= STAGE_ORDER.index(Stage(current.stage)):
        raise ValidationError({"stage": _("An assignment only moves on to a later stage.")})
    last = assignment.stages.filter(stage=current.stage).first()
    ended_on = previous_ended_on or data.started_on
    if last is not None:
        if ended_on < last.started_on:
            raise ValidationError(
                {"ended_on": _("The current stage cannot end before it started.")}
            )
        if data.started_on < ended_on:
            raise ValidationError(
                {"started_on": _("A stage cannot start before the previous one ended.")}
            )
        last.ended_on = ended_on
        save_as(last, by, update_fields=["ended_on"])
    if to == Stage.TEST and not data.tested_what.strip():
        raise ValidationError({"tested_what": _("Say what is tested.")})
    record = StageRecord(
        assignment=assignment,
        stage=to,
        started_on=data.started_on,
        note=data.note.strip(),
        tested_what=data.tested_what.strip(),
        tested_where=data.tested_where.strip(),
        learnt=data.learnt.strip(),
    )
    save_as(record, by)
    assignment.stage = to
    save_as(assignment, by, update_fields=["stage", "version"])
    _mirror_status(assignment, by)
    return record


def _mirror_status(assignment: Assignment, by: Any) -> None:
    """The initiative's status follows the stage while its agreement is a draft."""
    initiative = assignment.initiative
    if initiative is None or initiative.agreement.state != AgreementState.DRAFT:
        return
    status = initiative_status_for(assignment.stage)
    if initiative.status != status:
        initiative.status = status
        initiative.version += 1
        save_as(initiative, by, update_fields=["status", "version"])


@transaction.atomic
def stage_record_update(
    *, record: StageRecord, by: Any, data: StageInput, ended_on: date | None
) -> StageRecord:
    """Correct a stage's dates and notes; dates stay in order with the stages around it."""
    assignment = record.assignment
    require(permissions.can_update_assignment(by, assignment))
    _lock_assignment(assignment, None)
    records = list(assignment.stages.order_by("started_on", "pk"))
    index = next(i for i, r in enumerate(records) if r.pk == record.pk)
    if ended_on is not None and ended_on < data.started_on:
        raise ValidationError({"ended_on": _("A stage cannot end before it starts.")})
    if index > 0:
        before = records[index - 1]
        if before.ended_on and data.started_on < before.ended_on:
            raise ValidationError(
                {"started_on": _("A stage cannot start before the previous one ended.")}
            )
    if index + 1 < len(records) and ended_on and ended_on > records[index + 1].started_on:
        raise ValidationError({"ended_on": _("A stage must end before the next one starts.")})
    record.started_on = data.started_on
    record.ended_on = ended_on
    record.note = data.note.strip()
    record.tested_what = data.tested_what.strip()
    record.tested_where = data.tested_where.strip()
    record.learnt = data.learnt.strip()
    save_as(record, by)
    save_as(assignment, by, update_fields=["version"])
    return record


@transaction.atomic
def assignment_stop(
    *, assignment: Assignment, by: Any, reason: str, on: date, expected_version: int | None
) -> Assignment:
    require(permissions.can_update_assignment(by, assignment))
    reason = _required_text("reason", reason, _("Say why the assignment is stopped."))
    _lock_assignment(assignment, expected_version)
    current = Assignment.objects.get(pk=assignment.pk)
    if current.stage in (Stage.STOPPED, Stage.IN_OPERATION):
        raise ValidationError(
            _("The assignment is %(stage)s and cannot be stopped.")
            % {"stage": current.get_stage_display().lower()}
        )
    last = assignment.stages.filter(stage=current.stage).first()
    if last is not None:
        if on < last.started_on:
            raise ValidationError({"on": _("It cannot stop before its current stage started.")})
        last.ended_on = on
        save_as(last, by, update_fields=["ended_on"])
    assignment.stage = Stage.STOPPED
    assignment.stopped_reason = reason
    save_as(assignment, by, update_fields=["stage", "stopped_reason", "version"])
    _mirror_status(assignment, by)
    return assignment


# Benefits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenefitInput:
    description: str
    stakeholder: str
    benefit_class: str
    measure: str
    measure_label: str = ""
    goal: Element | None = None
    indicator: Any = None
    owner: Any = None
    baseline: Decimal | None = None


@dataclass(frozen=True)
class YearInput:
    year: int
    expected: Decimal | None = None
    pessimistic: Decimal | None = None
    optimistic: Decimal | None = None
    realised: Decimal | None = None
    realised_source: str = ""


def _fill_benefit(benefit: Benefit, data: BenefitInput) -> None:
    benefit.description = _required_text(
        "description", data.description, _("Say what the benefit is.")
    )
    benefit.stakeholder = _required_text(
        "stakeholder", data.stakeholder, _("Say for whom the benefit is.")
    )
    if data.benefit_class not in BenefitClass.values:
        raise ValidationError({"benefit_class": _("Choose the benefit's class.")})
    if data.measure not in Measure.values:
        raise ValidationError({"measure": _("Choose what the benefit is measured in.")})
    if data.benefit_class == BenefitClass.FREED_CAPACITY and data.measure == Measure.OTHER:
        raise ValidationError(
            {"measure": _("Freed capacity is counted in hours or kronor, to be reinvested.")}
        )
    if data.measure == Measure.OTHER and not data.measure_label.strip():
        raise ValidationError({"measure_label": _("Name the unit of measure.")})
    benefit.benefit_class = data.benefit_class
    benefit.measure = data.measure
    benefit.measure_label = data.measure_label.strip() if data.measure == Measure.OTHER else ""
    benefit.goal = data.goal
    benefit.indicator = data.indicator
    benefit.owner = data.owner
    benefit.baseline = data.baseline


@transaction.atomic
def benefit_create(
    *, assignment: Assignment, by: Any, data: BenefitInput, years: Sequence[YearInput] = ()
) -> Benefit:
    require(permissions.can_update_assignment(by, assignment))
    benefit = Benefit(assignment=assignment)
    _fill_benefit(benefit, data)
    save_as(benefit, by)
    for year in years:
        _set_year(benefit, year, by)
    return benefit


@transaction.atomic
def benefit_update(
    *, benefit: Benefit, by: Any, data: BenefitInput, expected_version: int | None
) -> Benefit:
    require(permissions.can_update_benefit(by, benefit))
    next_version(benefit, expected_version)
    _fill_benefit(benefit, data)
    save_as(benefit, by)
    if benefit.benefit_class != BenefitClass.FREED_CAPACITY and benefit.ledger_entries.exists():
        raise ValidationError(
            {"benefit_class": _("Its freed capacity is already placed in the ledger.")}
        )
    return benefit


def _set_year(benefit: Benefit, data: YearInput, by: Any) -> BenefitYear:
    if not 2000 <= data.year <= 2100:
        raise ValidationError({"year": _("Give a year between 2000 and 2100.")})
    if (
        data.pessimistic is not None
        and data.optimistic is not None
        and data.pessimistic > data.optimistic
    ):
        raise ValidationError(
            {"optimistic": _("The optimistic value cannot be below the pessimistic one.")}
        )
    if data.realised is not None and benefit.indicator_id:
        raise ValidationError(
            {"realised": _("This benefit reads its realised values from its indicator.")}
        )
    if data.realised is not None and not data.realised_source.strip():
        raise ValidationError({"realised_source": _("Say where the realised value comes from.")})
    row = BenefitYear.objects.filter(benefit=benefit, year=data.year).first() or BenefitYear(
        benefit=benefit, year=data.year
    )
    row.expected = data.expected
    row.pessimistic = data.pessimistic
    row.optimistic = data.optimistic
    row.realised = data.realised
    row.realised_source = data.realised_source.strip() if data.realised is not None else ""
    save_as(row, by)
    return row


@transaction.atomic
def benefit_set_year(*, benefit: Benefit, by: Any, data: YearInput) -> BenefitYear:
    """Set a year's expected and realised values. Lowering realised freed capacity below what
    is already placed is refused: the ledger would not balance."""
    require(permissions.can_update_benefit(by, benefit))
    Benefit.objects.select_for_update().filter(pk=benefit.pk).first()
    row = _set_year(benefit, data, by)
    if benefit.benefit_class == BenefitClass.FREED_CAPACITY:
        from pejling.portfolio.selectors import placed_amount

        placed = placed_amount(benefit=benefit, year=data.year)
        if placed > (data.realised or Decimal(0)):
            raise ValidationError(
                {
                    "realised": _(
                        "%(placed)s is already placed from %(year)s; the realised value cannot "
                        "be lower."
                    )
                    % {"placed": placed, "year": data.year}
                }
            )
    return row


# The reinvestment ledger --------------------------------------------------------------------


@dataclass(frozen=True)
class PlacementInput:
    year: int
    placement: str
    amount: Decimal
    decided_on: date
    decided_by: str
    unit: Unit | None = None
    purpose: str = ""
    assignment: Assignment | None = None


@transaction.atomic
def capacity_place(*, benefit: Benefit, by: Any, data: PlacementInput) -> LedgerEntry:
    """Record where freed capacity went. The benefit's row is locked, so two people placing
    the same hours at once cannot place more than was freed: the second is refused."""
    from pejling.portfolio.selectors import unplaced_amount

    require(permissions.can_place_capacity(by, benefit))
    locked = Benefit.objects.select_for_update().get(pk=benefit.pk)
    if locked.benefit_class != BenefitClass.FREED_CAPACITY:
        raise ValidationError(_("Only freed capacity is reinvested or returned."))
    if data.placement not in Placement.values:
        raise ValidationError({"placement": _("Choose reinvested or returned to the budget.")})
    if data.amount is None or data.amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if data.placement == Placement.REINVESTED and data.unit is None:
        raise ValidationError({"unit": _("Choose the unit the capacity is reinvested in.")})
    if data.placement == Placement.REINVESTED and not (data.purpose.strip() or data.assignment):
        raise ValidationError({"purpose": _("Say what it is reinvested in.")})
    _required_text("decided_by", data.decided_by, _("Say who decided."))
    left = unplaced_amount(benefit=locked, year=data.year)
    if data.amount > left:
        raise ValidationError(
            {
                "amount": _("Only %(left)s %(measure)s freed in %(year)s is not yet placed.")
                % {"left": left, "measure": locked.get_measure_display(), "year": data.year}
            }
        )
    entry = LedgerEntry(
        benefit=locked,
        year=data.year,
        placement=data.placement,
        amount=data.amount,
        unit=data.unit if data.placement == Placement.REINVESTED else None,
        purpose=data.purpose.strip(),
        assignment=data.assignment if data.placement == Placement.REINVESTED else None,
        decided_on=data.decided_on,
        decided_by=data.decided_by.strip(),
        recorded_by=by,
    )
    entry.full_clean(exclude=["recorded_by"])
    save_as(entry, by)
    return entry
