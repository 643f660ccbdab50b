"""Load the demo organisation into the configured database, idempotently.

Structure (units, strategies, elements, people) is upserted by code; agreements are created
only where a unit has none for the year, through the same services the UI uses, so the demo
carries real history, versions and workflow states.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from pejling.agreements import services as agreement_services
from pejling.agreements.models import Agreement, AgreementState, InitiativeStatus
from pejling.core.history import SYSTEM
from pejling.demo import data
from pejling.demo.followup import load_followup
from pejling.demo.indicators import load_indicators
from pejling.demo.portfolio import load_portfolio
from pejling.demo.publication import load_publication
from pejling.demo.reports import load_reports
from pejling.demo.util import save_if_changed
from pejling.organisation import services as organisation_services
from pejling.organisation.models import Membership, Role, Unit, UnitLevel
from pejling.organisation.permissions import forget_memberships
from pejling.strategy import services as strategy_services
from pejling.strategy.models import Element, Strategy, StrategyLevel, StrategyStatus

FIRST_NAMES = [
    "Anna",
    "Erik",
    "Sofia",
    "Johan",
    "Elin",
    "Per",
    "Karin",
    "Mats",
    "Ida",
    "Jonas",
    "Emma",
    "Lars",
    "Frida",
    "Nils",
    "Hanna",
    "Oskar",
    "Maja",
    "Gustav",
    "Linnea",
    "Ahmed",
    "Leila",
    "Mikael",
    "Sanna",
    "Tove",
]
LAST_NAMES = [
    "Andersson",
    "Berglund",
    "Carlsson",
    "Dahlberg",
    "Eriksson",
    "Forsberg",
    "Gustafsson",
    "Hedlund",
    "Isaksson",
    "Johansson",
    "Karlsson",
    "Lundqvist",
    "Magnusson",
    "Nyström",
    "Olsson",
    "Persson",
    "Sundberg",
    "Wikström",
    "Öberg",
    "Åström",
    "Hassan",
    "Nguyen",
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    name: str
    role: str
    unit: str


def demo_password(username: str) -> str:
    prefix = os.environ.get("PEJLING_DEMO_PASSWORD", "fjardvik")
    return f"{prefix}-{username}"


@transaction.atomic
def load_demo() -> list[DemoLogin]:
    units = _load_units()
    strategies = _load_strategies()
    logins = _load_people(units)
    heads = _unit_heads(units)
    first_time = _load_agreements(units, heads, strategies)
    office = get_user_model().objects.get(username="strategi")
    load_indicators(office)
    load_followup(office)
    load_portfolio()
    load_reports(office)
    load_publication(office)
    if first_time:
        _revision_for_the_department_head(heads)
    return logins


# A published agreement that is revised and submitted again once its first reports are in.
REVISED_AND_SUBMITTED = "VOF-HEM-SYD"


def _revision_for_the_department_head(heads: dict[str, Any]) -> None:
    """Hemtjänst syd revises its published agreement after two follow-up periods and submits
    the revision: it waits for the department head (avdelningschef) to agree or return, while
    everyone still reads the published version and the unit keeps reporting on it."""
    agreement = Agreement.objects.filter(
        unit__code=REVISED_AND_SUBMITTED, year=data.YEAR, state=AgreementState.PUBLISHED
    ).first()
    if agreement is None:
        return
    head = heads[REVISED_AND_SUBMITTED]
    forget_memberships(head)
    agreement_services.agreement_revise(agreement=agreement, by=head)
    agreement_services.agreement_submit(agreement=agreement, by=head)


def _load_units() -> dict[str, Unit]:
    levels = {}
    for depth, name, plural in data.LEVELS:
        level, _ = save_if_changed(
            UnitLevel,
            save=lambda lv: organisation_services.unit_level_save(level=lv, by=SYSTEM),
            depth=depth,
            defaults={"name": name, "name_plural": plural},
        )
        levels[depth] = level
    units: dict[str, Unit] = {}

    def upsert(
        code: str, name: str, depth: int, parent: Unit | None, description: str = ""
    ) -> Unit:
        existing = Unit.objects.filter(code=code).first()
        if existing is not None:
            if existing.name != name or existing.description != description:
                existing.name, existing.description = name, description
                organisation_services.unit_save(by=SYSTEM, unit=existing)
            units[code] = existing
            return existing
        unit = Unit(code=code, name=name, level=levels[depth], description=description)
        node = organisation_services.unit_create(by=SYSTEM, parent=parent, unit=unit)
        units[code] = node
        return node

    root_code, root_name, root_description = data.ROOT
    root = upsert(root_code, root_name, 1, None, root_description)
    for centre_code, centre_name, departments in data.CENTRES:
        centre = upsert(centre_code, centre_name, 2, root)
        for dept_code, dept_name, children in departments:
            dept = upsert(dept_code, dept_name, 3, centre)
            for unit_code, unit_name in children:
                upsert(unit_code, unit_name, 4, dept)
    # Paths may have shifted while siblings were inserted in name order: read them afresh.
    return {u.code: u for u in Unit.objects.filter(code__in=units.keys()).select_related("level")}


def _save_element(element: Element) -> None:
    strategy_services.element_save(element=element, by=SYSTEM)


def _upsert_strategy(spec: dict[str, Any], parent: Strategy | None, position: int) -> Strategy:
    strategy, _ = save_if_changed(
        Strategy,
        save=lambda s: strategy_services.strategy_save(strategy=s, by=SYSTEM),
        code=spec["code"],
        defaults={
            "title": spec["title"],
            "summary": spec["summary"],
            "body": spec["body"],
            "start_year": spec["start_year"],
            "end_year": spec["end_year"],
            "parent": parent,
            "status": StrategyStatus.PUBLISHED,
            "position": position,
        },
    )
    levels = []
    for depth, (name, plural, holds_goals) in enumerate(spec["levels"], start=1):
        level, _ = save_if_changed(
            StrategyLevel,
            save=lambda lv: strategy_services.strategy_level_save(level=lv, by=SYSTEM),
            strategy=strategy,
            depth=depth,
            defaults={"name": name, "name_plural": plural, "holds_goals": holds_goals},
        )
        levels.append(level)
    for position_top, item in enumerate(spec["elements"], start=1):
        code, title, description = item[0], item[1], item[2]
        top, _ = save_if_changed(
            Element,
            save=_save_element,
            strategy=strategy,
            code=code,
            defaults={
                "title": title,
                "description": description,
                "level": levels[0],
                "parent": None,
                "position": position_top,
            },
        )
        children = item[3] if len(item) > 3 else []
        for position_child, child in enumerate(children, start=1):
            defaults: dict[str, Any] = {
                "level": levels[1],
                "parent": top,
                "position": position_child,
                "title": child[1],
            }
            if len(child) == 3:  # (code, title, description)
                defaults["description"] = child[2]
            else:  # (code, title, kind, target text, measure fields, references)
                defaults["measure_kind"] = child[2]
                defaults["target_text"] = child[3]
                for key, value in child[4].items():
                    if key.endswith("_value"):
                        defaults[key] = Decimal(value)
                    elif key.endswith("_date"):
                        defaults[key] = date.fromisoformat(value)
                    else:
                        defaults[key] = value
            save_if_changed(
                Element, save=_save_element, strategy=strategy, code=child[0], defaults=defaults
            )
    return strategy


def _load_strategies() -> dict[str, Strategy]:
    narrative = _upsert_strategy(data.FUTURE_NARRATIVE, None, 1)
    group = _upsert_strategy(data.GROUP_STRATEGY, narrative, 2)
    digital = _upsert_strategy(data.DIGITAL_STRATEGY, narrative, 3)
    charter = _upsert_strategy(data.CHARTER, narrative, 4)
    others = {e.code: e for e in Element.objects.filter(strategy__in=[digital, charter])}
    for theme in data.GROUP_STRATEGY["elements"]:
        for goal_spec in theme[3]:
            goal = Element.objects.get(strategy=group, code=goal_spec[0])
            strategy_services.element_references_set(
                element=goal, by=SYSTEM, references=[others[code] for code in goal_spec[5]]
            )
    return {"narrative": narrative, "group": group, "digital": digital, "charter": charter}


def _person(username: str, first: str, last: str, password: str | None) -> Any:
    """The demo account ``username`` (created through the organisation's service; with
    ``password`` when it is to sign in, else none it can use)."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@fjardvik.example",
        )
        if password is None:
            user.set_unusable_password()
    elif password is None or user.check_password(password):
        return user
    if password is not None:
        user.set_password(password)
    return organisation_services.person_save(by=SYSTEM, person=user)


