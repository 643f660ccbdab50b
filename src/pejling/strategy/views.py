from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pejling.core.forms import add_validation_error
from pejling.core.history import ConcurrentEditError, entries_for
from pejling.organisation.permissions import is_strategy_office
from pejling.strategy import services
from pejling.strategy.forms import ElementForm, LevelFormSet, StrategyForm
from pejling.strategy.models import Element, Strategy, StrategyLevel
from pejling.strategy.selectors import cascade_of, element_tree, readable_strategies


def _require_office(request: HttpRequest) -> None:
    if not is_strategy_office(request.user):
        raise PermissionDenied


def _get_strategy(request: HttpRequest, code: str) -> Strategy:
    """A strategy ``request.user`` may read (``readable_strategies``); 404 otherwise."""
    return get_object_or_404(readable_strategies(request.user), code=code)


def strategy_list(request: HttpRequest) -> HttpResponse:
    strategies = list(readable_strategies(request.user))
    return render(request, "strategy/strategy_list.html", {"strategies": strategies})


def strategy_detail(request: HttpRequest, code: str) -> HttpResponse:
    strategy = _get_strategy(request, code)
    context = {
        "strategy": strategy,
        "cascade": cascade_of(strategy),
        "children": list(readable_strategies(request.user).filter(parent=strategy)),
        "levels": list(strategy.levels.all()),
        "tree": element_tree(strategy),
    }
    return render(request, "strategy/strategy_detail.html", context)


def strategy_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    _require_office(request)
    strategy = get_object_or_404(Strategy, code=code) if code else Strategy()
    form = StrategyForm(request.POST or None, instance=strategy)
    if request.method == "POST" and form.is_valid():
        try:
            services.strategy_save(
                strategy=form.instance, by=request.user, expected_version=form.loaded_version()
            )
        except ConcurrentEditError as exc:
            add_validation_error(form, exc)
            form.show_current_version(exc.current_version)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The strategy was saved."))
            if code is None:
                return redirect("strategy:strategy_levels", code=form.instance.code)
            return redirect("strategy:strategy_detail", code=form.instance.code)
    return render(request, "strategy/strategy_form.html", {"form": form, "strategy": strategy})


def strategy_levels(request: HttpRequest, code: str) -> HttpResponse:
    _require_office(request)
    strategy = get_object_or_404(Strategy, code=code)
    initial = [
        {"name": lv.name, "name_plural": lv.name_plural, "holds_goals": lv.holds_goals}
        for lv in strategy.levels.all()
    ]
    formset = LevelFormSet(request.POST or None, initial=initial, prefix="levels")
    level_errors: list[str] = []
    if request.method == "POST" and formset.is_valid():
        levels = [
            (f.cleaned_data["name"], f.cleaned_data["name_plural"], f.cleaned_data["holds_goals"])
            for f in formset.forms
            if f.cleaned_data.get("name")
        ]
        try:
            services.strategy_levels_set(strategy=strategy, by=request.user, levels=levels)
        except ValidationError as exc:
            level_errors = exc.messages
        else:
            messages.success(request, _("The levels were saved."))
            return redirect("strategy:strategy_detail", code=strategy.code)
    return render(
        request,
        "strategy/strategy_levels.html",
        {"formset": formset, "strategy": strategy, "level_errors": level_errors},
    )


def element_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    strategy = _get_strategy(request, code)
    element = get_object_or_404(
        Element.objects.select_related("level", "parent", "strategy"), strategy=strategy, pk=pk
    )
    context = {
        "strategy": strategy,
        "element": element,
        "children": list(element.children.select_related("level")),
        "references": list(element.references.select_related("strategy")),
        "referenced_by": list(element.referenced_by.select_related("strategy")),
    }
    return render(request, "strategy/element_detail.html", context)


def element_edit(request: HttpRequest, code: str, pk: int | None = None) -> HttpResponse:
    _require_office(request)
    strategy = get_object_or_404(Strategy, code=code)
    if pk is not None:
        element = get_object_or_404(
            Element.objects.select_related("level", "parent"), strategy=strategy, pk=pk
        )
    else:
        parent = None
        parent_id = request.GET.get("parent") or request.POST.get("parent")
        if parent_id:
            if not parent_id.isdigit():
                raise Http404
            parent = get_object_or_404(
                Element.objects.select_related("level"), strategy=strategy, pk=parent_id
            )
        depth = parent.level.depth + 1 if parent else 1
        level = StrategyLevel.objects.filter(strategy=strategy, depth=depth).first()
        if level is None:
            messages.error(
                request,
                _("Name the level first: this strategy has no level %(depth)s.") % {"depth": depth},
            )
            return redirect("strategy:strategy_levels", code=strategy.code)
        element = Element(strategy=strategy, parent=parent, level=level)
    form = ElementForm(request.POST or None, instance=element, strategy=strategy)
    if request.method == "POST" and form.is_valid():
        try:
            services.element_save(
                element=form.instance,
                by=request.user,
                references=list(form.cleaned_data["references"]),
                expected_version=form.loaded_version(),
            )
        except ConcurrentEditError as exc:
            add_validation_error(form, exc)
            form.show_current_version(exc.current_version)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("“%(title)s” was saved.") % {"title": element.title})
            return redirect("strategy:strategy_detail", code=strategy.code)
    return render(
        request,
        "strategy/element_form.html",
        {"form": form, "strategy": strategy, "element": element},
    )


@require_POST
def element_delete(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    _require_office(request)
    element = get_object_or_404(Element, strategy__code=code, pk=pk)
    try:
        services.element_delete(element=element, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The element was deleted."))
    return redirect("strategy:strategy_detail", code=code)


def strategy_history(request: HttpRequest, code: str) -> HttpResponse:
    strategy = _get_strategy(request, code)
    rows = list(strategy.history.select_related("history_user").all())
    rows += list(Element.history.filter(strategy_id=strategy.pk).select_related("history_user"))
    rows += list(
        StrategyLevel.history.filter(strategy_id=strategy.pk).select_related("history_user")
    )
    return render(
        request,
        "core/history.html",
        {"subject": strategy, "entries": entries_for(rows), "back": strategy},
    )
