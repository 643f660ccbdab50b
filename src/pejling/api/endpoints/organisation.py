"""Units (the organisation tree), people, and their roles (memberships)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from pejling.api.auth import principal
from pejling.api.errors import conflict, invalid, not_found
from pejling.api.pagination import paginate
from pejling.api.schemas import MAX_ID, NO_NUL, Code, Cursor, Limit, ShortText, Within, responses
from pejling.core.utils import person_name
from pejling.organisation import services
from pejling.organisation.models import Membership, Role, Unit

router = Router(tags=["organisation"])

UnitCode = Annotated[str, Path(max_length=50, pattern=NO_NUL)]


def unit_by_code(code: str) -> Unit:
    unit = Unit.objects.select_related("level").filter(code=code).first()
    if unit is None:
        raise not_found()
    return unit


def within_unit(code: str | None, field: str = "within") -> Unit | None:
    """The unit a ``within`` filter names (400 when there is none)."""
    if not code:
        return None
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise invalid(field, _("No unit has this code."))
    return unit


class UnitLevelOut(Schema):
    depth: int
    name: str
    name_plural: str


class UnitOut(Schema):
    code: str
    name: str
    level: UnitLevelOut
    depth: int
    parent: str | None = Field(description="The parent unit's code")
    description: str
    closed_on: date | None


class UnitDetailOut(UnitOut):
    ancestors: list[str] = Field(description="Codes from the root down to the parent")
    children: list[str]


class UnitPage(Schema):
    items: list[UnitOut]
    next: str | None


def _parent_codes(units: list[Unit]) -> dict[str, str]:
    paths = {u.path[: -u.steplen] for u in units if u.depth > 1}
    return dict(Unit.objects.filter(path__in=paths).values_list("path", "code"))


def unit_out(unit: Unit, parents: dict[str, str]) -> UnitOut:
    return UnitOut(
        code=unit.code,
        name=unit.name,
        level=UnitLevelOut(
            depth=unit.level.depth, name=unit.level.name, name_plural=unit.level.name_plural
        ),
        depth=unit.depth,
        parent=parents.get(unit.path[: -unit.steplen]) if unit.depth > 1 else None,
        description=unit.description,
        closed_on=unit.closed_on,
    )


@router.get(
    "/units",
    response=responses(UnitPage),
    summary="List units (oldest first; each names its parent)",
)
def list_units(
    request: HttpRequest, within: Within = None, cursor: Cursor = None, limit: Limit = 50
) -> UnitPage:
    principal(request)
    qs = Unit.objects.select_related("level")
    root = within_unit(within)
    if root is not None:
        qs = qs.filter(path__startswith=root.path)
    units, following = paginate(qs, keys=["pk"], cursor=cursor, limit=limit)
    parents = _parent_codes(units)
    return UnitPage(items=[unit_out(u, parents) for u in units], next=following)


@router.get("/units/{code}", response=responses(UnitDetailOut), summary="One unit")
def get_unit(request: HttpRequest, code: UnitCode) -> UnitDetailOut:
    principal(request)
    unit = unit_by_code(code)
    ancestors = list(
        Unit.objects.filter(path__in=unit.ancestor_paths())
        .order_by("depth")
        .values_list("code", flat=True)
    )
    children = list(
        Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1)
        .order_by("path")
        .values_list("code", flat=True)
    )
    base = unit_out(unit, _parent_codes([unit]))
    return UnitDetailOut(**base.model_dump(), ancestors=ancestors, children=children)


# People and memberships ------------------------------------------------------------------------


class MembershipOut(Schema):
    id: int
    person: str = Field(description="Username")
    unit: str = Field(description="Unit code")
    role: str
    title: str
    ends_on: date | None
    current: bool


class PersonOut(Schema):
    username: str
    first_name: str
    last_name: str
    name: str
    memberships: list[MembershipOut]


class PersonPage(Schema):
    items: list[PersonOut]
    next: str | None


class MembershipPage(Schema):
    items: list[MembershipOut]
    next: str | None


def membership_out(m: Membership) -> MembershipOut:
    return MembershipOut(
        id=m.pk,
        person=m.user.get_username(),
        unit=m.unit.code,
        role=m.role,
        title=m.title,
        ends_on=m.ends_on,
        current=m.is_current(),
    )


def _people(subtree: Unit | None) -> QuerySet:
    memberships = Membership.objects.select_related("user", "unit").order_by("unit__path", "role")
    qs = get_user_model().objects.filter(is_active=True)
    if subtree is not None:
        qs = qs.filter(memberships__unit__path__startswith=subtree.path).distinct()
    return qs.prefetch_related(Prefetch("memberships", queryset=memberships))


def person_out(user: Any) -> PersonOut:
    return PersonOut(
        username=user.get_username(),
        first_name=user.first_name,
        last_name=user.last_name,
        name=person_name(user),
        memberships=[membership_out(m) for m in user.memberships.all()],
    )


@router.get(
    "/people",
    response=responses(PersonPage),
    summary="List people (with a role within a unit's subtree)",
)
def list_people(
    request: HttpRequest, within: Within = None, cursor: Cursor = None, limit: Limit = 50
) -> PersonPage:
    principal(request)
    users, following = paginate(
        _people(within_unit(within)), keys=["username"], cursor=cursor, limit=limit
    )
    return PersonPage(items=[person_out(u) for u in users], next=following)


@router.get("/people/{username}", response=responses(PersonOut), summary="One person")
def get_person(
    request: HttpRequest, username: Annotated[str, Path(max_length=150, pattern=NO_NUL)]
) -> PersonOut:
    principal(request)
    user = _people(None).filter(username=username).first()
    if user is None:
        raise not_found()
    return person_out(user)


@router.get("/memberships", response=responses(MembershipPage), summary="List roles on units")
def list_memberships(
    request: HttpRequest,
    within: Within = None,
    person: Annotated[str | None, Query(None, max_length=150, pattern=NO_NUL)] = None,
    role: Role | None = None,
    current: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> MembershipPage:
    principal(request)
    qs = Membership.objects.select_related("user", "unit")
    subtree = within_unit(within)
    if subtree is not None:
        qs = qs.filter(unit__path__startswith=subtree.path)
    if person:
        qs = qs.filter(user__username=person)
    if role:
        qs = qs.filter(role=role)
    if current is not None:
        today = timezone.localdate()
        now = Q(ends_on__isnull=True) | Q(ends_on__gte=today)
        qs = qs.filter(now) if current else qs.exclude(now)
    rows, following = paginate(qs, keys=["pk"], cursor=cursor, limit=limit)
    return MembershipPage(items=[membership_out(m) for m in rows], next=following)


class MembershipIn(Schema):
    person: Annotated[str, Field(min_length=1, max_length=150, pattern=NO_NUL)]
    unit: Code
    role: Role
    title: ShortText = ""
    ends_on: date | None = None


@router.post(
    "/memberships",
    response=responses(MembershipOut, 201),
    summary="Give a person a role on a unit (strategy office)",
)
def create_membership(request: HttpRequest, data: MembershipIn) -> Status:
    who = principal(request)
    user = get_user_model().objects.filter(username=data.person).first()
    if user is None:
        raise invalid("person", _("No person has this username."))
    unit = within_unit(data.unit, field="unit")
    assert unit is not None
    if Membership.objects.filter(user=user, unit=unit, role=data.role).exists():
        message = _("%(person)s already has this role on %(unit)s.") % {
            "person": user.get_username(),
            "unit": unit.name,
        }
        raise conflict(message, {"role": [message]})
    membership = services.membership_create(
        by=who.user, user=user, unit=unit, role=data.role, title=data.title, ends_on=data.ends_on
    )
    membership = Membership.objects.select_related("user", "unit").get(pk=membership.pk)
    return Status(201, membership_out(membership))


class MembershipEndIn(Schema):
    ends_on: date | None = Field(None, description="The last day of the role; today if left out")


@router.post(
    "/memberships/{membership_id}/end",
    response=responses(MembershipOut),
    summary="End-date a role (strategy office)",
)
def end_membership(
    request: HttpRequest,
    membership_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    data: MembershipEndIn,
) -> MembershipOut:
    who = principal(request)
    membership = Membership.objects.select_related("user", "unit").filter(pk=membership_id).first()
    if membership is None:
        raise not_found()
    membership = services.membership_end(by=who.user, membership=membership, ends_on=data.ends_on)
    return membership_out(membership)