def _give_role(user: Any, unit: Unit, role: str, title: str) -> None:
    if not Membership.objects.filter(user=user, unit=unit, role=role).exists():
        organisation_services.membership_create(
            by=SYSTEM, user=user, unit=unit, role=role, title=title
        )


def _load_people(units: dict[str, Unit]) -> list[DemoLogin]:
    logins = []
    for username, first, last, role, unit_code, title in data.PEOPLE:
        password = demo_password(username)
        user = _person(username, first, last, password)
        _give_role(user, units[unit_code], role, title)
        if role != Role.MEMBER:
            _give_role(user, units[unit_code], Role.MEMBER, title)
        logins.append(
            DemoLogin(
                # The job title (Avdelningschef, Förvaltningschef, …), not the role's name: the
                # heads of a department and of an administration both hold the unit-head role.
                username,
                password,
                f"{first} {last}",
                title,
                units[unit_code].name,
            )
        )
    return logins


def _unit_heads(units: dict[str, Unit]) -> dict[str, Any]:
    """A head for every unit; the named demo people where they exist, generated ones elsewhere."""
    heads: dict[str, Any] = {}
    for membership in Membership.objects.filter(role=Role.UNIT_HEAD).select_related("user", "unit"):
        heads[membership.unit.code] = membership.user
    rng = random.Random(2031)
    for code, unit in sorted(units.items()):
        if code in heads or unit.depth == 1:
            continue
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        user = _person(f"chef-{code.lower()}", first, last, None)
        _give_role(user, unit, Role.UNIT_HEAD, f"Chef, {unit.name}")
        heads[code] = user
    heads[data.ROOT[0]] = get_user_model().objects.get(username="direktor")
    return heads


