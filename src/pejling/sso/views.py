"""The log-in page with the configured identity providers, and the group roles page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pejling.core.forms import LoginForm
from pejling.core.history import delete_as, save_as
from pejling.core.http import AuthenticatedHttpRequest
from pejling.organisation.models import Membership, MembershipSource
from pejling.organisation.permissions import is_strategy_office
from pejling.sso.forms import GroupRoleForm
from pejling.sso.models import GroupRole
from pejling.sso.providers import providers


class LoginView(auth_views.LoginView):
    """Django's log-in page, with a button for each configured identity provider."""

    authentication_form = LoginForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sso_providers"] = providers()
        return context


def _require_office(request: AuthenticatedHttpRequest) -> None:
    if not is_strategy_office(request.user):
        raise PermissionDenied


def group_roles(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Which roles the identity provider's groups give: list, add."""
    _require_office(request)
    form = GroupRoleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    save_as(form.instance, request.user)
            except IntegrityError:
                form.add_error(None, _("This group already gives this role on this unit."))
            else:
                messages.success(
                    request,
                    _("Members of the group “%(group)s” are now %(role)s on %(unit)s.")
                    % {
                        "group": form.instance.group,
                        "role": form.instance.get_role_display().lower(),
                        "unit": form.instance.unit.name,
                    },
                )
                return redirect("sso:group_roles")
        status = 400
    context = {
        "form": form,
        "group_roles": list(GroupRole.objects.select_related("unit")),
        "sso_people": Membership.objects.filter(source=MembershipSource.SSO)
        .values("user")
        .distinct()
        .count(),
        "sso_providers": providers(),
    }
    return render(request, "sso/group_roles.html", context, status=status)


@require_POST
def group_role_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    group_role = get_object_or_404(GroupRole, pk=pk)
    delete_as(group_role, request.user)
    messages.success(
        request,
        _(
            "The group “%(group)s” no longer gives this role. People keep it until they next "
            "sign in."
        )
        % {"group": group_role.group},
    )
    return redirect("sso:group_roles")
