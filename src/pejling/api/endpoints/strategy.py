"""Strategies, their named levels, their elements (themes, goals...) and agreement rules.

Drafts are visible to the strategy office only, as on the pages; every write goes through
``strategy/services.py`` (which checks that the caller is the strategy office).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from pejling.api.auth import principal
from pejling.api.errors import conflict, invalid, not_found
from pejling.api.pagination import paginate
from pejling.api.schemas import (
    MAX_ID,
    NO_NUL,
    Cursor,
    Limit,
    LongText,
    Name,
    ShortText,
    Title,
    Year,
    responses,
)
from pejling.organisation.models import UnitLevel
from pejling.strategy import services
from pejling.strategy.models import (
    AgreementRule,
    Element,
    MeasureKind,
    RuleKind,
    Strategy,
    StrategyLevel,
    StrategyStatus,
)
from pejling.strategy.selectors import readable_strategies

router = Router(tags=["strategy"])

StrategyCode = Annotated[str, Path(max_length=50, pattern=NO_NUL)]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[-a-zA-Z0-9_]+$")]
SmallInt = Annotated[int, Field(ge=0, le=32767)]
Decimal14 = Annotated[Decimal, Field(max_digits=14, decimal_places=4)]
ElementId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _visible(user: Any) -> QuerySet[Strategy]:
    return readable_strategies(user)


def strategy_by_code(user: Any, code: str) -> Strategy:
    strategy = _visible(user).filter(code=code).first()
    if strategy is None:
        raise not_found()
    return strategy


class StrategyLevelOut(Schema):
    depth: int
    name: str
    name_plural: str
    holds_goals: bool


class StrategyOut(Schema):
    code: str
    title: str
    summary: str
    start_year: int
    end_year: int
    parent: str | None = Field(description="Code of the strategy this one serves")
    status: str
    position: int
    edit_version: int = Field(
        1,
        description="The version of the row now; send it back as edit_version when changing it, to be refused (409 edit_conflict) if someone saved in between",
    )


class StrategyDetailOut(StrategyOut):
    body: str
    levels: list[StrategyLevelOut]
    children: list[str] = Field(description="Codes of the strategies that serve this one")


class StrategyPage(Schema):
    items: list[StrategyOut]
    next: str | None


def strategy_out(s: Strategy) -> StrategyOut:
    return StrategyOut(
        code=s.code,
        title=s.title,
        summary=s.summary,
        start_year=s.start_year,
        end_year=s.end_year,
        parent=s.parent.code if s.parent else None,
        status=s.status,
        position=s.position,
        edit_version=s.version,
    )


def strategy_detail_out(user: Any, s: Strategy) -> StrategyDetailOut:
    children = _visible(user).filter(parent=s).order_by("position", "code")
    return StrategyDetailOut(
        **strategy_out(s).model_dump(),
        body=s.body,
        levels=[
            StrategyLevelOut(
                depth=lv.depth, name=lv.name, name_plural=lv.name_plural, holds_goals=lv.holds_goals
            )
            for lv in s.levels.order_by("depth")
        ],
        children=[c.code for c in children],
    )


@router.get("/strategies", response=responses(StrategyPage), summary="List strategies")
def list_strategies(
    request: HttpRequest,
    year: Annotated[
        int | None, Query(None, ge=1900, le=2200, description="In force this year")
    ] = None,
    status: StrategyStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> StrategyPage:
    qs = _visible(principal(request).user)
    if year is not None:
        qs = qs.filter(start_year__lte=year, end_year__gte=year)
    if status:
        qs = qs.filter(status=status)
    rows, following = paginate(qs, keys=["pk"], cursor=cursor, limit=limit)
    return StrategyPage(items=[strategy_out(s) for s in rows], next=following)


@router.get("/strategies/{code}", response=responses(StrategyDetailOut), summary="One strategy")
def get_strategy(request: HttpRequest, code: StrategyCode) -> StrategyDetailOut:
    user = principal(request).user
    return strategy_detail_out(user, strategy_by_code(user, code))


class StrategyIn(Schema):
    code: Slug
    title: Name
    summary: LongText = ""
    body: LongText = ""
    start_year: Year
    end_year: Year
    parent: Slug | None = Field(None, description="Code of the strategy this one serves")
    status: StrategyStatus = StrategyStatus.DRAFT
    position: SmallInt = 0


class StrategyPatch(Schema):
    title: Name | None = None
    summary: LongText | None = None
    body: LongText | None = None
    start_year: Year | None = None
    end_year: Year | None = None
    parent: Slug | None = None
    status: StrategyStatus | None = None
    position: SmallInt | None = None
    edit_version: int = Field(
        ge=1,
        le=2147483647,
        description="Required: the edit_version you read; when the row has changed since, nothing is saved and the answer is 409 edit_conflict with what the other person changed",
    )


def _parent(user: Any, code: str | None) -> Strategy | None:
    if not code:
        return None
    parent = _visible(user).filter(code=code).first()
    if parent is None:
        raise invalid("parent", _("No strategy has this code."))
    return parent


@router.post(
    "/strategies",
    response=responses(StrategyDetailOut, 201),
    summary="Create a strategy (strategy office)",
)
def create_strategy(request: HttpRequest, data: StrategyIn) -> Status:
    user = principal(request).user
    if Strategy.objects.filter(code=data.code).exists():
        raise conflict(_("A strategy with this code already exists."), {"code": [data.code]})
    strategy = Strategy(
        code=data.code,
        title=data.title,
        summary=data.summary,
        body=data.body,
        start_year=data.start_year,
        end_year=data.end_year,
        parent=_parent(user, data.parent),
        status=data.status,
        position=data.position,
    )
    services.strategy_save(strategy=strategy, by=user)
    return Status(201, strategy_detail_out(user, strategy))


@router.patch(
    "/strategies/{code}",
    response=responses(StrategyDetailOut),
    summary="Change a strategy (strategy office; only the fields sent)",
)
def update_strategy(
    request: HttpRequest, code: StrategyCode, data: StrategyPatch
) -> StrategyDetailOut:
    user = principal(request).user
    strategy = strategy_by_code(user, code)
    changes = data.model_dump(exclude_unset=True)
    expected_version = changes.pop("edit_version")
    for field, value in changes.items():
        if field == "parent":
            strategy.parent = _parent(user, value)
        elif value is not None:
            setattr(strategy, field, value)
    services.strategy_save(strategy=strategy, by=user, expected_version=expected_version)
    return strategy_detail_out(user, strategy)


class StrategyLevelIn(Schema):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_NUL)]
    name_plural: Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)] = ""
    holds_goals: bool = False


@router.put(
    "/strategies/{code}/levels",
    response=responses(list[StrategyLevelOut]),
    summary="Set a strategy's level names, top first (strategy office)",
)
def set_levels(
    request: HttpRequest, code: StrategyCode, data: list[StrategyLevelIn]
) -> list[StrategyLevelOut]:
    user = principal(request).user
    strategy = strategy_by_code(user, code)
    levels = services.strategy_levels_set(
        strategy=strategy,
        by=user,
        levels=[(lv.name, lv.name_plural, lv.holds_goals) for lv in data],
    )
    return [
        StrategyLevelOut(
            depth=lv.depth, name=lv.name, name_plural=lv.name_plural, holds_goals=lv.holds_goals
        )
        for lv in levels
    ]


# Elements --------------------------------------------------------------------------------------


class ElementOut(Schema):
    id: int
    strategy: str
    parent: int | None
    level: int = Field(description="Depth of the element's level")
    level_name: str
    is_goal: bool
    code: str
    title: str
    description: str
    position: int
    measure_kind: str
    target_text: str
    measure_unit: str
    baseline_value: float | None
    baseline_date: date | None
    target_value: float | None
    target_date: date | None
    source: str
    references: list[int]
    edit_version: int = Field(
        1,
        description="The version of the row now; send it back as edit_version when changing it, to be refused (409 edit_conflict) if someone saved in between",
    )


class ElementPage(Schema):
    items: list[ElementOut]
    next: str | None


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def element_out(e: Element) -> ElementOut:
    return ElementOut(
        id=e.pk,
        strategy=e.strategy.code,
        parent=e.parent_id,
        level=e.level.depth,
        level_name=e.level.name,
        is_goal=e.level.holds_goals,
        code=e.code,
        title=e.title,
        description=e.description,
        position=e.position,
        measure_kind=e.measure_kind,
        target_text=e.target_text,
        measure_unit=e.measure_unit,
        baseline_value=_f(e.baseline_value),
        baseline_date=e.baseline_date,
        target_value=_f(e.target_value),
        target_date=e.target_date,
        source=e.source,
        references=[r.pk for r in e.references.all()],
        edit_version=e.version,
    )


def _elements() -> QuerySet[Element]:
    return Element.objects.select_related("strategy", "level").prefetch_related("references")


def element_by_id(user: Any, pk: int) -> Element:
    element = _elements().filter(pk=pk, strategy__in=_visible(user)).first()
    if element is None:
        raise not_found()
    return element


@router.get(
    "/strategies/{code}/elements",
    response=responses(ElementPage),
    summary="List a strategy's elements",
)
def list_elements(
    request: HttpRequest,
    code: StrategyCode,
    goals_only: bool = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ElementPage:
    strategy = strategy_by_code(principal(request).user, code)
    qs = _elements().filter(strategy=strategy)
    if goals_only:
        qs = qs.filter(level__holds_goals=True)
    rows, following = paginate(qs, keys=["pk"], cursor=cursor, limit=limit)
    return ElementPage(items=[element_out(e) for e in rows], next=following)


@router.get("/elements/{element_id}", response=responses(ElementOut), summary="One element")
def get_element(request: HttpRequest, element_id: ElementId) -> ElementOut:
    return element_out(element_by_id(principal(request).user, element_id))


class ElementFields(Schema):
    title: Title
    description: LongText = ""
    position: SmallInt = 0
    measure_kind: MeasureKind = MeasureKind.NONE
    target_text: ShortText = ""
    measure_unit: Annotated[str, StringConstraints(max_length=50, pattern=NO_NUL)] = ""
    baseline_value: Decimal14 | None = None
    baseline_date: date | None = None
    target_value: Decimal14 | None = None
    target_date: date | None = None
    source: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)] = ""
    references: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, description="Ids of elements of other strategies"
    )


class ElementIn(ElementFields):
    code: Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=NO_NUL)]
    parent: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        None, description="Id of the parent element; none for the top level"
    )


class ElementUpdate(ElementFields):
    code: Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=NO_NUL)]
    edit_version: int = Field(
        ge=1,
        le=2147483647,
        description="Required: the edit_version you read; when the row has changed since, nothing is saved and the answer is 409 edit_conflict with what the other person changed",
    )


def _references(user: Any, ids: list[int]) -> list[Element]:
    found = list(Element.objects.filter(pk__in=ids, strategy__in=_visible(user)))
    if len(found) != len(set(ids)):
        raise invalid("references", _("No element has one of these ids."))
    return found


def _apply(element: Element, data: ElementFields) -> None:
    for field in ElementFields.model_fields:
        if field != "references":
            setattr(element, field, getattr(data, field))


@router.post(
    "/strategies/{code}/elements",
    response=responses(ElementOut, 201),
    summary="Add an element (strategy office)",
)
def create_element(request: HttpRequest, code: StrategyCode, data: ElementIn) -> Status:
    user = principal(request).user
    strategy = strategy_by_code(user, code)
    parent = None
    if data.parent is not None:
        parent = (
            Element.objects.select_related("level")
            .filter(pk=data.parent, strategy=strategy)
            .first()
        )
        if parent is None:
            raise invalid("parent", _("The strategy has no element with this id."))
    depth = parent.level.depth + 1 if parent else 1
    level = StrategyLevel.objects.filter(strategy=strategy, depth=depth).first()
    if level is None:
        raise invalid(
            "parent",
            _("Name the level first: this strategy has no level %(depth)s.") % {"depth": depth},
        )
    if Element.objects.filter(strategy=strategy, code=data.code).exists():
        raise conflict(
            _("The strategy already has an element with this code."), {"code": [data.code]}
        )
    element = Element(strategy=strategy, parent=parent, level=level, code=data.code)
    _apply(element, data)
    services.element_save(element=element, by=user, references=_references(user, data.references))
    return Status(201, element_out(_elements().get(pk=element.pk)))


@router.put(
    "/elements/{element_id}",
    response=responses(ElementOut),
    summary="Change an element (strategy office)",
)
def update_element(request: HttpRequest, element_id: ElementId, data: ElementUpdate) -> ElementOut:
    user = principal(request).user
    element = element_by_id(user, element_id)
    if (
        Element.objects.filter(strategy=element.strategy, code=data.code)
        .exclude(pk=element.pk)
        .exists()
    ):
        raise conflict(
            _("The strategy already has an element with this code."), {"code": [data.code]}
        )
    element.code = data.code
    _apply(element, data)
    services.element_save(
        element=element,
        by=user,
        references=_references(user, data.references),
        expected_version=data.edit_version,
    )
    return element_out(_elements().get(pk=element.pk))


@router.delete(
    "/elements/{element_id}",
    response=responses(None, 204),
    summary="Delete an element (strategy office)",
)
def delete_element(request: HttpRequest, element_id: ElementId) -> Status:
    user = principal(request).user
    services.element_delete(element=element_by_id(user, element_id), by=user)
    return Status(204, None)


# Agreement rules -------------------------------------------------------------------------------


class RuleOut(Schema):
    id: int
    strategy: str
    name: str
    kind: str
    unit_level: int = Field(description="Depth of the unit level the rule applies to")
    active: bool


class RulePage(Schema):
    items: list[RuleOut]
    next: str | None


def rule_out(r: AgreementRule) -> RuleOut:
    return RuleOut(
        id=r.pk,
        strategy=r.strategy.code,
        name=r.name,
        kind=r.kind,
        unit_level=r.unit_level.depth,
        active=r.active,
    )


def _rules(user: Any) -> QuerySet[AgreementRule]:
    return AgreementRule.objects.select_related("strategy", "unit_level").filter(
        strategy__in=_visible(user)
    )


@router.get("/agreement-rules", response=responses(RulePage), summary="List agreement rules")
def list_rules(
    request: HttpRequest,
    strategy: Annotated[str | None, Query(None, max_length=50, pattern=NO_NUL)] = None,
    active: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RulePage:
    qs = _rules(principal(request).user)
    if strategy:
        qs = qs.filter(strategy__code=strategy)
    if active is not None:
        qs = qs.filter(active=active)
    rows, following = paginate(qs, keys=["pk"], cursor=cursor, limit=limit)
    return RulePage(items=[rule_out(r) for r in rows], next=following)


@router.get("/agreement-rules/{rule_id}", response=responses(RuleOut), summary="One agreement rule")
def get_rule(request: HttpRequest, rule_id: ElementId) -> RuleOut:
    rule = _rules(principal(request).user).filter(pk=rule_id).first()
    if rule is None:
        raise not_found()
    return rule_out(rule)


class RuleIn(Schema):
    strategy: Slug
    name: Name
    kind: RuleKind
    unit_level: Annotated[int, Field(ge=1, le=100, description="Depth of the unit level")]
    active: bool = True


@router.post(
    "/agreement-rules",
    response=responses(RuleOut, 201),
    summary="Add an agreement rule (strategy office)",
)
def create_rule(request: HttpRequest, data: RuleIn) -> Status:
    user = principal(request).user
    strategy = _visible(user).filter(code=data.strategy).first()
    if strategy is None:
        raise invalid("strategy", _("No strategy has this code."))
    level = UnitLevel.objects.filter(depth=data.unit_level).first()
    if level is None:
        raise invalid("unit_level", _("The organisation has no level at this depth."))
    rule = AgreementRule(
        strategy=strategy, name=data.name, kind=data.kind, unit_level=level, active=data.active
    )
    services.rule_save(by=user, rule=rule)
    return Status(201, rule_out(rule))
