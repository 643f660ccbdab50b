"""Pages of the portfolio's front half: challenges and their journeys, workshops, leadership
teams and their meetings. Views parse, check permission, call a service or selector, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pejling.core.export import Table, requested_format, table_download
from pejling.core.forms import add_validation_error
from pejling.core.history import ConcurrentEditError
from pejling.core.utils import int_param, require
from pejling.organisation.models import Unit
from pejling.portfolio import permissions, services
from pejling.portfolio.forms import (
    ChallengeForm,
    ChallengeRows,
    CommentForm,
    DecisionRowForm,
    MeetingForm,
    StepForm,
    TeamForm,
    WorkshopForm,
)
from pejling.portfolio.models import (
    Challenge,
    ChallengeKind,
    ChallengeState,
    Decision,
    JourneyStep,
    LeadershipTeam,
    Meeting,
    Workshop,
)
from pejling.portfolio.selectors import challenge_funnel, challenge_list
from pejling.portfolio.services import ChallengeInput, DecisionInput, StepInput
from pejling.strategy.models import Element

FUNNEL_LABELS = {
    "submitted": gettext_lazy("Submitted"),
    "considered": gettext_lazy("Taken up by a leadership team"),
    "assigned": gettext_lazy("Assigned"),
    "test": gettext_lazy("Tested"),
    "implement": gettext_lazy("Implemented"),
    "in_operation": gettext_lazy("In operation"),
}


# Challenges ---------------------------------------------------------------------------------


def challenge_index(request: HttpRequest) -> HttpResponse:
    """The funnel and the list of challenges and ideas, with filters; ``?format=xlsx``."""
    require(permissions.can_read_portfolio(request.user))
    unit = Unit.objects.filter(code=request.GET.get("unit", "")).first()
    goal = Element.objects.filter(pk=int_param(request.GET.get("goal")) or 0).first()
    kind = request.GET.get("kind", "")
    kind = kind if kind in ChallengeKind.values else ""
    state = request.GET.get("state", "")
    state = state if state in ChallengeState.values else ""
    q = request.GET.get("q", "").strip()[:100]
    challenges = challenge_list(kind=kind, state=state, unit=unit, goal=goal, q=q)
    if requested_format(request) and not request.GET.get("table"):
        return table_download(
            request,
            Table(
                title=_("Challenges and ideas"),
                headers=[
                    _("Title"),
                    _("Kind"),
                    _("Unit"),
                    _("State"),
                    _("Supports"),
                    _("Submitted"),
                    _("Workshop"),
                    _("Themes and goals"),
                ],
                rows=(
                    [
                        c.title,
                        c.get_kind_display(),
                        c.unit.name,
                        c.get_state_display(),
                        c.support_count,  # type: ignore[attr-defined]
                        timezone.localtime(c.created_at).date(),
                        c.workshop.title if c.workshop else "",
                        "; ".join(f"{g.code} {g.title}" for g in c.goals.all()),
                    ]
                    for c in challenges
                ),
            ),
        )
    funnel = challenge_funnel(unit=unit)
    top = funnel.top or 1
    context = {
        "challenges": challenges,
        "funnel": funnel,
        "funnel_rows": [
            (FUNNEL_LABELS[s.key], s.count, round(s.count * 100 / top)) for s in funnel.steps
        ],
        "units": Unit.objects.order_by("path"),
        "goals": Element.objects.filter(challenges__isnull=False).distinct().order_by("code"),
        "kinds": ChallengeKind.choices,
        "states": ChallengeState.choices,
        "filters": {"unit": unit, "goal": goal, "kind": kind, "state": state, "q": q},
        "can_submit": permissions.can_submit_challenge(request.user),
        "can_record_workshop": permissions.can_record_workshop(request.user),
        "query": request.GET.urlencode(),
    }
    return render(request, "portfolio/challenge_list.html", context)


def _challenge_input(data: dict[str, Any]) -> ChallengeInput:
    return ChallengeInput(
        kind=data["kind"],
        title=data["title"],
        description=data["description"],
        unit=data["unit"],
        goals=list(data["goals"]),
        links=data["links"],
    )


def challenge_create(request: HttpRequest) -> HttpResponse:
    require(permissions.can_submit_challenge(request.user))
    form = ChallengeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            challenge = services.challenge_submit(
                by=request.user, data=_challenge_input(form.cleaned_data)
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(
                request, _("Thank you: “%(title)s” was submitted.") % {"title": challenge.title}
            )
            return redirect(challenge)
    return render(request, "portfolio/challenge_form.html", {"form": form, "challenge": None})


def _challenge(pk: int) -> Challenge:
    return get_object_or_404(Challenge.objects.select_related("unit", "submitted_by"), pk=pk)


def challenge_edit(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = _challenge(pk)
    require(permissions.can_edit_challenge(request.user, challenge))
    initial = {
        "kind": challenge.kind,
        "title": challenge.title,
        "description": challenge.description,
        "unit": challenge.unit,
        "goals": list(challenge.goals.all()),
        "links": challenge.links,
    }
    form = ChallengeForm(request.POST or None, initial=initial, version=challenge.version)
    if request.method == "POST" and form.is_valid():
        try:
            services.challenge_update(
                challenge=challenge,
                by=request.user,
                data=_challenge_input(form.cleaned_data),
                expected_version=form.loaded_version(),
            )
        except ConcurrentEditError as exc:
            add_validation_error(form, exc)
            form.show_current_version(exc.current_version)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The challenge was saved."))
            return redirect(challenge)
    return render(request, "portfolio/challenge_form.html", {"form": form, "challenge": challenge})


def challenge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(permissions.can_read_portfolio(request.user))
    challenge = get_object_or_404(
        Challenge.objects.select_related(
            "unit", "submitted_by", "workshop", "merged_into"
        ).prefetch_related(
            "goals__level",
            "journey_steps",
            Prefetch(
                "decisions",
                queryset=Decision.objects.select_related(
                    "team", "decided_by", "unit", "lead", "merged_into", "meeting"
                ).order_by("-decided_on", "-pk"),
            ),
            "comments__author",
        ),
        pk=pk,
    )
    steps = list(challenge.journey_steps.all())
    can_edit = permissions.can_edit_challenge(request.user, challenge)
    assignment = (
        challenge.decisions.model.objects.filter(challenge=challenge, assignment__isnull=False)
        .select_related("assignment")
        .first()
    )
    context = {
        "challenge": challenge,
        "steps": steps,
        "step_count": len(steps),
        "can_edit": can_edit,
        "step_form": StepForm() if can_edit else None,
        "comment_form": CommentForm() if permissions.can_comment(request.user) else None,
        "supports": challenge.supports.count(),
        "supported": challenge.supports.filter(user_id=request.user.pk or 0).exists(),
        "can_support": permissions.can_support(request.user),
        "assignment": assignment.assignment if assignment else None,
    }
    return render(request, "portfolio/challenge_detail.html", context)


@require_POST
def challenge_support(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = _challenge(pk)
    require(permissions.can_support(request.user))
    if request.POST.get("withdraw"):
        services.challenge_unsupport(challenge=challenge, by=request.user)
        messages.success(request, _("Your support was withdrawn."))
    elif services.challenge_support(challenge=challenge, by=request.user):
        messages.success(request, _("You support this challenge."))
    else:
        messages.info(request, _("You already support this challenge."))
    return redirect(challenge)


@require_POST
def challenge_comment(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = _challenge(pk)
    require(permissions.can_comment(request.user))
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.challenge_comment(
                challenge=challenge, by=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Your comment was added."))
    else:
        messages.error(request, _("Write a comment first."))
    return redirect(f"{challenge.get_absolute_url()}#comments")


# Journeys -----------------------------------------------------------------------------------


def _step_input(data: dict[str, Any]) -> StepInput:
    return StepInput(
        actor=data["actor"],
        action=data["action"],
        feeling=data["feeling"],
        pain_point=data["pain_point"],
        opportunity=data["opportunity"],
    )


@require_POST
def step_add(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = _challenge(pk)
    require(permissions.can_edit_challenge(request.user, challenge))
    form = StepForm(request.POST)
    if form.is_valid():
        try:
            services.journey_step_add(
                challenge=challenge, by=request.user, data=_step_input(form.cleaned_data)
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The step was added to the journey."))
            return redirect(f"{challenge.get_absolute_url()}#journey")
    return render(
        request, "portfolio/step_form.html", {"form": form, "challenge": challenge, "step": None}
    )


def _step(pk: int, step_pk: int) -> JourneyStep:
    return get_object_or_404(
        JourneyStep.objects.select_related("challenge__unit"), pk=step_pk, challenge_id=pk
    )


def step_edit(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    step = _step(pk, step_pk)
    challenge = step.challenge
    require(permissions.can_edit_challenge(request.user, challenge))
    initial = {
        f: getattr(step, f) for f in ("actor", "action", "pain_point", "feeling", "opportunity")
    }
    form = StepForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.journey_step_update(
                step=step, by=request.user, data=_step_input(form.cleaned_data)
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The step was saved."))
            return redirect(f"{challenge.get_absolute_url()}#journey")
    return render(
        request, "portfolio/step_form.html", {"form": form, "challenge": challenge, "step": step}
    )


@require_POST
def step_move(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    step = _step(pk, step_pk)
    require(permissions.can_edit_challenge(request.user, step.challenge))
    if request.POST.get("delete"):
        services.journey_step_delete(step=step, by=request.user)
        messages.success(request, _("The step was removed."))
    else:
        services.journey_step_move(step=step, by=request.user, up=request.POST.get("up") == "1")
    return redirect(f"{step.challenge.get_absolute_url()}#journey")


# Workshops ----------------------------------------------------------------------------------


def workshop_list(request: HttpRequest) -> HttpResponse:
    require(permissions.can_read_portfolio(request.user))
    workshops = Workshop.objects.prefetch_related("units").annotate(n=Count("challenges"))
    return render(
        request,
        "portfolio/workshop_list.html",
        {"workshops": workshops, "can_record": permissions.can_record_workshop(request.user)},
    )


def workshop_create(request: HttpRequest) -> HttpResponse:
    """One page records a workshop and every challenge it brought up."""
    require(permissions.can_record_workshop(request.user))
    form = WorkshopForm(request.POST or None, initial={"held_on": timezone.localdate()})
    rows = ChallengeRows(request.POST or None, prefix="challenges")
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        data = form.cleaned_data
        challenges = [
            ChallengeInput(
                title=row["title"],
                kind=row["kind"],
                unit=row["unit"],
                description=row["description"],
            )
            for row in rows.cleaned_data
            if row.get("title")
        ]
        try:
            workshop = services.workshop_record(
                by=request.user,
                title=data["title"],
                held_on=data["held_on"],
                place=data["place"],
                units=list(data["units"]),
                notes=data["notes"],
                challenges=challenges,
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(
                request,
                _("The workshop was recorded with %(count)s challenges.")
                % {"count": len(challenges)},
            )
            return redirect(workshop)
    return render(request, "portfolio/workshop_form.html", {"form": form, "rows": rows})


def workshop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(permissions.can_read_portfolio(request.user))
    workshop = get_object_or_404(
        Workshop.objects.select_related("recorded_by").prefetch_related("units"), pk=pk
    )
    challenges = challenge_list().filter(workshop=workshop)
    return render(
        request, "portfolio/workshop_detail.html", {"workshop": workshop, "challenges": challenges}
    )


# Leadership teams and meetings --------------------------------------------------------------


def team_list(request: HttpRequest) -> HttpResponse:
    require(permissions.can_read_portfolio(request.user))
    teams = LeadershipTeam.objects.select_related("chair").prefetch_related("members")
    return render(
        request,
        "portfolio/team_list.html",
        {"teams": teams, "can_manage": permissions.can_manage_teams(request.user)},
    )


def team_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require(permissions.can_manage_teams(request.user))
    team = get_object_or_404(LeadershipTeam, pk=pk) if pk else None
    initial = (
        {
            "name": team.name,
            "description": team.description,
            "chair": team.chair,
            "members": list(team.members.all()),
        }
        if team
        else {}
    )
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = services.team_save(
                by=request.user,
                team=team,
                name=data["name"],
                description=data["description"],
                chair=data["chair"],
                members=list(data["members"]),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The team was saved."))
            return redirect(team)
    return render(request, "portfolio/team_form.html", {"form": form, "team": team})


def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(permissions.can_read_portfolio(request.user))
    team = get_object_or_404(
        LeadershipTeam.objects.select_related("chair").prefetch_related("members"), pk=pk
    )
    can_plan = permissions.can_plan_meeting(request.user, team)
    form = MeetingForm(request.POST or None, initial={"held_on": timezone.localdate()})
    if request.method == "POST":
        require(can_plan)
        if form.is_valid():
            data = form.cleaned_data
            meeting = services.meeting_create(
                team=team,
                by=request.user,
                held_on=data["held_on"],
                notes=data["notes"],
                agenda=list(data["agenda"]),
            )
            messages.success(request, _("The meeting was planned."))
            return redirect(meeting)
    meetings = team.meetings.prefetch_related("agenda", "decisions")
    return render(
        request,
        "portfolio/team_detail.html",
        {
            "team": team,
            "meetings": meetings,
            "form": form if can_plan else None,
            "can_manage": permissions.can_manage_teams(request.user),
        },
    )


def _decision_input(form: DecisionRowForm) -> DecisionInput:
    data = form.cleaned_data
    return DecisionInput(
        challenge=form.challenge,
        kind=data["kind"],
        rationale=data["rationale"] or "",
        expected_version=data.get("version"),
        unit=data["unit"],
        lead=data["lead"],
        parked_until=data["parked_until"],
        merged_into=data["merged_into"],
    )


def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A meeting's agenda, where the team decides on several challenges in one pass."""
    require(permissions.can_read_portfolio(request.user))
    meeting = get_object_or_404(Meeting.objects.select_related("team__chair"), pk=pk)
    can_decide = permissions.can_decide(request.user, meeting.team)
    agenda = list(
        meeting.agenda.select_related("unit")
        .prefetch_related(
            Prefetch(
                "decisions",
                queryset=Decision.objects.select_related("decided_by", "team").order_by(
                    "-created_at"
                ),
            )
        )
        .order_by("pk")
    )
    posted = request.POST if request.method == "POST" else None
    rows = [
        (c, DecisionRowForm(posted, challenge=c) if can_decide and c.is_open else None)
        for c in agenda
    ]
    conflicts: dict[int, Any] = {}
    if posted is not None:
        require(can_decide)
        forms_ = [f for _c, f in rows if f is not None]
        if all(f.is_valid() for f in forms_):
            chosen = [_decision_input(f) for f in forms_ if f.cleaned_data["kind"]]
            try:
                decisions = services.decide(
                    team=meeting.team,
                    by=request.user,
                    meeting=meeting,
                    decided_on=meeting.held_on,
                    decisions=chosen,
                )
            except services.DecisionConflict as exc:
                conflicts[exc.challenge.pk] = exc.decision
                messages.error(request, exc.messages[0])
            except ValidationError as exc:
                _spread_errors(exc, forms_, request)
            else:
                messages.success(
                    request,
                    _("%(count)s decisions were recorded.") % {"count": len(decisions)},
                )
                return redirect(meeting)
    return render(
        request,
        "portfolio/meeting_detail.html",
        {
            "meeting": meeting,
            "rows": rows,
            "can_decide": can_decide,
            "conflicts": conflicts,
            "has_forms": any(f is not None for _c, f in rows),
        },
    )


def _spread_errors(
    exc: ValidationError, forms_: list[DecisionRowForm], request: HttpRequest
) -> None:
    by_id = {f.challenge.pk: f for f in forms_}
    if not hasattr(exc, "error_dict"):
        messages.error(request, " ".join(exc.messages))
        return
    for key, errors in exc.error_dict.items():
        challenge_id, _sep, field = key.partition("-")
        form = by_id.get(int(challenge_id)) if challenge_id.isdigit() else None
        for error in errors:
            if form is not None:
                form.add_error(field if field in form.fields else None, error)
            else:
                messages.error(request, " ".join(error.messages))
