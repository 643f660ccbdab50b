"""Comments on agreements, initiatives and goals: plain text, @mentions, e-mail, permissions."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from pejling.agreements import services as agreement_services
from pejling.agreements.models import Agreement, AgreementState
from pejling.followup import services
from pejling.followup.models import Comment
from pejling.followup.services import mentioned_usernames
from pejling.organisation.models import Role
from pejling.strategy.models import StrategyStatus
from tests.factories import YEAR, CommentFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = IMMEDIATE


def publish(agreement: Agreement, org: Any) -> Agreement:
    agreement_services.agreement_submit(agreement=agreement, by=org.head)
    agreement_services.agreement_agree(agreement=agreement, by=org.parent_head)
    agreement_services.agreement_publish(agreement=agreement, by=org.head)
    return agreement


def agreement_url(org: Any) -> str:
    return reverse("agreements:agreement_detail", args=[org.unit.code, YEAR])


def comments_url(org: Any) -> str:
    """The fragment the agreement page loads its thread from (a link without JavaScript)."""
    return reverse("followup:agreement_comments", args=[org.unit.code, YEAR])


# Mentions ----------------------------------------------------------------------------------------


def test_mentions_are_read_from_the_text_without_punctuation_or_e_mail_addresses() -> None:
    text = "Thanks @head! Ask @parent_head, or mail per@example.org.\n@maria.lind. @head again"
    assert mentioned_usernames(text) == ["head", "parent_head", "maria.lind"]


def test_a_comment_keeps_plain_text_and_the_mentions_of_existing_people_only(
    org, agreement, immediate_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        comment = services.comment_add(
            by=org.head,
            body="  @parent_head can you look? @nobody_here @executive  ",
            agreement=agreement,
        )

    comment.refresh_from_db()
    assert comment.body == "@parent_head can you look? @nobody_here @executive"
    assert comment.author == org.head
    assert comment.agreement == agreement
    assert set(comment.mentions.all()) == {org.parent_head, org.executive}
    assert comment.history.get().history_user == org.head


def test_each_mentioned_person_gets_an_e_mail_from_the_background_task(
    org, agreement, immediate_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.comment_add(
            by=org.head,
            body="@parent_head and @executive: the budget is late.",
            agreement=agreement,
        )

    assert len(callbacks) == 1
    assert sorted(m.to[0] for m in mail.outbox) == [
        org.executive.email,
        org.parent_head.email,
    ]
    message = next(m for m in mail.outbox if m.to == [org.parent_head.email])
    assert "the budget is late." in message.body
    assert "Hanna Head" in message.subject


def test_no_e_mail_is_sent_before_the_comment_is_committed(
    org, agreement, immediate_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.comment_add(by=org.head, body="@parent_head look", agreement=agreement)
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_the_author_and_people_who_cannot_read_the_subject_are_not_e_mailed(
    org, agreement, immediate_tasks, django_capture_on_commit_callbacks
):
    """The agreement is a draft: the outsider and the sibling unit's head may not read it."""
    with django_capture_on_commit_callbacks(execute=True):
        comment = services.comment_add(
            by=org.head,
            body="Note to self @head; @outsider @colleague @parent_head",
            agreement=agreement,
        )

    assert set(comment.mentions.all()) == {org.head, org.outsider, org.colleague, org.parent_head}
    assert [m.to for m in mail.outbox] == [[org.parent_head.email]]


