"""The strategy office's page: switch the public site on, choose what is public (per strategy,
per indicator, per agreement state), write the accessibility statement, preview."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pejling.core.forms import add_validation_error
from pejling.core.history import ConcurrentEditError, entries_for
from pejling.publication import selectors, services
from pejling.publication.forms import SettingsForm, StatementForm
from pejling.publication.models import (
    IndicatorPublication,
    PublicationSettings,
    StrategyPublication,
)


def _require_office(request: HttpRequest) -> None:
    if not services.can_manage_publication(request.user):
        raise PermissionDenied


def settings_page(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    row = selectors.publication_settings()
    which = request.POST.get("form") if request.method == "POST" else None
    settings_form = SettingsForm(
        request.POST if which == "settings" else None,
        instance=row,
        prefix="settings",
        public_strategies=list(selectors.public_strategies()),
        public_indicators=list(selectors.public_indicators()),
    )
    statement_form = StatementForm(
        request.POST if which == "statement" else None, instance=row, prefix="statement"
    )
    form = (
        settings_form if which == "settings" else statement_form if which == "statement" else None
    )
    if form is not None and form.is_valid():
        try:
            with transaction.atomic():
                services.settings_save(
                    row=form.instance, by=request.user, expected_version=form.loaded_version()
                )
                if form is settings_form:
                    services.strategies_publish(
                        public=form.cleaned_data["strategies"], by=request.user
                    )
                    services.indicators_publish(
                        public=form.cleaned_data["indicators"], by=request.user
                    )
        except ConcurrentEditError as exc:
            add_validation_error(form, exc)
            form.show_current_version(exc.current_version)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("publication:settings")
    lang = (get_language() or "sv").split("-")[0]
    return render(
        request,
        "publication/settings.html",
        {
            "settings_form": settings_form,
            "statement_form": statement_form,
            "row": row,
            "installation_allows": selectors.installation_allows(),
            "site_live": selectors.site_is_live(row),
            "lang": lang if lang in ("sv", "da", "nb", "en") else "sv",
        },
    )


def history_page(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    rows = [
        *PublicationSettings.history.select_related("history_user").all(),
        *StrategyPublication.history.select_related("history_user").all(),
        *IndicatorPublication.history.select_related("history_user").all(),
    ]
    return render(
        request,
        "core/history.html",
        {
            "entries": entries_for(rows),
            "subject": _("the public site"),
            "back": selectors.publication_settings(),
        },
    )
