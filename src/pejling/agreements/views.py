from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pejling.agreements import services, workflow
from pejling.agreements.forms import AgreementForm, InitiativeForm, ReturnForm
from pejling.agreements.models import (
    Agreement,
    AgreementState,
    Initiative,
    InitiativeGoal,
)
from pejling.agreements.rules import check_rules
from pejling.agreements.selectors import (
    readable_agreement,
    theme_coverage,
    version_view,
)
from pejling.core.forms import add_validation_error
from pejling.core.history import ConcurrentEditError, entries_for
from pejling.organisation import permissions
from pejling.organisation.models import Unit
from pejling.strategy.selectors import goal_groups_for_year


def _unit(code: str) -> Unit:
    return get_object_or_404(Unit.objects.select_related("level"), code=code)


def _agreement(unit: Unit, year: int) -> Agreement:
    return get_object_or_404(
        Agreement.objects.select_related("unit", "agreed_by"), unit=unit, year=year
    )


def agreement_detail(request: HttpRequest, unit_code: str, year: int) -> HttpResponse:
    unit = _unit(unit_code)
    agreement = (
        Agreement.objects.filter(unit=unit, year=year).select_related("unit", "agreed_by").first()
    )
    user = request.user
    if agreement is None:
        return render(
            request,
            "agreements/agreement_missing.html",
            {"unit": unit, "year": year, "can_create": permissions.can_write_agreement(user, unit)},
            status=404,
        )
    view = readable_agreement(user, agreement)
    if view is None:
        return render(
            request,
            "agreements/agreement_missing.html",
            {"unit": unit, "year": year, "can_create": False, "unpublished": True},
            status=404,
        )
    rule_results = check_rules(agreement, view.initiatives) if view.live else []
    steps = {s.name: s for s in workflow.available_steps(user, agreement)} if view.live else {}
    context = {
        "unit": unit,
        "year": year,
        "agreement": agreement,
        "view": view,
        "rule_results": rule_results,
        "broken_rules": [r for r in rule_results if not r.holds],
        "justifications": list(agreement.rule_justifications.select_related("rule", "created_by"))
        if view.live
        else [],
        "coverage": theme_coverage(year, view.initiatives),
        "versions": list(agreement.versions.all()) if view.live else [],
        "can_edit": view.live and workflow.may_edit(user, agreement),
        "steps": steps,
        "four_eyes": workflow.four_eyes_refusal(user, agreement)
        if view.live and "return" in steps
        else None,
        "return_form": ReturnForm(),
        "can_carry_forward": view.live
        and permissions.can_write_agreement(user, unit)
        and not Agreement.objects.filter(unit=unit, year=year + 1).exists(),
        "next_year": year + 1,
        "states": AgreementState,
    }
    return render(request, "agreements/agreement_detail.html", context)


