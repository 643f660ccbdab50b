"""Annual agreements, their initiatives and goal links, and the workflow steps.

Reads never leak drafts: the list is ``agreements_readable_by(user)`` and the detail is
``readable_agreement(user, agreement)`` (the live agreement, or the last published version
during a revision). Every write calls ``agreements/services.py``, which checks permissions.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from pejling.agreements import services, workflow
from pejling.agreements.models import Agreement, AgreementState, Initiative, InitiativeStatus
from pejling.agreements.selectors import AgreementView, agreements_readable_by, readable_agreement
from pejling.api.auth import principal
from pejling.api.endpoints.organisation import within_unit
from pejling.api.errors import ApiError, conflict, invalid, not_found
from pejling.api.pagination import paginate
from pejling.api.schemas import (
    MAX_ID,
    NO_NUL,
    Code,
    Cursor,
    Limit,
    LongText,
    Title,
    Within,
    Year,
    responses,
)
from pejling.organisation import permissions
from pejling.organisation.models import Unit
from pejling.strategy.models import Element
from pejling.strategy.selectors import readable_elements

router = Router(tags=["agreements"])

UnitCode = Annotated[str, Path(max_length=50, pattern=NO_NUL)]
YearPath = Annotated[int, Path(ge=1900, le=2200)]
InitiativeId = Annotated[int, Path(ge=1, le=MAX_ID)]


class AgreementOut(Schema):
    unit: str
    unit_name: str
    year: int
    state: str
    updated_at: datetime
    submitted_at: datetime | None
    agreed_at: datetime | None
    published_at: datetime | None


class AgreementPage(Schema):
    items: list[AgreementOut]
    next: str | None


class GoalRef(Schema):
    id: int
    code: str
    title: str
    strategy: str


class InitiativeOut(Schema):
    id: int | None = Field(description="None in a published version (read during a revision)")
    title: str
    description: str
    owner: str = Field(description="The owner's name")
    owner_username: str | None
    start_date: date | None
    end_date: date | None
    status: str
    goals: list[GoalRef]
    edit_version: int | None = Field(
        None,
        description="The version of the row now; send it back as edit_version when changing it, to be refused (409 edit_conflict) if someone saved in between",
    )


class JustificationOut(Schema):
    rule: int
    rule_name: str
    text: str


class AgreementDetailOut(Schema):
    unit: str
    unit_name: str
    year: int
    state: str = Field(description="The state of what is shown (a published version: published)")
    live: bool = Field(description="False: the last published version, during a revision")
    version: int | None
    edit_version: int | None = Field(
        None,
        description="The version of the row now; send it back as edit_version when changing it, to be refused (409 edit_conflict) if someone saved in between",
    )
    summary: str
    initiatives: list[InitiativeOut]
    justifications: list[JustificationOut]
    steps: list[str] = Field(
        default_factory=list,
        description="The workflow steps you may take now (submit, agree, return, publish, revise); POST to …/{step}",
    )
    four_eyes: str | None = Field(
        None,
        description="Why you may not agree this version although you may agree others: you submitted it (four-eyes principle)",
    )


def agreement_out(a: Agreement) -> AgreementOut:
    return AgreementOut(
        unit=a.unit.code,
        unit_name=a.unit.name,
        year=a.year,
        state=a.state,
        updated_at=a.updated_at,
        submitted_at=a.submitted_at,
        agreed_at=a.agreed_at,
        published_at=a.published_at,
    )


def detail_out(view: AgreementView, user: Any = None) -> AgreementDetailOut:
    agreement = view.agreement
    steps = [s.name for s in workflow.available_steps(user, agreement)] if view.live else []
    usernames: dict[int, str | None] = {}
    justifications: list[JustificationOut] = []
    if view.live:
        usernames = dict(
            Initiative.objects.filter(agreement=agreement).values_list("pk", "owner__username")
        )
        justifications = [
            JustificationOut(rule=j.rule_id, rule_name=j.rule.name, text=j.text)
            for j in agreement.rule_justifications.select_related("rule").order_by("rule_id")
        ]
    return AgreementDetailOut(
        unit=agreement.unit.code,
        unit_name=agreement.unit.name,
        year=agreement.year,
        state=agreement.state if view.live else AgreementState.PUBLISHED,
        live=view.live,
        version=view.version.number if view.version else None,
        edit_version=agreement.version if view.live else None,
        summary=view.summary,
        initiatives=[
            InitiativeOut(
                id=i.pk,
                title=i.title,
                description=i.description,
                owner=i.owner,
                owner_username=usernames.get(i.pk) if i.pk else None,
                start_date=i.start_date,
                end_date=i.end_date,
                status=i.status,
                edit_version=i.edit_version,
                goals=[
                    GoalRef(id=g.pk, code=g.code, title=g.title, strategy=g.strategy.code)
                    for g in i.goals
                ],
            )
            for i in view.initiatives
        ],
        justifications=justifications,
        steps=steps,
        four_eyes=workflow.four_eyes_refusal(user, agreement) if "return" in steps else None,
    )


def readable(user: Any, unit_code: str, year: int) -> tuple[Agreement, AgreementView]:
    """The agreement and what ``user`` may read of it; 404 when they may read nothing."""
    agreement = (
        Agreement.objects.select_related("unit", "unit__level", "agreed_by")
        .filter(unit__code=unit_code, year=year)
        .first()
    )
    view = readable_agreement(user, agreement) if agreement else None
    if agreement is None or view is None:
        raise not_found()
    return agreement, view


def _detail(user: Any, agreement: Agreement) -> AgreementDetailOut:
    agreement = Agreement.objects.select_related("unit").get(pk=agreement.pk)
    view = readable_agreement(user, agreement)
    assert view is not None
    return detail_out(view, user)


@router.get(
    "/agreements",
    response=responses(AgreementPage),
    summary="List the annual agreements you may see",
)
def list_agreements(
    request: HttpRequest,
    year: Annotated[int | None, Query(None, ge=1900, le=2200)] = None,
    state: AgreementState | None = None,
    within: Within = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> AgreementPage:
    qs = agreements_readable_by(principal(request).user).select_related("unit")
    if year is not None:
        qs = qs.filter(year=year)
    if state:
        qs = qs.filter(state=state)
    subtree = within_unit(within)
    if subtree is not None:
        qs = qs.filter(unit__path__startswith=subtree.path)
    rows, following = paginate(qs, keys=["year", "pk"], cursor=cursor, limit=limit)
    return AgreementPage(items=[agreement_out(a) for a in rows], next=following)


@router.get(
    "/agreements/{unit}/{year}",
    response=responses(AgreementDetailOut),
    summary="One annual agreement with its initiatives and goal links",
)
def get_agreement(request: HttpRequest, unit: UnitCode, year: YearPath) -> AgreementDetailOut:
    user = principal(request).user
    _agreement, view = readable(user, unit, year)
    return detail_out(view, user)


class AgreementIn(Schema):
    unit: Code
    year: Year
    summary: LongText = ""


class AgreementPatch(Schema):
    summary: LongText
    edit_version: int = Field(
        ge=1,
        le=2147483647,
        description="Required: the edit_version you read; when the row has changed since, nothing is saved and the answer is 409 edit_conflict with what the other person changed",
    )


@router.post(
    "/agreements",
    response=responses(AgreementDetailOut, 201),
    summary="Start a unit's agreement for a year",
)
def create_agreement(request: HttpRequest, data: AgreementIn) -> Status:
    user = principal(request).user
    unit = within_unit(data.unit, field="unit")
    assert unit is not None
    if not permissions.can_write_agreement(user, unit):
        raise ApiError(403, "forbidden", _("You do not have permission to do this."))
    if Agreement.objects.filter(unit=unit, year=data.year).exists():
        raise conflict(
            _("%(unit)s already has an agreement for %(year)s.")
            % {"unit": unit, "year": data.year},
            {"year": [str(data.year)]},
        )
    agreement = services.agreement_create(unit=unit, year=data.year, by=user, summary=data.summary)
    return Status(201, _detail(user, agreement))


def _require_draft(agreement: Agreement) -> None:
    if agreement.state != AgreementState.DRAFT:
        raise conflict(
            _("The agreement is %(state)s and cannot be changed. Start a revision first.")
            % {"state": agreement.get_state_display().lower()}
        )


def _writable(user: Any, unit_code: str, year: int) -> Agreement:
    agreement, _view = readable(user, unit_code, year)
    if not permissions.can_write_agreement(user, agreement.unit):
        raise ApiError(403, "forbidden", _("You do not have permission to do this."))
    _require_draft(agreement)
    return agreement


@router.patch(
    "/agreements/{unit}/{year}",
    response=responses(AgreementDetailOut),
    summary="Change a draft agreement's summary",
)
def update_agreement(
    request: HttpRequest, unit: UnitCode, year: YearPath, data: AgreementPatch
) -> AgreementDetailOut:
    user = principal(request).user
    agreement = _writable(user, unit, year)
    services.agreement_update(
        agreement=agreement, by=user, summary=data.summary, expected_version=data.edit_version
    )
    return _detail(user, agreement)


# Initiatives -----------------------------------------------------------------------------------


class InitiativeIn(Schema):
    title: Title
    description: LongText = ""
    owner: Annotated[str, StringConstraints(max_length=150, pattern=NO_NUL)] | None = Field(
        None, description="Username of a person with a role in the unit's subtree"
    )
    start_date: date | None = None
    end_date: date | None = None
    status: InitiativeStatus = InitiativeStatus.PLANNED
    goals: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=100, description="Ids of the goals the initiative serves"
    )


class InitiativeUpdate(InitiativeIn):
    edit_version: int = Field(
        ge=1,
        le=2147483647,
        description="Required: the edit_version you read; when the row has changed since, nothing is saved and the answer is 409 edit_conflict with what the other person changed",
    )


def _owner(unit: Unit, username: str | None) -> Any:
    if not username:
        return None
    owner = (
        get_user_model()
        .objects.filter(username=username, memberships__unit__path__startswith=unit.path)
        .distinct()
        .first()
    )
    if owner is None:
        raise invalid("owner", _("No person with this username has a role in the unit."))
    return owner


def _goals(user: Any, ids: list[int]) -> list[Element]:
    """The elements, if ``user`` may read each (``readable_elements``); the same 400 for an id
    that does not exist and for one they may not read. The service checks that each is a goal
    of a strategy in force."""
    goals = list(readable_elements(user).filter(pk__in=ids).select_related("strategy", "level"))
    if len(goals) != len(set(ids)):
        raise invalid("goals", _("No goal has one of these ids."))
    return goals


def _fields(user: Any, unit: Unit, data: InitiativeIn) -> dict[str, Any]:
    return {
        "title": data.title,
        "description": data.description,
        "owner": _owner(unit, data.owner),
        "start_date": data.start_date,
        "end_date": data.end_date,
        "status": data.status,
        "goals": _goals(user, data.goals),
    }


@router.post(
    "/agreements/{unit}/{year}/initiatives",
    response=responses(AgreementDetailOut, 201),
    summary="Add an initiative to a draft agreement",
)
def create_initiative(
    request: HttpRequest, unit: UnitCode, year: YearPath, data: InitiativeIn
) -> Status:
    user = principal(request).user
    agreement = _writable(user, unit, year)
    services.initiative_create(agreement=agreement, by=user, **_fields(user, agreement.unit, data))
    return Status(201, _detail(user, agreement))


def _initiative(agreement: Agreement, pk: int) -> Initiative:
    initiative = (
        Initiative.objects.select_related("agreement__unit")
        .filter(agreement=agreement, pk=pk)
        .first()
    )
    if initiative is None:
        raise not_found()
    return initiative


@router.put(
    "/agreements/{unit}/{year}/initiatives/{initiative_id}",
    response=responses(AgreementDetailOut),
    summary="Change an initiative of a draft agreement",
)
def update_initiative(
    request: HttpRequest,
    unit: UnitCode,
    year: YearPath,
    initiative_id: InitiativeId,
    data: InitiativeUpdate,
) -> AgreementDetailOut:
    user = principal(request).user
    agreement = _writable(user, unit, year)
    initiative = _initiative(agreement, initiative_id)
    services.initiative_update(
        initiative=initiative,
        by=user,
        expected_version=data.edit_version,
        **_fields(user, agreement.unit, data),
    )
    return _detail(user, agreement)


@router.delete(
    "/agreements/{unit}/{year}/initiatives/{initiative_id}",
    response=responses(None, 204),
    summary="Remove an initiative from a draft agreement",
)
def delete_initiative(
    request: HttpRequest, unit: UnitCode, year: YearPath, initiative_id: InitiativeId
) -> Status:
    user = principal(request).user
    agreement = _writable(user, unit, year)
    services.initiative_delete(initiative=_initiative(agreement, initiative_id), by=user)
    return Status(204, None)


# Workflow --------------------------------------------------------------------------------------


def _take(user: Any, unit_code: str, year: int, step: str, **extra: Any) -> AgreementDetailOut:
    """Take ``step`` (one of ``workflow.STEPS``) through its service, which checks it on the
    locked row: 403 (not yours to take, or four-eyes), 409 (the state does not allow it now,
    typically someone else's step came first)."""
    agreement, _view = readable(user, unit_code, year)
    services.run_step(step, agreement=agreement, by=user, **extra)
    return _detail(user, agreement)


class SubmitIn(Schema):
    justifications: dict[
        str, Annotated[str, StringConstraints(max_length=5000, pattern=NO_NUL)]
    ] = Field(
        default_factory=dict,
        description='Why a broken rule is acceptable, by rule id: {"12": "..."}',
    )


class ReturnIn(Schema):
    comment: Annotated[str, StringConstraints(min_length=1, max_length=5000, pattern=NO_NUL)]


@router.post(
    "/agreements/{unit}/{year}/submit",
    response=responses(AgreementDetailOut),
    summary="Submit a draft for agreement (unit head)",
    description="A broken agreement rule needs a justification (by rule id) to submit anyway.",
)
def submit(
    request: HttpRequest, unit: UnitCode, year: YearPath, data: SubmitIn
) -> AgreementDetailOut:
    justifications: dict[int, str] = {}
    for key, text in data.justifications.items():
        if not key.isdigit() or len(key) > 18:
            raise invalid("justifications", _("Justifications are keyed by rule id."))
        justifications[int(key)] = text
    return _take(principal(request).user, unit, year, "submit", justifications=justifications)


@router.post(
    "/agreements/{unit}/{year}/agree",
    response=responses(AgreementDetailOut),
    summary="Agree a submitted agreement (head above, or the executive)",
)
def agree(request: HttpRequest, unit: UnitCode, year: YearPath) -> AgreementDetailOut:
    return _take(principal(request).user, unit, year, "agree")


@router.post(
    "/agreements/{unit}/{year}/publish",
    response=responses(AgreementDetailOut),
    summary="Publish an agreed agreement to every employee",
)
def publish(request: HttpRequest, unit: UnitCode, year: YearPath) -> AgreementDetailOut:
    return _take(principal(request).user, unit, year, "publish")


@router.post(
    "/agreements/{unit}/{year}/return",
    response=responses(AgreementDetailOut),
    summary="Send a submitted agreement back to the unit with a comment",
)
def return_(
    request: HttpRequest, unit: UnitCode, year: YearPath, data: ReturnIn
) -> AgreementDetailOut:
    return _take(principal(request).user, unit, year, "return", comment=data.comment)


@router.post(
    "/agreements/{unit}/{year}/revise",
    response=responses(AgreementDetailOut),
    summary="Open an agreed or published agreement for changes",
)
def revise(request: HttpRequest, unit: UnitCode, year: YearPath) -> AgreementDetailOut:
    return _take(principal(request).user, unit, year, "revise")
