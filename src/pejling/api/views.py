"""The API tokens page: a person's tokens, making one (its secret shown once) and revoking."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pejling.api.forms import TokenForm
from pejling.api.models import ApiToken
from pejling.api.tokens import NewToken, token_create, token_revoke
from pejling.core.forms import add_validation_error
from pejling.core.http import AuthenticatedHttpRequest


def token_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    created: NewToken | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = token_create(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_validation_error(form, exc)
            else:
                form = TokenForm()
                status = 201
        if created is None:
            status = 400
    context = {
        "form": form,
        "created": created,
        "tokens": list(ApiToken.objects.filter(user=request.user)),
    }
    response = render(request, "api/tokens.html", context, status=status)
    response["Cache-Control"] = "private, no-store"  # the page may hold a new token's secret
    return response


@require_POST
def token_revoke_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token_revoke(token=token, by=request.user)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("api:token_list")
