"""The development portfolio: challenges and their journeys, decisions, assignments with their
stages and benefits, and the reinvestment ledger.

Every write calls ``portfolio/services.py``, which asks ``portfolio/permissions.py`` (the one
home of who may do what); reads ask it too. A decision on a challenge someone decided in the
meantime, or a write over a newer ``edit_version``, is refused with 409.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from pejling.api.auth import principal
from pejling.api.endpoints.organisation import within_unit
from pejling.api.errors import ApiError, conflict, invalid, not_found
from pejling.api.pagination import paginate, paginate_list
from pejling.api.schemas import (
    MAX_ID,
    NO_NUL,
    Code,
    Cursor,
    Limit,
    LongText,
    Name,
    ShortText,
    Title,
    Within,
    responses,
)
from pejling.indicators.models import Indicator
from pejling.portfolio import permissions, services
from pejling.portfolio.models import (
    Assignment,
    Benefit,
    BenefitClass,
    Challenge,
    ChallengeKind,
    ChallengeState,
    DecisionKind,
    LeadershipTeam,
    Measure,
    Meeting,
    Placement,
    Stage,
)
from pejling.portfolio.selectors import (
    assignment_list,
    benefits_of,
    challenge_list,
    ledger_balance,
    realised_values,
)
from pejling.strategy.models import Element

router = Router(tags=["portfolio"])

ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
Username = Annotated[str, StringConstraints(min_length=1, max_length=150, pattern=NO_NUL)]
GoalIds = list[Annotated[int, Field(ge=1, le=MAX_ID)]]
Amount = Annotated[Decimal, Field(max_digits=16, decimal_places=2)]
EditVersion = Annotated[
    int | None,
    Field(
        None,
        ge=1,
        le=2147483647,
        description="The edit_version you read; when the row has changed since, nothing is saved and the answer is 409",
    ),
]


def _readable(request: HttpRequest) -> Any:
    user = principal(request).user
    if not permissions.can_read_portfolio(user):
        raise ApiError(403, "forbidden", _("You do not have permission to do this."))
    return user


def _person(username: str | None, field: str) -> Any:
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise invalid(field, _("No person has this username."))
    return user


def _unit(code: str | None, field: str) -> Any:
    return within_unit(code, field=field)


def _goals(ids: list[int]) -> list[Element]:
    goals = list(Element.objects.filter(pk__in=ids))
    if len(goals) != len(set(ids)):
        raise invalid("goals", _("No goal has one of these ids."))
    return goals


# Challenges -------------------------------------------------------------------------------------


class StepOut(Schema):
    position: int
    actor: str
    action: str
    pain_point: str
    feeling: int
    opportunity: str


class DecisionOut(Schema):
    kind: str
    team: str
    decided_on: date
    decided_by: str
    rationale: str
    unit: str | None
    lead: str | None
    parked_until: date | None
    merged_into: int | None


class ChallengeOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    unit: str
    state: str
    goals: list[int]
    links: list[str]
    workshop: str | None
    supports: int
    edit_version: int


class ChallengeDetailOut(ChallengeOut):
    journey: list[StepOut]
    decisions: list[DecisionOut]
    assignment: int | None


class ChallengePage(Schema):
    items: list[ChallengeOut]
    next: str | None


def _challenge_out(c: Challenge) -> ChallengeOut:
    return ChallengeOut(
        id=c.pk,
        kind=c.kind,
        title=c.title,
        description=c.description,
        unit=c.unit.code,
        state=c.state,
        goals=[g.pk for g in c.goals.all()],
        links=c.link_list,
        workshop=c.workshop.title if c.workshop else None,
        supports=getattr(c, "support_count", None) or c.supports.count(),
        edit_version=c.version,
    )


def _challenge_detail(c: Challenge) -> ChallengeDetailOut:
    base = _challenge_out(c).dict()
    decisions = c.decisions.select_related("team", "decided_by", "unit", "lead").order_by(
        "decided_on", "pk"
    )
    assignment = Assignment.objects.filter(decision__challenge=c).values_list("pk", flat=True)
    return ChallengeDetailOut(
        **base,
        journey=[
            StepOut(
                position=s.position,
                actor=s.actor,
                action=s.action,
                pain_point=s.pain_point,
                feeling=s.feeling,
                opportunity=s.opportunity,
            )
            for s in c.journey_steps.order_by("position")
        ],
        decisions=[
            DecisionOut(
                kind=d.kind,
                team=d.team.name,
                decided_on=d.decided_on,
                decided_by=d.decided_by.get_username(),
                rationale=d.rationale,
                unit=d.unit.code if d.unit else None,
                lead=d.lead.get_username() if d.lead else None,
                parked_until=d.parked_until,
                merged_into=d.merged_into_id,
            )
            for d in decisions
        ],
        assignment=assignment.first(),
    )


def _challenge(pk: int) -> Challenge:
    challenge = Challenge.objects.select_related("unit", "workshop").filter(pk=pk).first()
    if challenge is None:
        raise not_found()
    return challenge


@router.get(
    "/portfolio/challenges",
    response=responses(ChallengePage),
    summary="List challenges and ideas",
)
def list_challenges(
    request: HttpRequest,
    state: ChallengeState | None = None,
    kind: ChallengeKind | None = None,
    within: Within = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ChallengePage:
    _readable(request)
    qs = challenge_list(kind=kind or "", state=state or "", unit=_unit(within, "within"))
    rows, following = paginate(qs, keys=["pk"], cursor=cursor, limit=limit)
    return ChallengePage(items=[_challenge_out(c) for c in rows], next=following)


class ChallengeIn(Schema):
    kind: ChallengeKind = ChallengeKind.CHALLENGE
    title: Title
    description: LongText = ""
    unit: Code
    goals: GoalIds = Field(default_factory=list, max_length=100)
    links: list[Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=20
    )


@router.post(
    "/portfolio/challenges",
    response=responses(ChallengeDetailOut, 201),
    summary="Submit a challenge or an idea",
)
def create_challenge(request: HttpRequest, data: ChallengeIn) -> Status:
    user = principal(request).user
    challenge = services.challenge_submit(
        by=user,
        data=services.ChallengeInput(
            kind=data.kind,
            title=data.title,
            description=data.description,
            unit=_unit(data.unit, "unit"),
            goals=_goals(data.goals),
            links="\n".join(data.links),
        ),
    )
    return Status(201, _challenge_detail(challenge))


@router.get(
    "/portfolio/challenges/{challenge_id}",
    response=responses(ChallengeDetailOut),
    summary="One challenge with its user journey and decisions",
)
def get_challenge(request: HttpRequest, challenge_id: ObjectId) -> ChallengeDetailOut:
    _readable(request)
    return _challenge_detail(_challenge(challenge_id))


@router.post(
    "/portfolio/challenges/{challenge_id}/support",
    response=responses(ChallengeDetailOut),
    summary="Support a challenge (once per person)",
)
def support_challenge(request: HttpRequest, challenge_id: ObjectId) -> ChallengeDetailOut:
    user = principal(request).user
    challenge = _challenge(challenge_id)
    services.challenge_support(challenge=challenge, by=user)
    return _challenge_detail(challenge)


class StepIn(Schema):
    actor: Name
    action: LongText = Field(min_length=1)
    pain_point: LongText = ""
    feeling: int = Field(ge=1, le=5)
    opportunity: LongText = ""


@router.post(
    "/portfolio/challenges/{challenge_id}/journey",
    response=responses(ChallengeDetailOut, 201),
    summary="Add a step at the end of a challenge's user journey",
)
def add_journey_step(request: HttpRequest, challenge_id: ObjectId, data: StepIn) -> Status:
    user = principal(request).user
    challenge = _challenge(challenge_id)
    services.journey_step_add(
        challenge=challenge,
        by=user,
        data=services.StepInput(
            actor=data.actor,
            action=data.action,
            pain_point=data.pain_point,
            feeling=data.feeling,
            opportunity=data.opportunity,
        ),
    )
    return Status(201, _challenge_detail(challenge))


# Teams and decisions ----------------------------------------------------------------------------


class TeamOut(Schema):
    id: int
    name: str
    chair: str
    members: list[str]


@router.get(
    "/portfolio/teams", response=responses(list[TeamOut]), summary="List the leadership teams"
)
def list_teams(request: HttpRequest) -> list[TeamOut]:
    _readable(request)
    teams = LeadershipTeam.objects.select_related("chair").prefetch_related("members")
    return [
        TeamOut(
            id=t.pk,
            name=t.name,
            chair=t.chair.get_username(),
            members=sorted(m.get_username() for m in t.members.all()),
        )
        for t in teams.order_by("name")
    ]


class DecisionIn(Schema):
    challenge: Annotated[int, Field(ge=1, le=MAX_ID)]
    kind: DecisionKind
    rationale: LongText = Field(min_length=1)
    edit_version: EditVersion = None
    unit: Code | None = Field(None, description="For assign: the unit that gets the assignment")
    lead: Username | None = Field(None, description="For assign: who leads it")
    parked_until: date | None = Field(None, description="For park")
    merged_into: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        None, description="For merge: the challenge it goes into"
    )
    goals: GoalIds = Field(default_factory=list, max_length=100)


class DecisionsIn(Schema):
    decided_on: date
    meeting: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    decisions: list[DecisionIn] = Field(min_length=1, max_length=100)


class DecisionsOut(Schema):
    challenges: list[ChallengeDetailOut]


@router.post(
    "/portfolio/teams/{team_id}/decisions",
    response=responses(DecisionsOut, 201),
    summary="Decide on several challenges in one pass, all or nothing",
)
def decide(request: HttpRequest, team_id: ObjectId, data: DecisionsIn) -> Status:
    user = principal(request).user
    team = LeadershipTeam.objects.filter(pk=team_id).first()
    if team is None:
        raise not_found()
    meeting = None
    if data.meeting is not None:
        meeting = Meeting.objects.filter(pk=data.meeting, team=team).first()
        if meeting is None:
            raise invalid("meeting", _("The team has no meeting with this id."))
    challenges = {
        c.pk: c for c in Challenge.objects.filter(pk__in=[d.challenge for d in data.decisions])
    }
    inputs = []
    for item in data.decisions:
        if item.challenge not in challenges:
            raise invalid("challenge", _("No challenge has this id."))
        merged = _challenge(item.merged_into) if item.merged_into else None
        inputs.append(
            services.DecisionInput(
                challenge=challenges[item.challenge],
                kind=item.kind,
                rationale=item.rationale,
                expected_version=item.edit_version,
                unit=_unit(item.unit, "unit") if item.unit else None,
                lead=_person(item.lead, "lead"),
                parked_until=item.parked_until,
                merged_into=merged,
                goals=_goals(item.goals),
            )
        )
    try:
        services.decide(
            team=team, by=user, decisions=inputs, decided_on=data.decided_on, meeting=meeting
        )
    except services.DecisionConflict as exc:
        raise conflict(exc.messages[0], {"challenge": [str(exc.challenge.pk)]}) from exc
    return Status(
        201,
        DecisionsOut(
            challenges=[_challenge_detail(_challenge(d.challenge)) for d in data.decisions]
        ),
    )


# Assignments ------------------------------------------------------------------------------------


class StageOut(Schema):
    stage: str
    started_on: date
    ended_on: date | None
    note: str
    tested_what: str
    tested_where: str
    learnt: str


class YearOut(Schema):
    year: int
    expected: Decimal | None
    pessimistic: Decimal | None
    optimistic: Decimal | None
    realised: Decimal | None
    realised_source: str


class BenefitOut(Schema):
    id: int
    description: str
    stakeholder: str
    benefit_class: str
    measure: str
    measure_label: str
    goal: int | None
    indicator: str | None
    owner: str | None
    baseline: Decimal | None
    years: list[YearOut]
    edit_version: int


class AssignmentOut(Schema):
    id: int
    title: str = Field(description="From the annual agreement's initiative when linked")
    origin: str
    issued_by: str
    unit: str
    lead: str | None
    year: int
    due_date: date | None
    stage: str
    stopped_reason: str
    goals: list[int]
    challenge: int | None
    initiative: int | None
    edit_version: int


class AssignmentDetailOut(AssignmentOut):
    description: str
    stages: list[StageOut]
    benefits: list[BenefitOut]


class AssignmentPage(Schema):
    items: list[AssignmentOut]
    next: str | None


def _assignment_out(a: Assignment) -> AssignmentOut:
    return AssignmentOut(
        id=a.pk,
        title=a.shown_title,
        origin=a.origin,
        issued_by=a.issued_by,
        unit=a.unit.code,
        lead=a.lead.get_username() if a.lead else None,
        year=a.year,
        due_date=a.due_date,
        stage=a.stage,
        stopped_reason=a.stopped_reason,
        goals=sorted(g.pk for g in a.shown_goals()),
        challenge=a.decision.challenge_id if a.decision else None,
        initiative=a.initiative_id,
        edit_version=a.version,
    )


def _benefit_out(b: Benefit, realised: dict[tuple[int, int], Any]) -> BenefitOut:
    rows = {r.year: r for r in b.years.all()}
    years = sorted(set(rows) | {y for (bid, y) in realised if bid == b.pk})
    return BenefitOut(
        id=b.pk,
        description=b.description,
        stakeholder=b.stakeholder,
        benefit_class=b.benefit_class,
        measure=b.measure,
        measure_label=b.measure_label,
        goal=b.goal_id,
        indicator=b.indicator.code if b.indicator else None,
        owner=b.owner.get_username() if b.owner else None,
        baseline=b.baseline,
        years=[
            YearOut(
                year=y,
                expected=rows[y].expected if y in rows else None,
                pessimistic=rows[y].pessimistic if y in rows else None,
                optimistic=rows[y].optimistic if y in rows else None,
                realised=realised[(b.pk, y)].value if (b.pk, y) in realised else None,
                realised_source=realised[(b.pk, y)].source if (b.pk, y) in realised else "",
            )
            for y in years
        ],
        edit_version=b.version,
    )


def _assignment(pk: int) -> Assignment:
    assignment = assignment_list().filter(pk=pk).first()
    if assignment is None:
        raise not_found()
    return assignment


def _assignment_detail(pk: int) -> AssignmentDetailOut:
    a = _assignment(pk)
    benefits = benefits_of(a)
    realised = realised_values(benefits)
    return AssignmentDetailOut(
        **_assignment_out(a).dict(),
        description=a.description,
        stages=[
            StageOut(
                stage=s.stage,
                started_on=s.started_on,
                ended_on=s.ended_on,
                note=s.note,
                tested_what=s.tested_what,
                tested_where=s.tested_where,
                learnt=s.learnt,
            )
            for s in a.stages.order_by("started_on", "pk")
        ],
        benefits=[_benefit_out(b, realised) for b in benefits],
    )


@router.get(
    "/portfolio/assignments",
    response=responses(AssignmentPage),
    summary="List assignments with their stage and lead",
)
def list_assignments(
    request: HttpRequest,
    stage: Stage | None = None,
    year: Annotated[int | None, Query(None, ge=1900, le=2200)] = None,
    within: Within = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> AssignmentPage:
    _readable(request)
    qs = assignment_list(unit=_unit(within, "within"), stage=stage or "", year=year)
    rows, following = paginate(qs, keys=["pk"], cursor=cursor, limit=limit)
    return AssignmentPage(items=[_assignment_out(a) for a in rows], next=following)


class TopDownIn(Schema):
    issued_by: Name = Field(description="The executive board or committee")
    title: Title
    description: LongText = ""
    unit: Code
    lead: Username | None = None
    goals: GoalIds = Field(default_factory=list, max_length=100)
    given_on: date
    due_date: date | None = None


@router.post(
    "/portfolio/assignments",
    response=responses(AssignmentDetailOut, 201),
    summary="Give a top-down assignment (executive board or committee)",
)
def give_assignment(request: HttpRequest, data: TopDownIn) -> Status:
    user = principal(request).user
    assignment = services.assignment_give(
        by=user,
        issued_by=data.issued_by,
        title=data.title,
        description=data.description,
        unit=_unit(data.unit, "unit"),
        lead=_person(data.lead, "lead"),
        goals=_goals(data.goals),
        given_on=data.given_on,
        due_date=data.due_date,
    )
    return Status(201, _assignment_detail(assignment.pk))


@router.get(
    "/portfolio/assignments/{assignment_id}",
    response=responses(AssignmentDetailOut),
    summary="One assignment with its stages and benefits",
)
def get_assignment(request: HttpRequest, assignment_id: ObjectId) -> AssignmentDetailOut:
    _readable(request)
    return _assignment_detail(assignment_id)


class AdvanceIn(Schema):
    to: Stage
    started_on: date
    previous_ended_on: date | None = None
    note: LongText = ""
    tested_what: LongText = ""
    tested_where: ShortText = ""
    learnt: LongText = ""
    edit_version: EditVersion = None


@router.post(
    "/portfolio/assignments/{assignment_id}/advance",
    response=responses(AssignmentDetailOut),
    summary="Move an assignment on to a later stage",
)
def advance_assignment(
    request: HttpRequest, assignment_id: ObjectId, data: AdvanceIn
) -> AssignmentDetailOut:
    user = principal(request).user
    assignment = _assignment(assignment_id)
    services.assignment_advance(
        assignment=assignment,
        by=user,
        to=data.to,
        previous_ended_on=data.previous_ended_on,
        expected_version=data.edit_version,
        data=services.StageInput(
            started_on=data.started_on,
            note=data.note,
            tested_what=data.tested_what,
            tested_where=data.tested_where,
            learnt=data.learnt,
        ),
    )
    return _assignment_detail(assignment_id)


class YearIn(Schema):
    year: Annotated[int, Field(ge=2000, le=2100)]
    expected: Amount | None = None
    pessimistic: Amount | None = None
    optimistic: Amount | None = None
    realised: Amount | None = None
    realised_source: ShortText = ""


class BenefitIn(Schema):
    description: Title
    stakeholder: Name
    benefit_class: BenefitClass
    measure: Measure
    measure_label: Annotated[str, StringConstraints(max_length=50, pattern=NO_NUL)] = ""
    goal: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    indicator: Code | None = None
    owner: Username | None = None
    baseline: Amount | None = None
    years: list[YearIn] = Field(default_factory=list, max_length=50)


@router.post(
    "/portfolio/assignments/{assignment_id}/benefits",
    response=responses(AssignmentDetailOut, 201),
    summary="Add an expected benefit, with its values per year",
)
def create_benefit(request: HttpRequest, assignment_id: ObjectId, data: BenefitIn) -> Status:
    user = principal(request).user
    assignment = _assignment(assignment_id)
    indicator = None
    if data.indicator:
        indicator = Indicator.objects.filter(code=data.indicator).first()
        if indicator is None:
            raise invalid("indicator", _("No indicator has this code."))
    goal = _goals([data.goal])[0] if data.goal else None
    services.benefit_create(
        assignment=assignment,
        by=user,
        data=services.BenefitInput(
            description=data.description,
            stakeholder=data.stakeholder,
            benefit_class=data.benefit_class,
            measure=data.measure,
            measure_label=data.measure_label,
            goal=goal,
            indicator=indicator,
            owner=_person(data.owner, "owner"),
            baseline=data.baseline,
        ),
        years=[
            services.YearInput(
                year=y.year,
                expected=y.expected,
                pessimistic=y.pessimistic,
                optimistic=y.optimistic,
                realised=y.realised,
                realised_source=y.realised_source,
            )
            for y in data.years
        ],
    )
    return Status(201, _assignment_detail(assignment_id))


# The reinvestment ledger ------------------------------------------------------------------------


class PlacementIn(Schema):
    year: Annotated[int, Field(ge=2000, le=2100)]
    placement: Placement
    amount: Amount = Field(gt=0)
    unit: Code | None = Field(None, description="For reinvested: the unit it goes to")
    purpose: ShortText = ""
    assignment: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    decided_on: date
    decided_by: Name


class BalanceOut(Schema):
    year: int
    unit: str | None
    measure: str
    freed: Decimal
    reinvested: Decimal
    returned: Decimal
    unplaced: Decimal


class LedgerPage(Schema):
    items: list[BalanceOut]
    next: str | None


def _cents(value: Decimal) -> Decimal:
    """Amounts with two decimals on every database (SQLite sums drop the trailing zeros)."""
    return value.quantize(Decimal("0.01"))


def _balance_out(rows: list[Any]) -> list[BalanceOut]:
    return [
        BalanceOut(
            year=r.year,
            unit=r.unit.code if r.unit else None,
            measure=r.measure,
            freed=_cents(r.freed),
            reinvested=_cents(r.reinvested),
            returned=_cents(r.returned),
            unplaced=_cents(r.unplaced),
        )
        for r in rows
    ]


@router.post(
    "/portfolio/benefits/{benefit_id}/placements",
    response=responses(list[BalanceOut], 201),
    summary="Record where freed capacity went (reinvested or returned to the budget)",
)
def place_capacity(request: HttpRequest, benefit_id: ObjectId, data: PlacementIn) -> Status:
    user = principal(request).user
    benefit = Benefit.objects.select_related("assignment__unit").filter(pk=benefit_id).first()
    if benefit is None:
        raise not_found()
    target = None
    if data.assignment is not None:
        target = Assignment.objects.filter(pk=data.assignment).first()
        if target is None:
            raise invalid("assignment", _("No assignment has this id."))
    services.capacity_place(
        benefit=benefit,
        by=user,
        data=services.PlacementInput(
            year=data.year,
            placement=data.placement,
            amount=data.amount,
            unit=_unit(data.unit, "unit") if data.unit else None,
            purpose=data.purpose,
            assignment=target,
            decided_on=data.decided_on,
            decided_by=data.decided_by,
        ),
    )
    return Status(201, _balance_out(ledger_balance(within=benefit.assignment.unit, year=data.year)))


@router.get(
    "/portfolio/ledger",
    response=responses(LedgerPage),
    summary="Freed capacity: freed = reinvested + returned + not yet placed, per year and unit",
)
def get_ledger(
    request: HttpRequest,
    within: Within = None,
    year: Annotated[int | None, Query(None, ge=1900, le=2200)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> LedgerPage:
    _readable(request)
    rows = ledger_balance(within=_unit(within, "within"), year=year)
    page, following = paginate_list(_balance_out(rows), cursor=cursor, limit=limit)
    return LedgerPage(items=page, next=following)
