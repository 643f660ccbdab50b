"""Pages through the Django test client: who gets in, what they see, what a post changes.

Assertions on text use what the app itself renders (form errors, messages, translations), so
they hold whichever language the catalogues give the interface.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.messages import constants as message_levels
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from pejling.agreements import services
from pejling.agreements.models import Agreement, AgreementState, Initiative, InitiativeGoal
from pejling.strategy.models import Strategy, StrategyLevel, StrategyStatus
from tests.factories import YEAR, AgreementFactory, InitiativeFactory

pytestmark = pytest.mark.django_db


def login(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


def publish(agreement: Agreement, org: Any) -> Agreement:
    services.agreement_submit(agreement=agreement, by=org.head)
    services.agreement_agree(agreement=agreement, by=org.parent_head)
    services.agreement_publish(agreement=agreement, by=org.head)
    return agreement


def messages_of(response: Any) -> list[Any]:
    return list(response.context["messages"])


def state_of(agreement: Agreement) -> str:
    return Agreement.objects.get(pk=agreement.pk).state


@pytest.fixture
def urls(org: Any, cascade: Any, agreement: Agreement) -> dict[str, str]:
    """Every page, for a published agreement with one version."""
    publish(agreement, org)
    unit, year = org.unit.code, YEAR
    initiative = agreement.initiatives.get()
    return {
        "home": reverse("home"),
        "unit_list": reverse("organisation:unit_list"),
        "unit_detail": reverse("organisation:unit_detail", args=[unit]),
        "strategy_list": reverse("strategy:strategy_list"),
        "strategy_detail": reverse("strategy:strategy_detail", args=[cascade.group.code]),
        "strategy_history": reverse("strategy:strategy_history", args=[cascade.group.code]),
        "element_detail": reverse(
            "strategy:element_detail", args=[cascade.group.code, cascade.goal_1.pk]
        ),
        "agreement_list": reverse("agreements:agreement_list") + f"?year={year}",
        "agreement_detail": reverse("agreements:agreement_detail", args=[unit, year]),
        "agreement_version": reverse("agreements:agreement_version", args=[unit, year, 1]),
        "agreement_history": reverse("agreements:agreement_history", args=[unit, year]),
        "initiative_create": reverse("agreements:initiative_create", args=[unit, year]),
        "initiative_edit": reverse("agreements:initiative_edit", args=[unit, year, initiative.pk]),
    }


# Logging in ------------------------------------------------------------------------------


def test_every_page_asks_an_anonymous_visitor_to_log_in(client, urls):
    login_url = reverse(settings.LOGIN_URL)
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(f"{login_url}?next="), name


def test_the_login_page_and_health_check_are_open(client, db):
    assert client.get(reverse("login")).status_code == 200
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_person_logs_in_with_username_and_password(client, org):
    response = client.post(
        reverse("login"),
        {"username": "employee", "password": "correct horse battery staple"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


# Pages render for the right people --------------------------------------------------------


@pytest.mark.parametrize("who", ["employee", "head", "parent_head", "executive", "office"])
def test_the_reading_pages_render_for_everyone_in_the_organisation(client, org, urls, who):
    login(client, getattr(org, who))
    readable = [
        "home",
        "unit_list",
        "unit_detail",
        "strategy_list",
        "strategy_detail",
        "strategy_history",
        "element_detail",
        "agreement_list",
        "agreement_detail",
        "agreement_version",
    ]
    for name in readable:
        response = client.get(urls[name])
        assert response.status_code == 200, name
        assert b"<html" in response.content, name


def test_the_history_and_initiative_form_render_for_the_unit_head(client, org, urls):
    services.agreement_revise(agreement=Agreement.objects.get(), by=org.head)
    login(client, org.head)
    for name in ("agreement_history", "initiative_create", "initiative_edit"):
        assert client.get(urls[name]).status_code == 200, name


def test_an_employee_cannot_open_the_history_or_the_initiative_form(client, org, urls):
    login(client, org.employee)
    for name in ("agreement_history", "initiative_create", "initiative_edit"):
        assert client.get(urls[name]).status_code == 403, name


def test_the_home_page_shows_the_line_of_sight_of_my_unit(client, org, cascade, agreement):
    publish(agreement, org)
    response = login(client, org.employee).get(reverse("home"))

    sight = response.context["sight"]
    assert sight.unit == org.unit
    content = response.content.decode()
    for text in (
        org.unit.name,
        "Early health talks",
        cascade.goal_1.title,
        cascade.theme_1.title,
        cascade.group.title,
        cascade.narrative.title,
        org.sibling.name,
        org.dept_a1.name,
    ):
        assert escape(text) in content, text


def test_the_home_page_of_someone_without_a_unit_still_renders(client, org):
    response = login(client, org.outsider).get(reverse("home"))
    assert response.status_code == 200
    assert response.context["sight"].unit is None


def test_the_agreement_page_shows_initiatives_goals_and_theme_coverage(
    client, org, cascade, agreement
):
    response = login(client, org.head).get(
        reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])
    )

    content = response.content.decode()
    assert "Early health talks" in content
    assert escape(cascade.goal_1.title) in content
    (coverage,) = response.context["coverage"]
    assert [row.element for row in coverage.missing] == [cascade.theme_2, cascade.theme_3]
    assert response.context["can_edit"]
    assert list(response.context["steps"]) == ["submit"]


def test_an_employee_is_told_a_draft_agreement_is_not_published_yet(client, org, agreement):
    response = login(client, org.employee).get(
        reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])
    )
    assert response.status_code == 404
    assert "Early health talks" not in response.content.decode()
    assert response.context["unpublished"]


def test_a_unit_without_an_agreement_offers_its_head_to_start_one(client, org, cascade):
    url = reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])
    response = login(client, org.head).get(url)
    assert response.status_code == 404
    assert response.context["can_create"]

    response = client.post(reverse("agreements:agreement_create", args=[org.unit.code, YEAR]))
    assert response.status_code == 302
    assert client.get(url).status_code == 200
    assert Agreement.objects.get().history.get().history_user == org.head


def test_during_a_revision_an_employee_reads_the_published_version(client, org, cascade, agreement):
    publish(agreement, org)
    services.agreement_revise(agreement=agreement, by=org.head)
    services.initiative_update(
        initiative=agreement.initiatives.get(),
        by=org.head,
        title="Rewritten",
        goals=[cascade.goal_2],
    )

    response = login(client, org.employee).get(
        reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])
    )

    assert response.status_code == 200
    assert not response.context["view"].live
    content = response.content.decode()
    assert "Early health talks" in content
    assert "Rewritten" not in content


def test_the_strategy_history_shows_changes_to_the_strategy_and_its_elements(client, org, cascade):
    from pejling.strategy import services as strategy_services

    login(client, org.office)
    cascade.group.summary = "Four themes"
    strategy_services.strategy_save(strategy=cascade.group, by=org.office)
    cascade.goal_1.title = "Sick leave falls to 13.5 days"
    strategy_services.element_save(element=cascade.goal_1, by=org.office)

    response = client.get(reverse("strategy:strategy_history", args=[cascade.group.code]))

    assert response.status_code == 200
    changed = {
        (entry.model_label, change.field, change.new)
        for entry in response.context["entries"]
        for change in entry.changes
    }
    assert (str(Strategy._meta.verbose_name), "summary", "Four themes") in changed
    assert (
        str(cascade.goal_1._meta.verbose_name),
        "title",
        "Sick leave falls to 13.5 days",
    ) in changed
    assert all(entry.who == org.office for entry in response.context["entries"] if entry.changes)


def test_the_history_page_names_who_made_each_change(client, org, agreement):
    publish(agreement, org)
    response = login(client, org.head).get(
        reverse("agreements:agreement_history", args=[org.unit.code, YEAR])
    )
    content = response.content.decode()
    assert org.parent_head.get_full_name() in content
    assert org.head.get_full_name() in content
    whos = {entry.who for entry in response.context["entries"]}
    assert {org.head, org.parent_head} <= whos


# The organisation list and its htmx search ---------------------------------------------------


def test_the_organisation_list_shows_the_whole_tree(client, org):
    response = login(client, org.employee).get(reverse("organisation:unit_list"))
    assert response.status_code == 200
    assert len(response.context["units"]) == 10
    assert b"<html" in response.content


def test_the_htmx_search_returns_only_the_matching_fragment(client, org):
    login(client, org.employee)
    response = client.get(
        reverse("organisation:unit_list"), {"q": "Unit A1"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="unit-tree"')
    assert "<html" not in content
    assert "<header" not in content
    assert "Unit A1a" in content
    assert "Unit A1b" in content
    assert "Unit B1a" not in content
    assert [u.code for u in response.context["units"]] == ["unit-a1a", "unit-a1b"]


def test_the_search_without_htmx_returns_the_whole_page(client, org):
    response = login(client, org.employee).get(reverse("organisation:unit_list"), {"q": "b1a"})
    assert b"<html" in response.content
    assert [u.code for u in response.context["units"]] == ["unit-b1a"]


# Strategy office pages --------------------------------------------------------------------


@pytest.fixture
def office_urls(cascade: Any) -> dict[str, str]:
    code = cascade.group.code
    return {
        "strategy_create": reverse("strategy:strategy_create"),
        "strategy_edit": reverse("strategy:strategy_edit", args=[code]),
        "strategy_levels": reverse("strategy:strategy_levels", args=[code]),
        "element_create": reverse("strategy:element_create", args=[code]),
        "element_create_below": reverse("strategy:element_create", args=[code])
        + f"?parent={cascade.theme_1.pk}",
        "element_edit": reverse("strategy:element_edit", args=[code, cascade.goal_1.pk]),
    }


@pytest.mark.parametrize("who", ["employee", "head", "executive", "outsider"])
def test_strategy_office_pages_are_forbidden_to_others(client, org, office_urls, cascade, who):
    login(client, getattr(org, who))
    for name, url in office_urls.items():
        assert client.get(url).status_code == 403, name
        assert client.post(url, {}).status_code == 403, name
    delete = reverse("strategy:element_delete", args=[cascade.group.code, cascade.goal_3.pk])
    assert client.post(delete).status_code == 403
    assert cascade.group.elements.filter(pk=cascade.goal_3.pk).exists()


def test_strategy_office_pages_render_for_the_strategy_office(client, org, office_urls):
    login(client, org.office)
    for name, url in office_urls.items():
        assert client.get(url).status_code == 200, name


def test_a_draft_strategy_is_visible_only_to_the_strategy_office(client, org, cascade):
    cascade.group.status = StrategyStatus.DRAFT
    cascade.group.save()
    url = reverse("strategy:strategy_detail", args=[cascade.group.code])

    assert login(client, org.head).get(url).status_code == 404
    assert cascade.group not in client.get(reverse("strategy:strategy_list")).context["strategies"]
    assert login(client, org.office).get(url).status_code == 200


def test_the_strategy_office_creates_a_strategy_and_names_its_levels(client, org):
    login(client, org.office)
    response = client.post(
        reverse("strategy:strategy_create"),
        {
            "code": "digital",
            "title": "Digital strategy",
            "start_year": 2026,
            "end_year": 2029,
            "status": StrategyStatus.PUBLISHED,
            "position": 3,
        },
    )
    assert response.status_code == 302
    strategy = Strategy.objects.get(code="digital")
    assert response["Location"] == reverse("strategy:strategy_levels", args=["digital"])

    form = {"levels-TOTAL_FORMS": "3", "levels-INITIAL_FORMS": "0"}
    for i, (name, goals) in enumerate([("Focus area", False), ("Goal", True), ("", False)]):
        form[f"levels-{i}-name"] = name
        form[f"levels-{i}-name_plural"] = name + "s" if name else ""
        if goals:
            form[f"levels-{i}-holds_goals"] = "on"
    response = client.post(reverse("strategy:strategy_levels", args=["digital"]), form)

    assert response.status_code == 302
    levels = list(StrategyLevel.objects.filter(strategy=strategy).order_by("depth"))
    assert [(lv.name, lv.holds_goals) for lv in levels] == [("Focus area", False), ("Goal", True)]
    assert strategy.history.get().history_user == org.office


def test_removing_a_used_level_on_the_levels_page_shows_why_and_keeps_it(client, org, cascade):
    login(client, org.office)
    form = {
        "levels-TOTAL_FORMS": "2",
        "levels-INITIAL_FORMS": "2",
        "levels-0-name": "Theme",
        "levels-0-name_plural": "Themes",
        "levels-1-name": "",
        "levels-1-name_plural": "",
    }
    response = client.post(reverse("strategy:strategy_levels", args=[cascade.group.code]), form)

    assert response.status_code == 200
    errors = list(response.context["formset"].non_form_errors()) + list(
        response.context.get("level_errors") or []
    )
    assert len(errors) == 1
    assert "Common goal" in errors[0]
    assert escape(errors[0]) in response.content.decode()
    assert cascade.group.levels.count() == 2


def test_deleting_a_linked_goal_from_the_page_is_refused_with_a_message(
    client, org, cascade, agreement
):
    login(client, org.office)
    response = client.post(
        reverse("strategy:element_delete", args=[cascade.group.code, cascade.goal_1.pk]),
        follow=True,
    )
    (message,) = messages_of(response)
    assert message.level == message_levels.ERROR
    assert cascade.group.elements.filter(pk=cascade.goal_1.pk).exists()


# The initiative form ------------------------------------------------------------------------


def initiative_post(goals: list[Any], **fields: Any) -> dict[str, Any]:
    data = {
        "title": "Digital onboarding",
        "description": "",
        "owner": "",
        "start_date": f"{YEAR}-02-01",
        "end_date": f"{YEAR}-06-30",
        "status": "planned",
        "goals": [g.pk for g in goals],
    }
    data.update(fields)
    return data


def test_the_initiative_form_saves_an_initiative_with_its_goals(client, org, cascade, agreement):
    login(client, org.head)
    response = client.post(
        reverse("agreements:initiative_create", args=[org.unit.code, YEAR]),
        initiative_post([cascade.goal_2, cascade.goal_3], owner=org.employee.pk),
        follow=True,
    )

    assert response.redirect_chain[-1][0] == agreement.get_absolute_url()
    initiative = Initiative.objects.get(title="Digital onboarding")
    assert set(initiative.goals.all()) == {cascade.goal_2, cascade.goal_3}
    assert initiative.owner == org.employee
    assert initiative.history.get().history_user == org.head
    (message,) = messages_of(response)
    assert message.level == message_levels.SUCCESS


def test_the_initiative_form_shows_why_a_goal_outside_the_year_is_refused(
    client, org, cascade, agreement
):
    before = (Initiative.objects.count(), InitiativeGoal.objects.count())
    login(client, org.head)

    response = client.post(
        reverse("agreements:initiative_create", args=[org.unit.code, YEAR]),
        initiative_post([cascade.goal_1, cascade.old_goal]),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["goals"]
    assert len(errors) == 1
    assert cascade.old_goal.title in errors[0]
    content = response.content.decode()
    assert 'id="goals-errors"' in content
    assert escape(errors[0]) in content
    # What was typed and ticked is kept for the next attempt.
    assert response.context["selected_goals"] == {cascade.goal_1.pk, cascade.old_goal.pk}
    assert (Initiative.objects.count(), InitiativeGoal.objects.count()) == before


def test_the_initiative_form_refuses_an_end_before_the_start(client, org, cascade, agreement):
    before = (Initiative.objects.count(), InitiativeGoal.objects.count())
    login(client, org.head)

    response = client.post(
        reverse("agreements:initiative_create", args=[org.unit.code, YEAR]),
        initiative_post([cascade.goal_1], start_date=f"{YEAR}-06-01", end_date=f"{YEAR}-05-01"),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["end_date"]
    assert errors
    assert escape(errors[0]) in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert (Initiative.objects.count(), InitiativeGoal.objects.count()) == before


def test_the_initiative_form_asks_for_at_least_one_goal(client, org, cascade, agreement):
    login(client, org.head)
    response = client.post(
        reverse("agreements:initiative_create", args=[org.unit.code, YEAR]), initiative_post([])
    )
    assert response.status_code == 200
    assert response.context["form"].errors["goals"]
    assert not Initiative.objects.filter(title="Digital onboarding").exists()


def test_editing_an_initiative_with_a_bad_goal_changes_nothing(client, org, cascade, agreement):
    initiative = agreement.initiatives.get()
    login(client, org.head)

    response = client.post(
        reverse("agreements:initiative_edit", args=[org.unit.code, YEAR, initiative.pk]),
        initiative_post([cascade.theme_2], title="Renamed"),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["goals"]
    initiative.refresh_from_db()
    assert initiative.title == "Early health talks"
    assert list(initiative.goals.all()) == [cascade.goal_1]


def test_a_colleague_cannot_post_to_another_units_initiative_form(client, org, cascade, agreement):
    login(client, org.colleague)
    response = client.post(
        reverse("agreements:initiative_create", args=[org.unit.code, YEAR]),
        initiative_post([cascade.goal_1]),
    )
    assert response.status_code == 403
    assert Initiative.objects.count() == 1


# Workflow through the pages ----------------------------------------------------------------


def transition(client: Any, org: Any, action: str, **data: Any) -> Any:
    url = reverse("agreements:agreement_transition", args=[org.unit.code, YEAR, action])
    return client.post(url, data, follow=True)


def test_the_workflow_runs_through_the_pages(client, org, agreement):
    response = transition(login(client, org.head), org, "submit")
    assert messages_of(response)[0].level == message_levels.SUCCESS
    assert state_of(agreement) == AgreementState.SUBMITTED

    response = transition(login(client, org.parent_head), org, "agree")
    assert messages_of(response)[0].level == message_levels.SUCCESS
    assert state_of(agreement) == AgreementState.AGREED

    response = transition(login(client, org.head), org, "publish")
    assert state_of(agreement) == AgreementState.PUBLISHED
    assert response.context["view"].live

    response = transition(client, org, "revise")
    assert state_of(agreement) == AgreementState.DRAFT
    assert [v.number for v in response.context["versions"]] == [1]


def test_the_approver_returns_the_agreement_with_a_comment(client, org, agreement):
    services.agreement_submit(agreement=agreement, by=org.head)
    login(client, org.parent_head)

    response = transition(client, org, "return", comment="")
    assert messages_of(response)[0].level == message_levels.ERROR
    assert state_of(agreement) == AgreementState.SUBMITTED

    response = transition(client, org, "return", comment="Cover theme 2 as well.")
    assert messages_of(response)[0].level == message_levels.SUCCESS
    assert state_of(agreement) == AgreementState.DRAFT
    assert agreement.history.latest("history_date").history_change_reason == (
        "Cover theme 2 as well."
    )


@pytest.mark.parametrize(
    ("who", "action", "state"),
    [
        ("head", "agree", AgreementState.SUBMITTED),  # a unit head cannot agree their own
        ("colleague", "agree", AgreementState.SUBMITTED),
        ("head", "return", AgreementState.SUBMITTED),
        ("employee", "submit", AgreementState.DRAFT),
        ("colleague", "submit", AgreementState.DRAFT),
        ("executive", "submit", AgreementState.DRAFT),
    ],
)
def test_a_step_by_the_wrong_person_shows_an_error_and_changes_nothing(
    client, org, agreement, who, action, state
):
    if state == AgreementState.SUBMITTED:
        services.agreement_submit(agreement=agreement, by=org.head)
    history_rows = agreement.history.count()
    login(client, getattr(org, who))

    response = transition(client, org, action, comment="Not mine to return")

    (message,) = messages_of(response)
    assert message.level == message_levels.ERROR
    assert escape(str(message)) in response.content.decode()
    assert state_of(agreement) == state
    assert agreement.history.count() == history_rows


def test_a_step_in_the_wrong_state_shows_an_error(client, org, agreement):
    response = transition(login(client, org.parent_head), org, "agree")
    (message,) = messages_of(response)
    assert message.level == message_levels.ERROR
    assert state_of(agreement) == AgreementState.DRAFT


def test_an_unknown_step_is_not_found(client, org, agreement):
    login(client, org.head)
    url = reverse("agreements:agreement_transition", args=[org.unit.code, YEAR, "approve"])
    assert client.post(url).status_code == 404


# Language and number formats ------------------------------------------------------------


def test_set_language_switches_the_interface_to_danish(client, org):
    login(client, org.employee)
    response = client.post(reverse("set_language"), {"language": "da", "next": reverse("home")})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "da"

    page = client.get(reverse("home")).content.decode()
    assert '<html lang="da"' in page
    catalogue = Path(settings.LOCALE_PATHS[0]) / "da" / "LC_MESSAGES" / "django.mo"
    if catalogue.exists():  # the translations are there: the page speaks Danish
        with translation.override("da"):
            danish = translation.gettext("My part of the whole")
        assert danish != "My part of the whole"
        assert escape(danish) in page


def test_swedish_is_the_default_language(client, org):
    page = login(client, org.employee).get(reverse("home")).content.decode()
    assert f'<html lang="{settings.LANGUAGE_CODE}"' in page


def test_a_baseline_of_14_9_is_written_14_comma_9_in_swedish(client, org, cascade):
    login(client, org.employee)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"

    strategy_page = client.get(reverse("strategy:strategy_detail", args=[cascade.group.code]))
    element_page = client.get(
        reverse("strategy:element_detail", args=[cascade.group.code, cascade.goal_1.pk])
    )

    for response in (strategy_page, element_page):
        content = response.content.decode()
        assert "14,9" in content
        assert "13,5" in content
        assert "14.9" not in content


def test_the_same_baseline_is_written_14_point_9_in_english(client, org, cascade):
    login(client, org.employee)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    content = client.get(
        reverse("strategy:strategy_detail", args=[cascade.group.code])
    ).content.decode()
    assert "14.9" in content
    assert "14,9" not in content


# Reading rules on the list pages ---------------------------------------------------------


def test_the_agreement_list_shows_only_what_the_person_may_read(client, org, cascade, agreement):
    other = AgreementFactory(unit=org.unit_b1a)
    InitiativeFactory(agreement=other, goals=[cascade.goal_2])
    url = reverse("agreements:agreement_list") + f"?year={YEAR}"

    assert list(login(client, org.employee).get(url).context["agreements"]) == []
    assert list(login(client, org.parent_head).get(url).context["agreements"]) == [agreement]
    assert set(login(client, org.office).get(url).context["agreements"]) == {agreement, other}

    filtered = client.get(url + "&state=submitted").context["agreements"]
    assert list(filtered) == []
