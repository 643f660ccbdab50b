"""Annual agreements: creating them, their initiatives and goal links, and the workflow."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pejling.agreements import services
from pejling.agreements.models import (
    Agreement,
    AgreementState,
    AgreementVersion,
    Initiative,
    InitiativeGoal,
)
from pejling.agreements.selectors import readable_agreement
from tests.factories import YEAR, InitiativeFactory

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    """Rows of everything an agreement write can touch, history included."""
    return {
        "agreements": Agreement.objects.count(),
        "agreement_history": Agreement.history.count(),
        "initiatives": Initiative.objects.count(),
        "initiative_history": Initiative.history.count(),
        "links": InitiativeGoal.objects.count(),
        "link_history": InitiativeGoal.history.count(),
        "versions": AgreementVersion.objects.count(),
    }


def fresh(agreement: Agreement) -> Agreement:
    return Agreement.objects.select_related("unit").get(pk=agreement.pk)


def submitted(agreement: Agreement, org: Any) -> Agreement:
    return services.agreement_submit(agreement=agreement, by=org.head)


def agreed(agreement: Agreement, org: Any) -> Agreement:
    submitted(agreement, org)
    return services.agreement_agree(agreement=agreement, by=org.parent_head)


def published(agreement: Agreement, org: Any) -> Agreement:
    agreed(agreement, org)
    return services.agreement_publish(agreement=agreement, by=org.head)


# Creating an agreement -------------------------------------------------------------------


def test_a_unit_head_creates_the_agreement_of_their_unit(org):
    agreement = services.agreement_create(unit=org.unit, year=YEAR, by=org.head, summary="Plan")

    assert agreement.state == AgreementState.DRAFT
    assert fresh(agreement).summary == "Plan"
    assert agreement.history.get().history_user == org.head


def test_it_refuses_a_second_agreement_for_the_same_unit_and_year(org):
    services.agreement_create(unit=org.unit, year=YEAR, by=org.head)
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_create(unit=org.unit, year=YEAR, by=org.head)

    assert "year" in excinfo.value.message_dict
    assert row_counts() == before


def test_the_same_unit_can_have_an_agreement_for_another_year(org):
    services.agreement_create(unit=org.unit, year=YEAR, by=org.head)
    services.agreement_create(unit=org.unit, year=YEAR + 1, by=org.head)

    assert Agreement.objects.filter(unit=org.unit).count() == 2


def test_it_refuses_an_agreement_for_a_closed_unit(org):
    org.unit.closed_on = date(2020, 1, 1)
    org.unit.save()

    with pytest.raises(ValidationError):
        services.agreement_create(unit=org.unit, year=YEAR, by=org.head)
    assert not Agreement.objects.exists()


@pytest.mark.parametrize("who", ["employee", "colleague", "outsider", "executive"])
def test_only_those_who_write_for_the_unit_create_its_agreement(org, who):
    with pytest.raises(PermissionDenied):
        services.agreement_create(unit=org.unit, year=YEAR, by=getattr(org, who))
    assert not Agreement.objects.exists()


def test_a_head_above_may_create_the_agreement_of_a_unit_below(org):
    agreement = services.agreement_create(unit=org.unit, year=YEAR, by=org.parent_head)
    assert agreement.pk is not None


# Initiatives -----------------------------------------------------------------------------


def test_an_initiative_is_created_with_its_goal_links_and_history(org, cascade, agreement):
    initiative = services.initiative_create(
        agreement=agreement,
        by=org.head,
        title="Health talks after the third absence",
        goals=[cascade.goal_1, cascade.goal_2],
        owner=org.employee,
        start_date=date(YEAR, 2, 1),
        end_date=date(YEAR, 11, 30),
    )

    initiative.refresh_from_db()
    assert set(initiative.goals.all()) == {cascade.goal_1, cascade.goal_2}
    assert initiative.position == 2  # after the fixture's initiative
    assert initiative.history.get().history_user == org.head
    assert {h.history_user for h in InitiativeGoal.history.filter(initiative_id=initiative.pk)} == {
        org.head
    }


def test_it_refuses_a_goal_of_a_strategy_that_does_not_cover_the_year(org, cascade, agreement):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        services.initiative_create(
            agreement=agreement, by=org.head, title="Stale", goals=[cascade.old_goal]
        )

    messages = excinfo.value.message_dict["goals"]
    assert len(messages) == 1
    assert cascade.old_goal.title in messages[0]
    assert cascade.old.title in messages[0]
    assert row_counts() == before


def test_a_bad_goal_among_good_ones_writes_neither_initiative_nor_links(org, cascade, agreement):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        services.initiative_create(
            agreement=agreement,
            by=org.head,
            title="Half good",
            goals=[cascade.goal_1, cascade.old_goal, cascade.goal_2],
        )

    assert cascade.old_goal.title in " ".join(excinfo.value.messages)
    assert row_counts() == before
    assert not Initiative.objects.filter(title="Half good").exists()


def test_it_refuses_an_element_that_is_not_a_goal(org, cascade, agreement):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        services.initiative_create(
            agreement=agreement, by=org.head, title="Theme only", goals=[cascade.theme_1]
        )

    assert cascade.theme_1.title in excinfo.value.message_dict["goals"][0]
    assert row_counts() == before


def test_it_refuses_an_end_before_the_start(org, cascade, agreement):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        services.initiative_create(
            agreement=agreement,
            by=org.head,
            title="Backwards",
            goals=[cascade.goal_1],
            start_date=date(YEAR, 6, 1),
            end_date=date(YEAR, 5, 31),
        )

    assert "end_date" in excinfo.value.message_dict
    assert row_counts() == before


def test_an_initiative_may_start_and_end_on_the_same_day(org, cascade, agreement):
    day = date(YEAR, 3, 1)
    initiative = services.initiative_create(
        agreement=agreement,
        by=org.head,
        title="One day",
        goals=[cascade.goal_1],
        start_date=day,
        end_date=day,
    )
    assert initiative.pk is not None


def test_updating_an_initiative_replaces_its_goal_links(org, cascade, agreement):
    initiative = agreement.initiatives.get()

    services.initiative_update(
        initiative=initiative,
        by=org.head,
        title="Early health talks, all staff",
        goals=[cascade.goal_2, cascade.goal_3],
    )

    initiative.refresh_from_db()
    assert initiative.title == "Early health talks, all staff"
    assert set(initiative.goals.all()) == {cascade.goal_2, cascade.goal_3}
    removed = InitiativeGoal.history.get(goal_id=cascade.goal_1.pk, history_type="-")
    assert removed.history_user == org.head


def test_a_failed_update_leaves_the_initiative_and_its_links_as_they_were(org, cascade, agreement):
    initiative = agreement.initiatives.get()
    before = row_counts()

    with pytest.raises(ValidationError):
        services.initiative_update(
            initiative=initiative,
            by=org.head,
            title="Renamed",
            goals=[cascade.goal_2, cascade.old_goal],
        )

    stored = Initiative.objects.get(pk=initiative.pk)
    assert stored.title == "Early health talks"
    assert list(stored.goals.all()) == [cascade.goal_1]
    assert row_counts() == before


def test_deleting_an_initiative_removes_its_links_and_records_who(org, cascade, agreement):
    initiative = agreement.initiatives.get()
    pk = initiative.pk

    services.initiative_delete(initiative=initiative, by=org.head)

    assert not Initiative.objects.filter(pk=pk).exists()
    assert not InitiativeGoal.objects.exists()
    assert Initiative.history.get(id=pk, history_type="-").history_user == org.head
    assert InitiativeGoal.history.get(initiative_id=pk, history_type="-").history_user == org.head


@pytest.mark.parametrize("who", ["employee", "colleague", "outsider", "executive"])
def test_those_who_cannot_write_the_agreement_cannot_touch_its_initiatives(
    org, cascade, agreement, who
):
    user = getattr(org, who)
    initiative = agreement.initiatives.get()
    before = row_counts()

    with pytest.raises(PermissionDenied):
        services.initiative_create(agreement=agreement, by=user, title="X", goals=[cascade.goal_1])
    with pytest.raises(PermissionDenied):
        services.initiative_update(
            initiative=initiative, by=user, title="X", goals=[cascade.goal_1]
        )
    with pytest.raises(PermissionDenied):
        services.initiative_delete(initiative=initiative, by=user)
    with pytest.raises(PermissionDenied):
        services.agreement_update(agreement=agreement, by=user, summary="X")

    assert row_counts() == before


def test_initiatives_of_a_submitted_agreement_cannot_be_changed(org, cascade, agreement):
    submitted(agreement, org)
    initiative = agreement.initiatives.get()

    with pytest.raises(ValidationError):
        services.initiative_create(
            agreement=agreement, by=org.head, title="Late", goals=[cascade.goal_1]
        )
    with pytest.raises(ValidationError):
        services.initiative_update(
            initiative=initiative, by=org.head, title="Late", goals=[cascade.goal_1]
        )
    with pytest.raises(ValidationError):
        services.initiative_delete(initiative=initiative, by=org.head)
    with pytest.raises(ValidationError):
        services.agreement_update(agreement=agreement, by=org.head, summary="Late")
    assert Initiative.objects.get().title == "Early health talks"


# Workflow --------------------------------------------------------------------------------


def test_an_agreement_goes_from_draft_to_submitted_to_agreed_to_published(org, agreement):
    services.agreement_submit(agreement=agreement, by=org.head)
    assert fresh(agreement).state == AgreementState.SUBMITTED
    assert fresh(agreement).submitted_at is not None

    services.agreement_agree(agreement=agreement, by=org.parent_head)
    stored = fresh(agreement)
    assert stored.state == AgreementState.AGREED
    assert stored.agreed_by == org.parent_head
    assert stored.agreed_at is not None
    version = stored.versions.get()
    assert version.number == 1
    assert version.state == AgreementState.AGREED
    assert [i["title"] for i in version.content["initiatives"]] == ["Early health talks"]

    services.agreement_publish(agreement=agreement, by=org.head)
    stored = fresh(agreement)
    assert stored.state == AgreementState.PUBLISHED
    assert stored.published_at is not None
    assert stored.versions.get().state == AgreementState.PUBLISHED


def test_every_step_is_in_the_history_with_the_person_who_took_it(org, agreement):
    services.agreement_update(agreement=agreement, by=org.head, summary="Sharper")
    published(agreement, org)

    rows = list(agreement.history.order_by("history_date", "history_id"))
    assert [(r.state, r.history_user) for r in rows[-3:]] == [
        (AgreementState.SUBMITTED, org.head),
        (AgreementState.AGREED, org.parent_head),
        (AgreementState.PUBLISHED, org.head),
    ]
    assert [r.history_change_reason for r in rows[-3:]] == ["submitted", "agreed", "published"]
    summary_change = rows[-4]
    assert summary_change.summary == "Sharper"
    assert summary_change.history_user == org.head


def test_the_executive_board_may_agree_any_agreement(org, agreement):
    submitted(agreement, org)
    services.agreement_agree(agreement=agreement, by=org.executive)
    assert fresh(agreement).state == AgreementState.AGREED


def test_an_agreement_without_initiatives_cannot_be_submitted(org, agreement):
    agreement.initiatives.all().delete()

    with pytest.raises(ValidationError):
        services.agreement_submit(agreement=agreement, by=org.head)
    assert fresh(agreement).state == AgreementState.DRAFT


def test_the_approver_returns_a_submitted_agreement_with_a_comment(org, agreement):
    submitted(agreement, org)

    services.agreement_return(
        agreement=agreement, by=org.parent_head, comment="  Link an initiative to theme 2.  "
    )

    assert fresh(agreement).state == AgreementState.DRAFT
    last = agreement.history.order_by("-history_date", "-history_id").first()
    assert last.history_user == org.parent_head
    assert last.history_change_reason == "Link an initiative to theme 2."
    # The unit can edit again.
    services.agreement_update(agreement=fresh(agreement), by=org.head, summary="Fixed")


def test_returning_needs_a_comment(org, agreement):
    submitted(agreement, org)

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_return(agreement=agreement, by=org.parent_head, comment="   ")

    assert "comment" in excinfo.value.message_dict
    assert fresh(agreement).state == AgreementState.SUBMITTED


@pytest.mark.parametrize(
    ("step", "prepare"),
    [
        ("agree", None),
        ("publish", "submitted"),
        ("return", None),
        ("revise", None),
        ("submit", "submitted"),
    ],
)
def test_a_step_from_the_wrong_state_is_refused(org, agreement, step, prepare):
    if prepare == "submitted":
        submitted(agreement, org)
    state = fresh(agreement).state
    call = {
        "agree": lambda: services.agreement_agree(agreement=agreement, by=org.parent_head),
        "publish": lambda: services.agreement_publish(agreement=agreement, by=org.head),
        "return": lambda: services.agreement_return(
            agreement=agreement, by=org.parent_head, comment="No"
        ),
        "revise": lambda: services.agreement_revise(agreement=agreement, by=org.head),
        "submit": lambda: services.agreement_submit(agreement=agreement, by=org.head),
    }[step]

    with pytest.raises(ValidationError):
        call()
    assert fresh(agreement).state == state


def test_a_unit_head_cannot_agree_their_own_agreement(org, agreement):
    submitted(agreement, org)

    with pytest.raises(PermissionDenied):
        services.agreement_agree(agreement=agreement, by=org.head)
    assert fresh(agreement).state == AgreementState.SUBMITTED
    assert not AgreementVersion.objects.exists()


@pytest.mark.parametrize("who", ["head", "employee", "colleague", "outsider", "office"])
def test_only_a_head_above_or_the_executive_board_agrees_or_returns(org, agreement, who):
    submitted(agreement, org)
    user = getattr(org, who)

    with pytest.raises(PermissionDenied):
        services.agreement_agree(agreement=agreement, by=user)
    with pytest.raises(PermissionDenied):
        services.agreement_return(agreement=agreement, by=user, comment="Redo it")
    assert fresh(agreement).state == AgreementState.SUBMITTED


@pytest.mark.parametrize("who", ["employee", "colleague", "outsider", "executive"])
def test_only_the_unit_head_or_one_above_submits(org, agreement, who):
    with pytest.raises(PermissionDenied):
        services.agreement_submit(agreement=agreement, by=getattr(org, who))
    assert fresh(agreement).state == AgreementState.DRAFT


@pytest.mark.parametrize("who", ["employee", "colleague", "outsider"])
def test_only_the_unit_or_its_approvers_publish(org, agreement, who):
    agreed(agreement, org)

    with pytest.raises(PermissionDenied):
        services.agreement_publish(agreement=agreement, by=getattr(org, who))
    assert fresh(agreement).state == AgreementState.AGREED


@pytest.mark.parametrize("who", ["employee", "colleague", "outsider", "executive"])
def test_only_those_who_write_for_the_unit_start_a_revision(org, agreement, who):
    published(agreement, org)

    with pytest.raises(PermissionDenied):
        services.agreement_revise(agreement=agreement, by=getattr(org, who))
    assert fresh(agreement).state == AgreementState.PUBLISHED


def test_a_revision_keeps_the_published_version_readable(org, cascade, agreement):
    published(agreement, org)

    services.agreement_revise(agreement=agreement, by=org.head)
    initiative = agreement.initiatives.get()
    services.initiative_update(
        initiative=initiative, by=org.head, title="Health talks, revised", goals=[cascade.goal_2]
    )
    services.initiative_create(
        agreement=agreement, by=org.head, title="A new idea", goals=[cascade.goal_3]
    )

    stored = fresh(agreement)
    assert stored.state == AgreementState.DRAFT
    version = stored.versions.get()
    assert version.state == AgreementState.PUBLISHED
    assert version.content["initiatives"][0]["title"] == "Early health talks"

    seen_by_employee = readable_agreement(org.employee, stored)
    assert seen_by_employee is not None
    assert not seen_by_employee.live
    assert seen_by_employee.version == version
    assert [i.title for i in seen_by_employee.initiatives] == ["Early health talks"]
    assert seen_by_employee.initiatives[0].goals == [cascade.goal_1]

    seen_by_head = readable_agreement(org.head, stored)
    assert seen_by_head.live
    assert [i.title for i in seen_by_head.initiatives] == ["Health talks, revised", "A new idea"]


def test_agreeing_a_revision_adds_a_second_version(org, cascade, agreement):
    published(agreement, org)
    services.agreement_revise(agreement=agreement, by=org.head)
    InitiativeFactory(agreement=agreement, title="Second round", goals=[cascade.goal_2])

    agreed(agreement, org)

    versions = list(fresh(agreement).versions.order_by("number"))
    assert [(v.number, v.state) for v in versions] == [
        (1, AgreementState.PUBLISHED),
        (2, AgreementState.AGREED),
    ]
    # Until the revision is published, employees still read version 1.
    view = readable_agreement(org.employee, fresh(agreement))
    assert view.version == versions[0]

    services.agreement_publish(agreement=agreement, by=org.head)
    view = readable_agreement(org.employee, fresh(agreement))
    assert view.live
    assert {i.title for i in view.initiatives} == {"Early health talks", "Second round"}
