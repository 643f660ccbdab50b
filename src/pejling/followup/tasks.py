"""Background tasks of follow-up (``django.tasks``; run by ``pejling db_worker``)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.utils import translation
from django.utils.translation import gettext as _

from pejling.core.utils import person_name
from pejling.followup.models import Comment
from pejling.followup.permissions import can_read_subject


def _subject_label(comment: Comment) -> str:
    if comment.agreement is not None:
        return _("the annual agreement %(agreement)s") % {"agreement": comment.agreement}
    if comment.initiative is not None:
        return _("the initiative “%(title)s” (%(agreement)s)") % {
            "title": comment.initiative.title,
            "agreement": comment.initiative.agreement,
        }
    if comment.goal is not None:
        return _("the goal “%(title)s”") % {"title": comment.goal.title}
    return ""


@task()
def notify_mentions(comment_id: int) -> int:
    """E-mail each person mentioned in the comment who may read what it is about (not its
    author, not people without an e-mail address). Returns the number of e-mails sent."""
    comment = (
        Comment.objects.select_related(
            "author",
            "goal__strategy",
            "initiative__agreement__unit",
            "agreement__unit",
        )
        .filter(pk=comment_id)
        .first()
    )
    if comment is None:
        return 0
    author = comment.author
    author_name = person_name(author) if author else "?"
    sent = 0
    for user in comment.mentions.filter(is_active=True).order_by("pk"):
        if author is not None and user.pk == author.pk:
            continue
        if not user.email or not can_read_subject(
            user, goal=comment.goal, initiative=comment.initiative, agreement=comment.agreement
        ):
            continue
        with translation.override(settings.LANGUAGE_CODE):
            subject_label = _subject_label(comment)
            send_mail(
                subject=_("Pejling: %(author)s mentioned you") % {"author": author_name},
                message="\n".join(
                    [
                        _("Hello %(name)s,") % {"name": person_name(user)},
                        "",
                        _("%(author)s mentioned you in a comment on %(subject)s:")
                        % {"author": author_name, "subject": subject_label},
                        "",
                        comment.body,
                    ]
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[user.email],
            )
        sent += 1
    return sent
