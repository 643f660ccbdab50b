"""Writes on annual agreements: every rule spanning models, inside a transaction, with history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pejling.agreements import workflow
from pejling.agreements.models import (
    REPORTABLE,
    Agreement,
    AgreementState,
    AgreementVersion,
    Initiative,
    InitiativeGoal,
    InitiativeStatus,
    RuleJustification,
)
from pejling.agreements.rules import check_rules
from pejling.agreements.validation import GoalFacts, goal_link_problem, initiative_dates_problem
from pejling.core.history import (
    SYSTEM,
    OtherChange,
    StateConflictError,
    delete_as,
    next_version,
    save_as,
)
from pejling.core.utils import person_name, require
from pejling.organisation import permissions
from pejling.organisation.models import Unit
from pejling.strategy.models import Element, StrategyStatus
from pejling.strategy.selectors import readable_elements


def _require_draft(agreement: Agreement) -> None:
    if agreement.state != AgreementState.DRAFT:
        raise StateConflictError(
            _("The agreement is %(state)s and cannot be changed. Start a revision first.")
            % {"state": agreement.get_state_display().lower()},
            code="not_draft",
        )


def _locked(agreement: Agreement) -> Agreement:
    """Lock the agreement's row and read it afresh; the caller's object takes the stored values
    too, so every check that follows is made on what is stored now. Call inside a transaction.
    """
    current = Agreement.objects.select_for_update().filter(pk=agreement.pk).first()
    if current is None:
        raise StateConflictError(
            _("Someone else deleted this %(object)s in the meantime.")
            % {"object": Agreement._meta.verbose_name},
            code="deleted",
        )
    for f in Agreement._meta.concrete_fields:
        setattr(agreement, f.attname, getattr(current, f.attname))
    return agreement


def _locked_draft(agreement: Agreement, by: Any) -> Agreement:
    """Lock the agreement, then check on the stored row that ``by`` may change it now."""
    require(permissions.can_write_agreement(by, agreement.unit))
    _locked(agreement)
    _require_draft(agreement)
    return agreement


@transaction.atomic
def agreement_create(*, unit: Unit, year: int, by: Any, summary: str = "") -> Agreement:
    require(permissions.can_write_agreement(by, unit))
    if unit.is_closed:
        raise ValidationError(_("%(unit)s is closed.") % {"unit": unit.name})
    if Agreement.objects.filter(unit=unit, year=year).exists():
        raise ValidationError(
            {
                "year": _("%(unit)s already has an agreement for %(year)s.")
                % {"unit": unit, "year": year}
            }
        )
    agreement = Agreement(unit=unit, year=year, summary=summary)
    try:
        with transaction.atomic():
            save_as(agreement, by)
    except IntegrityError as exc:  # a concurrent create won the race
        raise ValidationError(
            {
                "year": _("%(unit)s already has an agreement for %(year)s.")
                % {"unit": unit, "year": year}
            }
        ) from exc
    return agreement


@transaction.atomic
def agreement_update(
    *, agreement: Agreement, by: Any, summary: str, expected_version: int | None = None
) -> Agreement:
    """Change a draft's summary. ``expected_version`` is the version the caller loaded: when
    someone saved in between, nothing is saved and ``ConcurrentEditError`` says what they
    changed."""
    _locked_draft(agreement, by)
    next_version(agreement, expected_version)
    agreement.summary = summary
    save_as(agreement, by, update_fields=["summary", "version", "updated_at"])
    return agreement


def _goal_facts(goal: Element) -> GoalFacts:
    return GoalFacts(
        title=goal.title,
        level_name=goal.level.name,
        holds_goals=goal.level.holds_goals,
        strategy_title=goal.strategy.title,
        start_year=goal.strategy.start_year,
        end_year=goal.strategy.end_year,
    )


def _validate_goals(agreement: Agreement, goals: Iterable[Element], by: Any) -> list[Element]:
    """The goals, if ``by`` may link each of them for the agreement's year: a goal they may
    read (``readable_goals``), of a published strategy in force that year. A goal they may not
    read is refused like one that does not exist, naming nothing of it. A package load
    (``SYSTEM``) writes what its file says, drafts included, under the year rule alone."""
    goals = list(goals)
    if by is not SYSTEM:
        readable = set(
            readable_elements(by).filter(pk__in=[g.pk for g in goals]).values_list("pk", flat=True)
        )
        if any(g.pk not in readable for g in goals):
            raise ValidationError({"goals": [_("No goal has one of these ids.")]})
    errors = []
    for goal in goals:
        problem = goal_link_problem(_goal_facts(goal), agreement.year)
        if (
            problem is None
            and by is not SYSTEM
            and goal.strategy.status != StrategyStatus.PUBLISHED
        ):
            problem = _("“%(goal)s” belongs to %(strategy)s, which is not published.") % {
                "goal": goal.title,
                "strategy": goal.strategy.title,
            }
        if problem is not None:
            errors.append(problem)
    if errors:
        raise ValidationError({"goals": errors})
    return goals


def _validate_dates(start: date | None, end: date | None) -> None:
    problem = initiative_dates_problem(start, end)
    if problem:
        raise ValidationError({"end_date": problem})


def _goal_link_changes(initiative: Initiative, since: Any) -> list[OtherChange]:
    """Goal links added or removed after ``since`` (for the message of a refused save)."""
    rows = list(
        InitiativeGoal.history.filter(initiative_id=initiative.pk, history_date__gt=since)
        .exclude(history_type="~")
        .select_related("history_user")
        .order_by("history_date", "history_id")
        if since is not None
        else []
    )
    goals = {g.pk: str(g) for g in Element.objects.filter(pk__in={r.goal_id for r in rows})}
    changes = []
    for row in rows:
        goal = goals.get(row.goal_id, str(row.goal_id))
        added = row.history_type == "+"
        who = row.history_user
        changes.append(
            OtherChange(
                field=_("goals"),
                old="–" if added else goal,
                new=goal if added else "–",
                who=person_name(who) if who else _("system"),
                when=row.history_date,
            )
        )
    return changes


def _set_goals(initiative: Initiative, goals: list[Element], by: Any) -> None:
    wanted = {g.pk for g in goals}
    for link in list(initiative.goal_links.all()):
        if link.goal_id not in wanted:
            delete_as(link, by)
        else:
            wanted.discard(link.goal_id)
    for goal_id in sorted(wanted):
        save_as(InitiativeGoal(initiative=initiative, goal_id=goal_id), by)


@transaction.atomic
def initiative_create(
    *,
    agreement: Agreement,
    by: Any,
    title: str,
    goals: Iterable[Element],
    description: str = "",
    owner: Any = None,
    start_date: date | None = None,
    end_date: date | None = None,
    status: str = InitiativeStatus.PLANNED,
) -> Initiative:
    _locked_draft(agreement, by)
    goal_list = _validate_goals(agreement, goals, by)
    _validate_dates(start_date, end_date)
    position = agreement.initiatives.count() + 1
    initiative = Initiative(
        agreement=agreement,
        title=title,
        description=description,
        owner=owner,
        start_date=start_date,
        end_date=end_date,
        status=status,
        position=position,
    )
    initiative.full_clean(exclude=["goals"])
    save_as(initiative, by)
    _set_goals(initiative, goal_list, by)
    _touch(agreement, by)
    return initiative


@transaction.atomic
def initiative_update(
    *,
    initiative: Initiative,
    by: Any,
    title: str,
    goals: Iterable[Element],
    description: str = "",
    owner: Any = None,
    start_date: date | None = None,
    end_date: date | None = None,
    status: str = InitiativeStatus.PLANNED,
    expected_version: int | None = None,
) -> Initiative:
    agreement = initiative.agreement
    _locked_draft(agreement, by)
    next_version(
        initiative, expected_version, extra=lambda since: _goal_link_changes(initiative, since)
    )
    goal_list = _validate_goals(agreement, goals, by)
    _validate_dates(start_date, end_date)
    initiative.title = title
    initiative.description = description
    initiative.owner = owner
    initiative.start_date = start_date
    initiative.end_date = end_date
    initiative.status = status
    initiative.full_clean(exclude=["goals"])
    save_as(initiative, by, update_fields=[*INITIATIVE_FIELDS, "version"])
    _set_goals(initiative, goal_list, by)
    _touch(agreement, by)
    return initiative


@transaction.atomic
def initiative_delete(*, initiative: Initiative, by: Any) -> None:
    agreement = initiative.agreement
    _locked_draft(agreement, by)
    if not Initiative.objects.select_for_update().filter(pk=initiative.pk).exists():
        raise StateConflictError(
            _("Someone else deleted this %(object)s in the meantime.")
            % {"object": Initiative._meta.verbose_name},
            code="deleted",
        )
    for link in list(initiative.goal_links.all()):
        delete_as(link, by)
    delete_as(initiative, by)
    _touch(agreement, by)


INITIATIVE_FIELDS = ("title", "description", "owner", "start_date", "end_date", "status")


def _touch(agreement: Agreement, by: Any) -> None:
    Agreement.objects.filter(pk=agreement.pk).update(updated_at=timezone.now())


# Workflow ----------------------------------------------------------------------------------


def _transition(
    agreement: Agreement, *, by: Any, name: str, reason: str = "", **changes: Any
) -> Agreement:
    """Take workflow step ``name``: lock the row, check the step on the stored row
    (``workflow.check_step``: permission, state, four-eyes), then save only the fields it
    changes. ``agreement`` (the caller's object) ends up as stored."""
    _locked(agreement)
    step = workflow.check_step(by, agreement, name)
    agreement.state = step.to_state
    agreement.version += 1
    for field, value in changes.items():
        setattr(agreement, field, value)
    save_as(
        agreement,
        by,
        reason=reason or step.reason,
        update_fields=["state", "version", "updated_at", *changes],
    )
    return agreement


@transaction.atomic
def agreement_submit(
    *, agreement: Agreement, by: Any, justifications: dict[int, str] | None = None
) -> Agreement:
    """Submit for agreement. A rule the agreement breaks needs a justification, which is kept
    and shown to the approver."""
    _locked(agreement)
    workflow.check_step(by, agreement, "submit")
    if not agreement.initiatives.exists():
        raise ValidationError(_("Add at least one initiative before submitting."))
    justifications = {k: v.strip() for k, v in (justifications or {}).items() if v and v.strip()}
    initiatives = agreement.initiatives.prefetch_related("goals__level")
    broken = [r for r in check_rules(agreement, list(initiatives)) if not r.holds]
    unjustified = [r.rule.name for r in broken if r.rule.pk not in justifications]
    if unjustified:
        raise ValidationError(
            {
                "justification": _(
                    "The agreement breaks a rule; explain why to submit it anyway: %(rules)s"
                )
                % {"rules": "; ".join(unjustified)}
            }
        )
    for result in broken:
        justification, _created = RuleJustification.objects.get_or_create(
            agreement=agreement,
            rule=result.rule,
            defaults={"text": justifications[result.rule.pk], "created_by": by},
        )
        if justification.text != justifications[result.rule.pk]:
            justification.text = justifications[result.rule.pk]
            justification.created_by = by
            save_as(justification, by)
    return _transition(
        agreement, by=by, name="submit", submitted_at=timezone.now(), submitted_by=by
    )


@transaction.atomic
def agreement_return(*, agreement: Agreement, by: Any, comment: str) -> Agreement:
    """The approver sends a submitted agreement back to draft with a comment."""
    require(permissions.can_agree_agreement(by, agreement.unit))
    if not comment.strip():
        raise ValidationError({"comment": _("Say what needs to change.")})
    return _transition(agreement, by=by, name="return", reason=comment.strip()[:100])


@transaction.atomic
def agreement_agree(*, agreement: Agreement, by: Any) -> Agreement:
    """Agree a submitted agreement; with four-eyes on, never by the person who submitted it."""
    _transition(agreement, by=by, name="agree", agreed_at=timezone.now(), agreed_by=by)
    _snapshot(agreement, by)
    return agreement


@transaction.atomic
def agreement_publish(*, agreement: Agreement, by: Any) -> Agreement:
    _transition(agreement, by=by, name="publish", published_at=timezone.now())
    version = agreement.versions.order_by("-number").first()
    if version is not None:
        version.state = AgreementState.PUBLISHED
        version.save(update_fields=["state"])
    return agreement


@transaction.atomic
def agreement_revise(*, agreement: Agreement, by: Any) -> Agreement:
    """Open an agreed or published agreement for changes; the agreed version stays readable."""
    return _transition(agreement, by=by, name="revise")


def run_step(name: str, *, agreement: Agreement, by: Any, **kwargs: Any) -> Agreement:
    """Take workflow step ``name`` (``workflow.STEPS``) through its service, which checks it
    again on the locked row. The agreement page and the API both call this."""
    service = globals()[workflow.step(name).service]
    result: Agreement = service(agreement=agreement, by=by, **kwargs)
    return result


def _snapshot(agreement: Agreement, by: Any) -> AgreementVersion:
    initiatives = (
        agreement.initiatives.select_related("owner")
        .prefetch_related("goals__strategy")
        .order_by("position", "pk")
    )
    content = {
        "unit": {"code": agreement.unit.code, "name": agreement.unit.name},
        "year": agreement.year,
        "summary": agreement.summary,
        "agreed_at": agreement.agreed_at.isoformat() if agreement.agreed_at else None,
        "agreed_by": person_name(by),
        "initiatives": [
            {
                "title": i.title,
                "description": i.description,
                "owner": person_name(i.owner),
                "start_date": i.start_date.isoformat() if i.start_date else None,
                "end_date": i.end_date.isoformat() if i.end_date else None,
                "status": i.status,
                "goals": [
                    {"id": g.pk, "code": g.code, "title": g.title, "strategy": g.strategy.title}
                    for g in i.goals.all()
                ],
            }
            for i in initiatives
        ],
    }
    number = (
        agreement.versions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    version = AgreementVersion(
        agreement=agreement, number=number, state=agreement.state, content=content, created_by=by
    )
    save_as(version, by, reason="version frozen")
    return version


UNFINISHED = (
    InitiativeStatus.PLANNED,
    InitiativeStatus.STARTED,
    InitiativeStatus.ON_TRACK,
    InitiativeStatus.AT_RISK,
    InitiativeStatus.OFF_TRACK,
)


def record_reported_status(
    *, initiative_id: int, status: str, reported_at: Any, reported_by: Any
) -> None:
    """The initiative's status becomes what its latest follow-up report says (one vocabulary,
    stored once, on the initiative). Called by followup's reporting service in its transaction;
    the row is locked, and only the status and its provenance are written."""
    if status not in REPORTABLE:
        raise ValidationError(
            _("“%(status)s” is not a status an initiative can be reported with.")
            % {"status": status}
        )
    initiative = Initiative.objects.select_for_update().get(pk=initiative_id)
    if (
        initiative.status == status
        and initiative.status_reported_at == reported_at
        and initiative.status_reported_by_id == getattr(reported_by, "pk", None)
    ):
        return
    initiative.status = status
    initiative.status_reported_at = reported_at
    initiative.status_reported_by = reported_by
    save_as(
        initiative,
        reported_by,
        update_fields=["status", "status_reported_at", "status_reported_by"],
    )


@transaction.atomic
def agreement_carry_forward(*, agreement: Agreement, by: Any) -> tuple[Agreement, list[str]]:
    """Start next year's agreement from this one: unfinished initiatives come along with the
    goals that are still in force next year; finished and cancelled ones do not.

    Returns the new draft and the titles of goal links that could not come along."""
    year = agreement.year + 1
    new = agreement_create(unit=agreement.unit, year=year, by=by, summary=agreement.summary)
    dropped: list[str] = []
    initiatives = agreement.initiatives.filter(status__in=UNFINISHED).prefetch_related(
        "goals__strategy", "goals__level"
    )
    for initiative in initiatives.order_by("position", "pk"):
        goals = [g for g in initiative.goals.all() if g.strategy.covers_year(year)]
        dropped += [
            f"{initiative.title}: {g.title}"
            for g in initiative.goals.all()
            if not g.strategy.covers_year(year)
        ]
        initiative_create(
            agreement=new,
            by=by,
            title=initiative.title,
            description=initiative.description,
            owner=initiative.owner,
            start_date=initiative.start_date,
            end_date=initiative.end_date,
            status=initiative.status,
            goals=goals,
        )
    return new, dropped


# Agreements as a strategy package gives them ------------------------------------------------
#
# A package load (the system, ``SYSTEM``) writes agreements in the state the file gives,
# outside the workflow; the rules on their contents are the same as for the pages and the API.


def _require_system(by: Any) -> None:
    if by is not SYSTEM:
        raise PermissionDenied(_("Only a package load writes agreements outside the workflow."))


@transaction.atomic
def agreement_save_as_given(*, agreement: Agreement, by: Any) -> Agreement:
    """Create or update an agreement with the state and summary it holds (validated)."""
    _require_system(by)
    agreement.full_clean()
    save_as(agreement, by)
    return agreement


@transaction.atomic
def initiative_save_as_given(*, initiative: Initiative, by: Any) -> Initiative:
    """Create or update an initiative of any agreement (validated; goals: :func:`initiative_goals_set`)."""
    _require_system(by)
    _validate_dates(initiative.start_date, initiative.end_date)
    initiative.full_clean(exclude=["goals"])
    save_as(initiative, by)
    return initiative


@transaction.atomic
def initiative_goals_set(*, initiative: Initiative, by: Any, goals: Iterable[Element]) -> bool:
    """Link ``initiative`` to exactly ``goals`` (goals of strategies covering its year);
    whether a link was added or removed."""
    _require_system(by)
    goal_list = _validate_goals(initiative.agreement, goals, by)
    current = set(initiative.goal_links.values_list("goal_id", flat=True))
    if current == {g.pk for g in goal_list}:
        return False
    _set_goals(initiative, goal_list, by)
    return True


@transaction.atomic
def initiative_delete_as_given(*, initiative: Initiative, by: Any) -> None:
    """Remove an initiative (with its goal links) whatever the agreement's state."""
    _require_system(by)
    delete_as(initiative, by)
