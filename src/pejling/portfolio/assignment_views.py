"""Pages of the portfolio's back half: assignments and their stages, benefits expected and
realised, the reinvestment ledger, and the fragments a unit's page and the dashboard load."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pejling.core.export import Table, requested_format, table_download
from pejling.core.forms import add_validation_error
from pejling.core.history import ConcurrentEditError
from pejling.core.http import HtmxHttpRequest, render_panel
from pejling.core.utils import int_param, person_name, require
from pejling.indicators.charts import Chart
from pejling.organisation.models import Unit
from pejling.portfolio import permissions, services
from pejling.portfolio.forms import (
    AdvanceForm,
    AssignmentForm,
    AssignmentGiveForm,
    BenefitForm,
    PlacementForm,
    StageForm,
    StopForm,
    YearRows,
)
from pejling.portfolio.models import (
    STAGE_ORDER,
    Assignment,
    Benefit,
    BenefitClass,
    Stage,
    StageRecord,
)
from pejling.portfolio.selectors import (
    assignment_list,
    benefit_totals,
    benefits_of,
    challenge_funnel,
    ledger_balance,
    ledger_entries,
    ledger_totals,
    realised_values,
    unplaced_amount,
)
from pejling.portfolio.services import BenefitInput, PlacementInput, StageInput, YearInput
from pejling.strategy.models import Element


def _goal_labels(assignment: Assignment) -> str:
    return "; ".join(f"{g.code} {g.title}" for g in assignment.shown_goals())


def _themes(assignment: Assignment) -> str:
    themes = {
        (g.parent.code, g.parent.title) if g.parent_id and g.parent else (g.code, g.title)
        for g in assignment.shown_goals()
    }
    return "; ".join(f"{code} {title}" for code, title in sorted(themes))


# Assignments --------------------------------------------------------------------------------


def assignment_index(request: HttpRequest) -> HttpResponse:
    """Assignments by theme, goal and unit, with stage and lead; ``?format=xlsx``."""
    require(permissions.can_read_portfolio(request.user))
    unit = Unit.objects.filter(code=request.GET.get("unit", "")).first()
    goal = Element.objects.filter(pk=int_param(request.GET.get("goal")) or 0).first()
    stage = request.GET.get("stage", "")
    stage = stage if stage in Stage.values else ""
    year = int_param(request.GET.get("year"))
    assignments = list(assignment_list(unit=unit, goal=goal, stage=stage, year=year))
    if requested_format(request) and not request.GET.get("table"):
        return table_download(
            request,
            Table(
                title=_("Assignments"),
                headers=[
                    _("Assignment"),
                    _("Owner unit"),
                    _("Lead"),
                    _("Stage"),
                    _("Year"),
                    _("Report by"),
                    _("Origin"),
                    _("Themes"),
                    _("Goals"),
                    _("In the annual agreement"),
                ],
                rows=(
                    [
                        a.shown_title,
                        a.unit.name,
                        person_name(a.lead),
                        a.get_stage_display(),
                        a.year,
                        a.due_date,
                        a.issued_by or a.get_origin_display(),
                        _themes(a),
                        _goal_labels(a),
                        _("yes") if a.initiative_id else _("no"),
                    ]
                    for a in assignments
                ),
            ),
        )
    groups: dict[str, list[Assignment]] = {}
    for assignment in assignments:
        groups.setdefault(_themes(assignment) or _("No theme"), []).append(assignment)
    return render(
        request,
        "portfolio/assignment_list.html",
        {
            "groups": sorted(groups.items()),
            "count": len(assignments),
            "units": Unit.objects.order_by("path"),
            "goals": Element.objects.filter(level__holds_goals=False, parent__isnull=True)
            .select_related("strategy")
            .order_by("strategy__position", "position"),
            "stages": Stage.choices,
            "filters": {"unit": unit, "goal": goal, "stage": stage, "year": year},
            "can_give": permissions.can_give_top_down(request.user),
            "query": request.GET.urlencode(),
        },
    )


def assignment_give(request: HttpRequest) -> HttpResponse:
    require(permissions.can_give_top_down(request.user))
    form = AssignmentGiveForm(request.POST or None, initial={"given_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assignment = services.assignment_give(
                by=request.user,
                issued_by=data["issued_by"],
                title=data["title"],
                description=data["description"],
                unit=data["unit"],
                lead=data["lead"],
                goals=list(data["goals"]),
                due_date=data["due_date"],
                given_on=data["given_on"],
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The assignment was given."))
            return redirect(assignment)
    return render(request, "portfolio/assignment_give.html", {"form": form})


def _assignment(pk: int) -> Assignment:
    return get_object_or_404(
        Assignment.objects.select_related(
            "unit", "lead", "initiative__agreement__unit", "decision__challenge", "decision__team"
        ).prefetch_related("goals__parent", "initiative__goals__parent"),
        pk=pk,
    )


def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(permissions.can_read_portfolio(request.user))
    assignment = _assignment(pk)
    can_update = permissions.can_update_assignment(request.user, assignment)
    records = {r.stage: r for r in assignment.stages.all()}
    stages = [(s, records.get(s)) for s in STAGE_ORDER]
    benefits = benefits_of(assignment)
    realised = realised_values(benefits)
    benefit_rows = []
    for benefit in benefits:
        years = {row.year: row for row in benefit.years.all()}
        all_years = sorted(set(years) | {y for (b, y) in realised if b == benefit.pk})
        benefit_rows.append(
            (
                benefit,
                [(y, years.get(y), realised.get((benefit.pk, y))) for y in all_years],
                permissions.can_update_benefit(request.user, benefit),
            )
        )
    open_stage = assignment.stage in STAGE_ORDER and assignment.stage != Stage.IN_OPERATION
    context = {
        "assignment": assignment,
        "stages": stages,
        "stopped": assignment.stage == Stage.STOPPED,
        "benefit_rows": benefit_rows,
        "can_update": can_update,
        "advance_form": AdvanceForm(
            stage=assignment.stage,
            version=assignment.version,
            initial={"started_on": timezone.localdate()},
        )
        if can_update and open_stage
        else None,
        "stop_form": StopForm(
            version=assignment.version, initial={"on": timezone.localdate()}, prefix="stop"
        )
        if can_update and open_stage
        else None,
        "link_blocker": services.link_blocker(assignment, request.user),
        "reinvested_here": assignment.reinvestments.select_related("benefit__assignment__unit"),
    }
    return render(request, "portfolio/assignment_detail.html", context)


def assignment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(pk)
    require(permissions.can_update_assignment(request.user, assignment))
    initial = {
        "title": assignment.shown_title,
        "description": assignment.description,
        "lead": assignment.lead,
        "goals": assignment.shown_goals(),
        "due_date": assignment.due_date,
    }
    form = AssignmentForm(request.POST or None, initial=initial, version=assignment.version)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.assignment_update(
                assignment=assignment,
                by=request.user,
                title=data["title"],
                description=data["description"],
                lead=data["lead"],
                goals=list(data["goals"]),
                due_date=data["due_date"],
                expected_version=form.loaded_version(),
            )
        except ConcurrentEditError as exc:
            add_validation_error(form, exc)
            form.show_current_version(exc.current_version)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The assignment was saved."))
            return redirect(assignment)
    return render(
        request, "portfolio/assignment_form.html", {"form": form, "assignment": assignment}
    )


@require_POST
def assignment_advance(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(pk)
    require(permissions.can_update_assignment(request.user, assignment))
    form = AdvanceForm(request.POST, stage=assignment.stage)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.assignment_advance(
                assignment=assignment,
                by=request.user,
                to=data["to"],
                previous_ended_on=data["previous_ended_on"],
                expected_version=form.loaded_version(),
                data=StageInput(
                    started_on=data["started_on"],
                    note=data["note"],
                    tested_what=data["tested_what"],
                    tested_where=data["tested_where"],
                    learnt=data["learnt"],
                ),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            assignment.refresh_from_db()
            messages.success(
                request,
                _("The assignment moved on to: %(stage)s.")
                % {"stage": assignment.get_stage_display().lower()},
            )
    else:
        messages.error(
            request,
            " ".join(
                f"{form.fields[f].label}: {' '.join(str(x) for x in e)}"
                for f, e in form.errors.items()
                if f in form.fields
            ),
        )
    return redirect(f"{assignment.get_absolute_url()}#stages")


@require_POST
def assignment_stop(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(pk)
    require(permissions.can_update_assignment(request.user, assignment))
    form = StopForm(request.POST, prefix="stop")
    if form.is_valid():
        try:
            services.assignment_stop(
                assignment=assignment,
                by=request.user,
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data["on"],
                expected_version=form.loaded_version(),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The assignment was stopped."))
    else:
        messages.error(request, _("Say why the assignment is stopped, and when."))
    return redirect(assignment)


@require_POST
def assignment_link(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(pk)
    require(permissions.can_update_assignment(request.user, assignment))
    try:
        services.assignment_link(assignment=assignment, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The assignment is now an initiative in the annual agreement."))
    return redirect(assignment)


def stage_edit(request: HttpRequest, pk: int, stage_pk: int) -> HttpResponse:
    record = get_object_or_404(
        StageRecord.objects.select_related("assignment__unit"), pk=stage_pk, assignment_id=pk
    )
    assignment = record.assignment
    require(permissions.can_update_assignment(request.user, assignment))
    initial = {
        f: getattr(record, f)
        for f in ("started_on", "ended_on", "note", "tested_what", "tested_where", "learnt")
    }
    form = StageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.stage_record_update(
                record=record,
                by=request.user,
                ended_on=data["ended_on"],
                data=StageInput(
                    started_on=data["started_on"],
                    note=data["note"],
                    tested_what=data["tested_what"],
                    tested_where=data["tested_where"],
                    learnt=data["learnt"],
                ),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The stage was saved."))
            return redirect(f"{assignment.get_absolute_url()}#stages")
    return render(
        request,
        "portfolio/stage_form.html",
        {"form": form, "record": record, "assignment": assignment},
    )


# Benefits -----------------------------------------------------------------------------------


def _benefit_input(data: dict[str, Any]) -> BenefitInput:
    return BenefitInput(
        description=data["description"],
        stakeholder=data["stakeholder"],
        benefit_class=data["benefit_class"],
        measure=data["measure"],
        measure_label=data["measure_label"],
        goal=data["goal"],
        indicator=data["indicator"],
        owner=data["owner"],
        baseline=data["baseline"],
    )


def _year_inputs(rows: Any) -> list[YearInput]:
    return [
        YearInput(
            year=row["year"],
            expected=row["expected"],
            pessimistic=row["pessimistic"],
            optimistic=row["optimistic"],
            realised=row["realised"],
            realised_source=row["realised_source"] or "",
        )
        for row in rows.cleaned_data
        if row.get("year")
    ]


def benefit_edit(request: HttpRequest, pk: int, benefit_pk: int | None = None) -> HttpResponse:
    """A benefit with its expected and realised values per year, on one page."""
    assignment = _assignment(pk)
    benefit = (
        get_object_or_404(
            Benefit.objects.select_related("assignment__unit"), pk=benefit_pk, assignment=assignment
        )
        if benefit_pk
        else None
    )
    require(
        permissions.can_update_benefit(request.user, benefit)
        if benefit
        else permissions.can_update_assignment(request.user, assignment)
    )
    initial: dict[str, Any] = {"owner": assignment.lead}
    year_initial: list[dict[str, Any]] = []
    if benefit is not None:
        initial = {
            f: getattr(benefit, f)
            for f in (
                "description",
                "stakeholder",
                "benefit_class",
                "measure",
                "measure_label",
                "goal",
                "indicator",
                "owner",
                "baseline",
            )
        }
        year_initial = [
            {
                f: getattr(row, f)
                for f in (
                    "year",
                    "expected",
                    "pessimistic",
                    "optimistic",
                    "realised",
                    "realised_source",
                )
            }
            for row in benefit.years.all()
        ]
    form = BenefitForm(
        request.POST or None, initial=initial, version=benefit.version if benefit else None
    )
    rows = YearRows(request.POST or None, initial=year_initial, prefix="years")
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        try:
            _save_benefit(request, assignment, benefit, form, rows)
        except ConcurrentEditError as exc:
            add_validation_error(form, exc)
            form.show_current_version(exc.current_version)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The benefit was saved."))
            return redirect(f"{assignment.get_absolute_url()}#benefits")
    return render(
        request,
        "portfolio/benefit_form.html",
        {"form": form, "rows": rows, "assignment": assignment, "benefit": benefit},
    )


def _save_benefit(
    request: HttpRequest, assignment: Assignment, benefit: Benefit | None, form: Any, rows: Any
) -> None:
    from django.db import transaction

    data = _benefit_input(form.cleaned_data)
    years = _year_inputs(rows)
    with transaction.atomic():
        if benefit is None:
            services.benefit_create(assignment=assignment, by=request.user, data=data, years=years)
            return
        services.benefit_update(
            benefit=benefit, by=request.user, data=data, expected_version=form.loaded_version()
        )
        for year in years:
            services.benefit_set_year(benefit=benefit, by=request.user, data=year)


def benefit_overview(request: HttpRequest) -> HttpResponse:
    """Benefits expected against realised per year and class; ``?format=xlsx``."""
    require(permissions.can_read_portfolio(request.user))
    unit = Unit.objects.filter(code=request.GET.get("unit", "")).first()
    totals = benefit_totals(unit=unit)
    if requested_format(request) and not request.GET.get("table"):
        return table_download(
            request,
            Table(
                title=_("Benefits"),
                headers=[
                    _("Year"),
                    _("Class"),
                    _("Measured in"),
                    _("Expected"),
                    _("Pessimistic"),
                    _("Optimistic"),
                    _("Realised"),
                    _("Realised share, per cent"),
                ],
                rows=(
                    [
                        t.year,
                        t.class_label,
                        t.measure,
                        t.expected,
                        t.pessimistic,
                        t.optimistic,
                        t.realised,
                        t.share,
                    ]
                    for t in totals
                ),
            ),
        )
    benefits = (
        Benefit.objects.filter(
            **({"assignment__unit__path__startswith": unit.path} if unit else {})
        )
        .select_related("assignment__unit", "assignment__initiative", "owner", "goal", "indicator")
        .prefetch_related("years")
        .order_by("assignment__unit__path", "pk")
    )
    return render(
        request,
        "portfolio/benefit_overview.html",
        {
            "totals": totals,
            "benefits": benefits,
            "classes": BenefitClass.choices,
            "unit": unit,
            "units": Unit.objects.order_by("path"),
            "query": request.GET.urlencode(),
        },
    )


# The reinvestment ledger --------------------------------------------------------------------


def _ledger_chart(totals: list[Any]) -> Chart | None:
    values = []
    for row in totals:
        parts = (
            (_("Reinvested"), row.reinvested),
            (_("Returned to the budget"), row.returned),
            (_("Not yet placed"), row.unplaced),
        )
        for order, (label, amount) in enumerate(parts):
            values.append(
                {
                    "order": order,
                    "year": str(row.year),
                    "what": str(label),
                    "measure": str(row.measure_label),
                    "amount": float(amount),
                }
            )
    if not values:
        return None
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {"text": _("Freed capacity and where it went"), "anchor": "start", "fontSize": 14},
        "config": {"font": "DejaVu Sans", "view": {"stroke": None}},
        "data": {"values": values},
        "facet": {"row": {"field": "measure", "type": "nominal", "title": None}},
        "spec": {
            "width": 520,
            "height": 120,
            "mark": "bar",
            "encoding": {
                "y": {"field": "year", "type": "ordinal", "title": None},
                "x": {"field": "amount", "type": "quantitative", "title": None, "stack": "zero"},
                "order": {"field": "order", "type": "quantitative"},
                "color": {
                    "field": "what",
                    "type": "nominal",
                    "title": None,
                    "scale": {"range": ["#1e5aa8", "#0f7a3a", "#b0b0b0"]},
                    "sort": None,
                },
            },
        },
        "resolve": {"scale": {"x": "independent"}},
    }
    rows = [
        (
            f"{r.year} ({r.measure_label})",
            f"{r.freed} = {r.reinvested} + {r.returned} + {r.unplaced}",
        )
        for r in totals
    ]
    return Chart(
        str(_("Freed capacity and where it went")),
        str(
            _(
                "Per year and measure: freed capacity split into reinvested, returned to the "
                "budget and not yet placed."
            )
        ),
        spec,
        rows,
    )


def ledger(request: HttpRequest) -> HttpResponse:
    """Freed capacity and where it went, per year and unit rolled up the tree; ``?format=xlsx``."""
    require(permissions.can_read_portfolio(request.user))
    within = Unit.objects.filter(code=request.GET.get("unit", "")).first()
    roots = list(Unit.objects.filter(depth=1)[:2])
    if within is None and len(roots) == 1:
        within = roots[0]  # one organisation: show its first level below the top
    rows = ledger_balance(within=within)
    totals = ledger_totals(rows)
    entries = ledger_entries(within=within)
    if requested_format(request) and not request.GET.get("table"):
        return table_download(
            request,
            Table(
                title=_("Reinvestment ledger"),
                headers=[
                    _("Year"),
                    _("Unit"),
                    _("Measured in"),
                    _("Freed"),
                    _("Reinvested"),
                    _("Returned to the budget"),
                    _("Not yet placed"),
                ],
                rows=(
                    [
                        r.year,
                        r.unit.name if r.unit else "",
                        r.measure_label,
                        r.freed,
                        r.reinvested,
                        r.returned,
                        r.unplaced,
                    ]
                    for r in rows
                ),
            ),
        )
    placeable = [
        (b, unplaced_amount(benefit=b, year=y), y)
        for b in Benefit.objects.filter(benefit_class=BenefitClass.FREED_CAPACITY)
        .filter(**({"assignment__unit__path__startswith": within.path} if within else {}))
        .select_related("assignment__unit", "assignment__initiative", "indicator")
        for y in sorted({row.year for row in b.years.all() if row.realised is not None})
        if permissions.can_place_capacity(request.user, b)
    ]
    return render(
        request,
        "portfolio/ledger.html",
        {
            "within": within,
            "rows": rows,
            "totals": totals,
            "entries": entries,
            "chart": _ledger_chart(totals),
            "units": Unit.objects.filter(depth__lte=3).order_by("path"),
            "placeable": [p for p in placeable if p[1] > 0],
            "query": request.GET.urlencode(),
        },
    )


def capacity_place(request: HttpRequest, benefit_pk: int) -> HttpResponse:
    benefit = get_object_or_404(
        Benefit.objects.select_related("assignment__unit", "assignment__initiative"),
        pk=benefit_pk,
    )
    require(permissions.can_place_capacity(request.user, benefit))
    year = int_param(request.GET.get("year")) or timezone.localdate().year
    form = PlacementForm(
        request.POST or None,
        initial={"year": year, "decided_on": timezone.localdate(), "placement": "reinvested"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.capacity_place(
                benefit=benefit,
                by=request.user,
                data=PlacementInput(
                    year=data["year"],
                    placement=data["placement"],
                    amount=data["amount"],
                    unit=data["unit"],
                    purpose=data["purpose"],
                    assignment=data["assignment"],
                    decided_on=data["decided_on"],
                    decided_by=data["decided_by"],
                ),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The placement was recorded in the ledger."))
            return redirect("portfolio:ledger")
    return render(
        request,
        "portfolio/placement_form.html",
        {
            "form": form,
            "benefit": benefit,
            "year": year,
            "left": unplaced_amount(benefit=benefit, year=year),
        },
    )


# Fragments for other pages ------------------------------------------------------------------


def unit_panel(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """A unit's part of the portfolio, loaded by the unit's page (htmx, or a page without JS)."""
    require(permissions.can_read_portfolio(request.user))
    unit = get_object_or_404(Unit, code=code)
    assignments = list(assignment_list(unit=unit).exclude(stage=Stage.STOPPED)[:10])
    return render_panel(
        request,
        "portfolio/_unit_panel.html",
        _("Development portfolio – %(unit)s") % {"unit": unit.name},
        {
            "unit": unit,
            "assignments": assignments,
            "funnel": challenge_funnel(unit=unit),
            "balance": ledger_totals(ledger_balance(within=unit)),
        },
    )


def dashboard_panel(request: HtmxHttpRequest) -> HttpResponse:
    """The executive dashboard's part: the funnel, assignments per stage, benefits and ledger."""
    require(permissions.sees_everything(request.user))
    from django.db.models import Count

    by_stage = dict(
        Assignment.objects.values_list("stage").annotate(n=Count("pk")).values_list("stage", "n")
    )
    totals = benefit_totals()
    year = timezone.localdate().year
    return render_panel(
        request,
        "portfolio/_dashboard_panel.html",
        _("Development portfolio"),
        {
            "funnel": challenge_funnel(),
            "stages": [(label, by_stage.get(value, 0)) for value, label in Stage.choices],
            "benefits": [t for t in totals if t.year in (year - 1, year)],
            "balance": [r for r in ledger_totals(ledger_balance()) if r.year in (year - 1, year)],
            "zero": Decimal(0),
        },
    )