@require_POST
def agreement_create(request: HttpRequest, unit_code: str, year: int) -> HttpResponse:
    unit = _unit(unit_code)
    try:
        services.agreement_create(unit=unit, year=year, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("agreements:agreement_detail", unit_code=unit.code, year=year)


def agreement_edit(request: HttpRequest, unit_code: str, year: int) -> HttpResponse:
    unit = _unit(unit_code)
    agreement = _agreement(unit, year)
    if not permissions.can_write_agreement(request.user, unit):
        raise PermissionDenied
    form = AgreementForm(
        request.POST or None, initial={"summary": agreement.summary}, version=agreement.version
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_update(
                agreement=agreement,
                by=request.user,
                summary=form.cleaned_data["summary"],
                expected_version=form.loaded_version(),
            )
        except ConcurrentEditError as exc:
            add_validation_error(form, exc)
            form.show_current_version(exc.current_version)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The agreement was saved."))
            return redirect("agreements:agreement_detail", unit_code=unit.code, year=year)
    return render(request, "agreements/agreement_form.html", {"form": form, "agreement": agreement})


def initiative_edit(
    request: HttpRequest, unit_code: str, year: int, pk: int | None = None
) -> HttpResponse:
    unit = _unit(unit_code)
    agreement = _agreement(unit, year)
    if not permissions.can_write_agreement(request.user, unit):
        raise PermissionDenied
    initiative = (
        get_object_or_404(Initiative, agreement=agreement, pk=pk)
        if pk
        else Initiative(agreement=agreement)
    )
    form = InitiativeForm(request.POST or None, instance=initiative, unit=unit, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields: dict[str, Any] = {
            "by": request.user,
            "title": data["title"],
            "description": data["description"],
            "owner": data["owner"],
            "start_date": data["start_date"],
            "end_date": data["end_date"],
            "status": data["status"],
            "goals": list(data["goals"]),
        }
        try:
            if pk:
                services.initiative_update(
                    initiative=initiative, expected_version=form.loaded_version(), **fields
                )
            else:
                services.initiative_create(agreement=agreement, **fields)
        except ConcurrentEditError as exc:
            add_validation_error(form, exc)
            form.show_current_version(exc.current_version)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("“%(title)s” was saved.") % {"title": data["title"]})
            return redirect("agreements:agreement_detail", unit_code=unit.code, year=year)
    context = {
        "form": form,
        "agreement": agreement,
        "initiative": initiative,
        "goal_groups": goal_groups_for_year(year),
        "selected_goals": {int(v) for v in form["goals"].value() or [] if str(v).isdigit()},
    }
    return render(request, "agreements/initiative_form.html", context)


@require_POST
def initiative_delete(request: HttpRequest, unit_code: str, year: int, pk: int) -> HttpResponse:
    unit = _unit(unit_code)
    agreement = _agreement(unit, year)
    initiative = get_object_or_404(Initiative, agreement=agreement, pk=pk)
    try:
        services.initiative_delete(initiative=initiative, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The initiative was removed."))
    return redirect("agreements:agreement_detail", unit_code=unit.code, year=year)


@require_POST
def agreement_transition(
    request: HttpRequest, unit_code: str, year: int, action: str
) -> HttpResponse:
    """Take a workflow step (``agreements/workflow.py``); the service checks it on the locked
    row, so a step someone else's step made impossible is refused with a message."""
    if action not in workflow.STEP_NAMES:
        raise Http404
    unit = _unit(unit_code)
    agreement = _agreement(unit, year)
    extra: dict[str, Any] = {}
    try:
        if action == "return":
            form = ReturnForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Say what needs to change."))
            extra["comment"] = form.cleaned_data["comment"]
        elif action == "submit":
            extra["justifications"] = {
                int(key.removeprefix("justification-")): str(value)
                for key, value in request.POST.items()
                if key.startswith("justification-") and key.removeprefix("justification-").isdigit()
            }
        services.run_step(action, agreement=agreement, by=request.user, **extra)
        messages.success(request, str(workflow.step(action).done))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You do not have permission to do this."))
    return redirect("agreements:agreement_detail", unit_code=unit.code, year=year)


@require_POST
def agreement_carry_forward(request: HttpRequest, unit_code: str, year: int) -> HttpResponse:
    unit = _unit(unit_code)
    agreement = _agreement(unit, year)
    try:
        new, dropped = services.agreement_carry_forward(agreement=agreement, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("agreements:agreement_detail", unit_code=unit.code, year=year)
    messages.success(
        request, _("The agreement for %(year)s was started from this one.") % {"year": new.year}
    )
    if dropped:
        messages.warning(
            request,
            _("These goal links did not come along, because the goals' strategies end: %(links)s")
            % {"links": "; ".join(dropped)},
        )
    return redirect("agreements:agreement_detail", unit_code=unit.code, year=new.year)


def agreement_version(request: HttpRequest, unit_code: str, year: int, number: int) -> HttpResponse:
    unit = _unit(unit_code)
    agreement = _agreement(unit, year)
    version = get_object_or_404(agreement.versions.select_related("created_by"), number=number)
    if version.state != AgreementState.PUBLISHED and not permissions.can_read_unpublished(
        request.user, unit
    ):
        raise Http404
    view = version_view(agreement, version)
    return render(
        request,
        "agreements/agreement_version.html",
        {
            "unit": unit,
            "year": year,
            "agreement": agreement,
            "version": version,
            "view": view,
            "coverage": theme_coverage(year, view.initiatives),
        },
    )


def agreement_history(request: HttpRequest, unit_code: str, year: int) -> HttpResponse:
    unit = _unit(unit_code)
    agreement = _agreement(unit, year)
    if not permissions.can_read_unpublished(request.user, unit):
        raise PermissionDenied
    rows = list(agreement.history.select_related("history_user"))
    rows += list(
        Initiative.history.filter(agreement_id=agreement.pk).select_related("history_user")
    )
    initiative_ids = set(
        Initiative.history.filter(agreement_id=agreement.pk).values_list("id", flat=True)
    )
    rows += list(
        InitiativeGoal.history.filter(initiative_id__in=initiative_ids).select_related(
            "history_user"
        )
    )
    return render(
        request,
        "core/history.html",
        {
            "subject": agreement,
            "entries": entries_for(rows, exclude=("updated_at",)),
            "back": agreement,
        },
    )