def _load_agreements(
    units: dict[str, Unit], heads: dict[str, Any], strategies: dict[str, Strategy]
) -> bool:
    """The year's agreements, spread over the workflow; ``False`` when they were there."""
    year = data.YEAR
    if Agreement.objects.filter(year=year, unit__code__in=units.keys()).exists():
        return False  # already loaded; never duplicate or overwrite what users have written
    goals = {
        e.code: e
        for e in Element.objects.filter(
            strategy__in=[strategies["group"], strategies["digital"]], level__holds_goals=True
        ).select_related("level", "strategy")
    }
    rng = random.Random(year)
    themes = {theme[0]: [g[0] for g in theme[3]] for theme in data.GROUP_STRATEGY["elements"]}
    digital_goals = [code for code in data.INITIATIVES if code.startswith("D")]
    ordered = sorted((u for u in units.values() if u.depth > 1), key=lambda u: u.path)
    for index, unit in enumerate(ordered):
        if unit.code in data.WITHOUT_AGREEMENT:
            continue
        head = heads[unit.code]
        forget_memberships(head)
        parent_code = next(
            u.code
            for u in units.values()
            if unit.path.startswith(u.path) and u.depth == unit.depth - 1
        )
        approver = heads[parent_code]
        if unit.depth == 2:
            chosen = [
                rng.choice(goal_codes)
                for theme, goal_codes in themes.items()
                if theme != data.CENTRE_GAPS.get(unit.code)
            ]
            chosen.append(rng.choice(digital_goals))
        else:
            pool = [code for codes in themes.values() for code in codes] + digital_goals
            chosen = rng.sample(pool, k=rng.randint(2, 4))
        agreement = agreement_services.agreement_create(
            unit=unit,
            year=year,
            by=head,
            summary=f"{unit.name} bidrar till koncernstrategin genom insatserna nedan. Verksamhetsplanen följs upp vid varje tertial.",
        )
        used_titles: set[str] = set()
        for position, goal_code in enumerate(chosen):
            options = [
                o for o in data.INITIATIVES[goal_code] if o[0] not in used_titles
            ] or data.INITIATIVES[goal_code]
            title, description = rng.choice(options)
            used_titles.add(title)
            linked = [goals[goal_code]]
            referenced = [r for r in goals[goal_code].references.all() if r.code in goals]
            if referenced and rng.random() < 0.5:
                linked.append(goals[referenced[0].code])
            status = rng.choice(
                [
                    InitiativeStatus.PLANNED,
                    InitiativeStatus.STARTED,
                    InitiativeStatus.STARTED,
                    InitiativeStatus.DONE,
                ]
            )
            start = date(year, rng.choice([1, 2, 3, 4]), 1)
            end = date(year, rng.choice([6, 9, 12]), 28 if position % 2 else 30)
            agreement_services.initiative_create(
                agreement=agreement,
                by=head,
                title=title,
                description=description,
                owner=head,
                start_date=start,
                end_date=end,
                status=status,
                goals=linked,
            )
        _advance(agreement, unit, head, approver, index)
    return True


def _advance(agreement: Agreement, unit: Unit, head: Any, approver: Any, index: int) -> None:
    """Spread agreements over the workflow states; the demo people's own units stay open."""
    if unit.code in {"VOF-HEM-NOR"}:
        return  # draft: the demo unit head finishes and submits it
    if unit.code in {"VOF-HEM"}:
        agreement_services.agreement_submit(agreement=agreement, by=head)
        return  # submitted: waiting for the centre head to agree
    bucket = index % 10
    forget_memberships(approver)
    if bucket == 0:
        return
    agreement_services.agreement_submit(agreement=agreement, by=head)
    if bucket == 1:
        return
    agreement_services.agreement_agree(agreement=agreement, by=approver)
    if bucket == 2:
        return
    agreement_services.agreement_publish(agreement=agreement, by=head)
    if bucket == 3:
        # A revision under way: the published version stays readable.
        agreement_services.agreement_revise(agreement=agreement, by=head)