def test_a_comment_without_mentions_enqueues_nothing(
    org, agreement, immediate_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.comment_add(by=org.head, body="No one to tell.", agreement=agreement)
    assert callbacks == []
    assert mail.outbox == []


# Permissions and subjects -------------------------------------------------------------------------


def test_anyone_who_can_read_the_agreement_can_comment_and_no_one_else(org, cascade, agreement):
    with pytest.raises(PermissionDenied):
        services.comment_add(by=org.employee, body="Draft?", agreement=agreement)
    with pytest.raises(PermissionDenied):
        services.comment_add(by=org.outsider, body="Draft?", agreement=agreement)
    services.comment_add(by=org.parent_head, body="Looks good", agreement=agreement)

    publish(agreement, org)
    services.comment_add(by=org.employee, body="Nice", agreement=agreement)
    services.comment_add(by=org.outsider, body="Public now", agreement=agreement)
    assert Comment.objects.filter(agreement=agreement).count() == 3


def test_an_initiatives_comment_follows_its_agreements_readers(org, agreement):
    initiative = agreement.initiatives.get()
    with pytest.raises(PermissionDenied):
        services.comment_add(by=org.employee, body="?", initiative=initiative)
    comment = services.comment_add(by=org.head, body="On it", initiative=initiative)
    assert comment.initiative == initiative


def test_a_goal_of_a_published_strategy_can_be_commented_by_everyone(org, cascade):
    comment = services.comment_add(
        by=org.employee, body="How is this measured?", goal=cascade.goal_1
    )
    assert comment.goal == cascade.goal_1
    cascade.group.status = StrategyStatus.DRAFT
    cascade.group.save()
    goal = type(cascade.goal_1).objects.select_related("strategy").get(pk=cascade.goal_1.pk)
    with pytest.raises(PermissionDenied):
        services.comment_add(by=org.employee, body="?", goal=goal)
    services.comment_add(by=org.office, body="Drafting", goal=goal)


def test_a_comment_is_about_exactly_one_thing(org, agreement):
    with pytest.raises(ValidationError):
        services.comment_add(by=org.head, body="About nothing")
    with pytest.raises(ValidationError):
        services.comment_add(
            by=org.head,
            body="Two things",
            agreement=agreement,
            initiative=agreement.initiatives.get(),
        )


@pytest.mark.parametrize("body", ["", "   \n  ", "x" * 4001])
def test_an_empty_or_overlong_comment_is_refused(org, agreement, body):
    with pytest.raises(ValidationError):
        services.comment_add(by=org.head, body=body, agreement=agreement)
    assert not Comment.objects.exists()


def test_a_reply_joins_its_threads_subject_and_replies_nest_one_level(org, agreement):
    first = services.comment_add(by=org.head, body="Question", agreement=agreement)
    reply = services.comment_add(by=org.parent_head, body="Answer", parent=first)
    reply_to_reply = services.comment_add(by=org.head, body="Thanks", parent=reply)

    assert reply.agreement == agreement and reply.parent == first
    assert reply_to_reply.parent == first
    assert reply_to_reply.agreement == agreement
    with pytest.raises(ValidationError):
        services.comment_add(
            by=org.head, body="Wrong", parent=first, initiative=agreement.initiatives.get()
        )


# Pages ---------------------------------------------------------------------------------------------


def test_html_in_a_comment_is_escaped_and_links_are_made_safe(client, org, agreement):
    CommentFactory(
        author=org.head,
        agreement=agreement,
        body='<script>alert("x")</script> <b>bold</b>\nSee https://example.org/plan?a=1&b=2',
    )
    client.force_login(org.head)

    html = client.get(comments_url(org), headers={"HX-Request": "true"}).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;<br>" in html
    assert '<a href="https://example.org/plan?a=1&amp;b=2" rel="nofollow">' in html


def test_the_agreement_page_shows_its_thread_with_replies_and_a_form(client, org, agreement):
    first = CommentFactory(author=org.parent_head, agreement=agreement, body="Is the budget set?")
    CommentFactory(author=org.head, agreement=agreement, parent=first, body="Yes, in March.")
    client.force_login(org.head)

    page = client.get(agreement_url(org)).content.decode()
    assert f'hx-get="{comments_url(org)}"' in page and f'href="{comments_url(org)}"' in page
    response = client.get(comments_url(org), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "Is the budget set?" in html and "Yes, in March." in html
    assert f'name="next" value="{agreement_url(org)}"' in html
    assert f'id="comment-{first.pk}"' in html
    assert reverse("reports:comment_add") in html
    assert f'name="agreement" value="{agreement.pk}"' in html
    assert f'name="parent" value="{first.pk}"' in html
    # Without JavaScript the same URL is a page of its own.
    assert "<html" in client.get(comments_url(org)).content.decode()


def test_the_thread_fragment_is_404_alike_for_an_unreadable_and_a_missing_agreement(
    client, org, agreement
):
    CommentFactory(author=org.head, agreement=agreement, body="Internal draft talk")
    client.force_login(org.employee)
    assert client.get(comments_url(org)).status_code == 404
    missing = reverse("followup:agreement_comments", args=[org.unit.code, YEAR + 5])
    assert client.get(missing).status_code == 404


def test_posting_a_comment_goes_back_to_the_page_it_was_written_on(
    client, org, agreement, immediate_tasks, django_capture_on_commit_callbacks
):
    client.force_login(org.head)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:comment_add"),
            {
                "agreement": agreement.pk,
                "body": "@parent_head please agree",
                "next": agreement_url(org),
            },
        )

    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{agreement_url(org)}#comment-{comment.pk}"
    assert [m.to for m in mail.outbox] == [[org.parent_head.email]]


def test_a_next_address_on_another_site_is_ignored(client, org, agreement):
    client.force_login(org.head)
    response = client.post(
        reverse("reports:comment_add"),
        {"agreement": agreement.pk, "body": "Hello", "next": "https://evil.example/phish"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(agreement_url(org) + "#comment-")


def test_a_reply_posted_through_the_page_joins_the_thread(client, org, agreement):
    first = CommentFactory(author=org.parent_head, agreement=agreement)
    client.force_login(org.head)
    client.post(
        reverse("reports:comment_add"),
        {"parent": first.pk, "body": "Agreed", "next": agreement_url(org)},
    )
    reply = Comment.objects.get(body="Agreed")
    assert (reply.parent, reply.agreement) == (first, agreement)


def test_an_empty_comment_posted_through_the_page_is_explained(client, org, agreement):
    client.force_login(org.head)
    response = client.post(
        reverse("reports:comment_add"),
        {"agreement": agreement.pk, "body": " ", "next": agreement_url(org)},
        follow=True,
    )
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert not Comment.objects.exists()


def test_someone_who_cannot_read_the_agreement_gets_403_and_no_comment(client, org, agreement):
    client.force_login(org.employee)
    response = client.post(
        reverse("reports:comment_add"), {"agreement": agreement.pk, "body": "Let me in"}
    )
    assert response.status_code == 403
    assert not Comment.objects.exists()


def test_the_comment_endpoint_only_takes_posts(client, org):
    client.force_login(org.head)
    assert client.get(reverse("reports:comment_add")).status_code == 405


def test_the_report_page_has_a_thread_per_initiative(client, org, agreement):
    from tests.factories import ReportDeadlineFactory

    agreement.state = AgreementState.AGREED
    agreement.save()
    initiative = agreement.initiatives.get()
    CommentFactory(author=org.parent_head, initiative=initiative, body="How is it going?")
    deadline = ReportDeadlineFactory()
    reader = UserFactory(username="reader")
    MembershipFactory(user=reader, unit=org.unit, role=Role.READER)
    client.force_login(org.head)

    html = client.get(
        reverse("reports:report_period", args=[org.unit.code, deadline.pk])
    ).content.decode()

    assert "How is it going?" in html
    assert f'name="initiative" value="{initiative.pk}"' in html
