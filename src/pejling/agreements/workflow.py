"""The agreement workflow as one table of steps, and who may take which step now.

Every caller goes through here: the services check each step with ``check_step`` on the locked
row, the agreement page shows the buttons ``available_steps`` returns, and the API accepts the
same steps (and lists them as ``steps``). A step is refused with:

- ``PermissionDenied`` when the person may never take it on this unit,
- ``FourEyesError`` (a ``PermissionDenied``) when the person submitted the version and the
  four-eyes rule (``PEJLING_FOUR_EYES``, on by default) asks for another person to agree it,
- ``StepConflictError`` (a ``StateConflictError``, answered 409) when the agreement's state does
  not allow it now, typically because someone else took a step first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pejling.agreements.models import Agreement, AgreementState
from pejling.core.history import StateConflictError
from pejling.organisation import permissions
from pejling.organisation.models import Unit


@dataclass(frozen=True)
class Step:
    """One workflow step: from which states, to which state, who may, what it is called."""

    name: str
    from_states: frozenset[str]
    to_state: str
    may: Callable[[Any, Unit], bool]  # a predicate of organisation/permissions.py
    service: str  # the function of agreements/services.py that takes the step
    label: Promise  # the button
    done: Promise  # the message once taken
    reason: str  # the change reason kept in the history (core.history.REASONS)


STEPS: tuple[Step, ...] = (
    Step(
        "submit",
        frozenset({AgreementState.DRAFT}),
        AgreementState.SUBMITTED,
        permissions.can_submit_agreement,
        "agreement_submit",
        _("Submit for agreement"),
        _("The agreement was submitted for agreement."),
        "submitted",
    ),
    Step(
        "agree",
        frozenset({AgreementState.SUBMITTED}),
        AgreementState.AGREED,
        permissions.can_agree_agreement,
        "agreement_agree",
        _("Agree"),
        _("The agreement was agreed."),
        "agreed",
    ),
    Step(
        "return",
        frozenset({AgreementState.SUBMITTED}),
        AgreementState.DRAFT,
        permissions.can_agree_agreement,
        "agreement_return",
        _("Return to the unit"),
        _("The agreement was returned to the unit."),
        "",  # the comment is the reason
    ),
    Step(
        "publish",
        frozenset({AgreementState.AGREED}),
        AgreementState.PUBLISHED,
        permissions.can_publish_agreement,
        "agreement_publish",
        _("Publish to all employees"),
        _("The agreement was published to all employees."),
        "published",
    ),
    Step(
        "revise",
        frozenset({AgreementState.AGREED, AgreementState.PUBLISHED}),
        AgreementState.DRAFT,
        permissions.can_write_agreement,
        "agreement_revise",
        _("Start a revision"),
        _("A revision was started; the agreed version stays readable."),
        "revision started",
    ),
)

STEP_NAMES: tuple[str, ...] = tuple(s.name for s in STEPS)
_BY_NAME = {s.name: s for s in STEPS}


class FourEyesError(PermissionDenied):
    """The person who submitted the version may not agree it."""

    api_code = "four_eyes"


class StepConflictError(StateConflictError):
    """The agreement's state does not allow the step now."""


def step(name: str) -> Step:
    """The step called ``name``; ``KeyError`` for no such step."""
    return _BY_NAME[name]


def four_eyes() -> bool:
    return bool(getattr(settings, "PEJLING_FOUR_EYES", True))


def four_eyes_refusal(user: Any, agreement: Agreement) -> str | None:
    """Why ``user`` may not agree ``agreement`` under the four-eyes rule, or None."""
    if (
        four_eyes()
        and agreement.submitted_by_id is not None
        and agreement.submitted_by_id == getattr(user, "pk", None)
    ):
        return gettext(
            "You submitted this version, so another person must agree it (four-eyes "
            "principle). You can still return it to the unit."
        )
    return None


def refusal(user: Any, agreement: Agreement, name: str) -> Exception | None:
    """Why ``user`` may not take step ``name`` on ``agreement`` as it is now, or None."""
    s = step(name)
    if not s.may(user, agreement.unit):
        return PermissionDenied(gettext("You do not have permission to do this."))
    if agreement.state not in s.from_states:
        return StepConflictError(
            gettext("The agreement is %(state)s; this step is not possible now.")
            % {"state": agreement.get_state_display().lower()},
            code="step_conflict",
        )
    if name == "agree":
        reason = four_eyes_refusal(user, agreement)
        if reason:
            return FourEyesError(reason)
    return None


def check_step(user: Any, agreement: Agreement, name: str) -> Step:
    """The step, if ``user`` may take it on ``agreement`` now; raise why not otherwise.

    Call it on the row locked with ``select_for_update``, so the state checked is the state
    changed."""
    error = refusal(user, agreement, name)
    if error is not None:
        raise error
    return step(name)


def available_steps(user: Any, agreement: Agreement) -> list[Step]:
    """The steps ``user`` may take on ``agreement`` now, in the table's order."""
    return [s for s in STEPS if refusal(user, agreement, s.name) is None]


def may_edit(user: Any, agreement: Agreement) -> bool:
    """Whether ``user`` may change the agreement's content now (a draft, and a writer)."""
    return agreement.state == AgreementState.DRAFT and permissions.can_write_agreement(
        user, agreement.unit
    )
