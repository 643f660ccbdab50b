"""Indicators (KPIs) and their stored values: bulk read, bulk write through the importer
(``indicators/imports.import_observations``: every value checked, all written or none), and
KPI files: uploaded (streamed to storage, refused at the size limit while they arrive), checked
and written by the background worker, as on the import page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from django.core.cache import cache
from django.db.models import Count, QuerySet
from django.db.models.functions import Substr
from django.http import HttpRequest, HttpResponse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field, StringConstraints

from pejling.api.auth import principal
from pejling.api.endpoints.organisation import within_unit
from pejling.api.errors import ApiError, conflict, invalid, not_found
from pejling.api.pagination import paginate
from pejling.api.schemas import NO_NUL, Cursor, ErrorOut, Limit, Within, responses
from pejling.core import generation
from pejling.core.caching import cache_key
from pejling.indicators import rollups
from pejling.indicators.completeness import PeriodCompleteness, recent_completeness
from pejling.indicators.imports import MESSAGES, accepted_name, batch_errors, import_observations
from pejling.indicators.models import ImportBatch, ImportStatus, Indicator, IndicatorValue
from pejling.indicators.sources.records import (
    Observation,
    ParseError,
    ParseResult,
    PeriodError,
    parse_period,
)
from pejling.indicators.tasks import confirm_upload, submit_upload
from pejling.indicators.uploads import limited_handler
from pejling.organisation.models import Unit
from pejling.organisation.permissions import is_strategy_office

router = Router(tags=["indicators"])

MAX_VALUES_PER_REQUEST = 10_000
IndicatorCode = Annotated[str, Path(max_length=50, pattern=NO_NUL)]
PeriodText = Annotated[
    str | None,
    Query(
        None,
        max_length=10,
        pattern=NO_NUL,
        description="A period such as 2019, 2019-03, 2019T1 or 2019Q1",
    ),
]


class IndicatorOut(Schema):
    code: str
    name: str
    description: str
    measure_unit: str
    direction: str
    periodicity: str
    source: str
    aggregation: str
    numerator: str | None
    denominator: str | None
    weight: str | None
    scale: float
    allow_negative: bool


class IndicatorPage(Schema):
    items: list[IndicatorOut]
    next: str | None


def indicator_out(i: Indicator) -> IndicatorOut:
    return IndicatorOut(
        code=i.code,
        name=i.name,
        description=i.description,
        measure_unit=i.measure_unit,
        direction=i.direction,
        periodicity=i.periodicity,
        source=i.source,
        aggregation=i.aggregation,
        numerator=i.numerator.code if i.numerator else None,
        denominator=i.denominator.code if i.denominator else None,
        weight=i.weight.code if i.weight else None,
        scale=float(i.scale),
        allow_negative=i.allow_negative,
    )


def _indicators() -> QuerySet[Indicator]:
    return Indicator.objects.select_related("numerator", "denominator", "weight")


@router.get("/indicators", response=responses(IndicatorPage), summary="List indicators")
def list_indicators(
    request: HttpRequest, cursor: Cursor = None, limit: Limit = 50
) -> IndicatorPage:
    principal(request)
    rows, following = paginate(_indicators(), keys=["code"], cursor=cursor, limit=limit)
    return IndicatorPage(items=[indicator_out(i) for i in rows], next=following)


@router.get("/indicators/{code}", response=responses(IndicatorOut), summary="One indicator")
def get_indicator(request: HttpRequest, code: IndicatorCode) -> IndicatorOut:
    principal(request)
    indicator = _indicators().filter(code=code).first()
    if indicator is None:
        raise not_found()
    return indicator_out(indicator)


# Series ----------------------------------------------------------------------------------------


class SeriesScope(StrEnum):
    OWN = "own"
    SUBTREE = "subtree"
    CHILDREN = "children"


SeriesUnit = Annotated[
    str | None,
    Query(
        None,
        max_length=50,
        pattern=NO_NUL,
        description="A unit code (without it: the whole organisation)",
    ),
]


class SeriesPointOut(Schema):
    period: str
    period_start: date
    value: float
    count: int = Field(description="Stored values behind the value (for a ratio: numerator's)")
    completeness: float = Field(
        description=(
            "The share of the units that usually report (a value in at least two of the three "
            "periods before, in the one before for the second period of the series) that have "
            "a value in the period, from 0 to 1; 1 when none usually report (the series' first "
            "period, and own values)"
        )
    )


class UnitSeriesOut(Schema):
    unit: str
    unit_name: str
    units: int = Field(description="Units the value covers (the unit, or its whole subtree)")
    points: list[SeriesPointOut]


class SeriesOut(Schema):
    indicator: str
    aggregation: str = Field(description="The rule that rolls the values up the tree")
    measure_unit: str
    scale: float
    unit: str
    scope: SeriesScope
    series: list[UnitSeriesOut]


def _unit_series(
    unit: Unit,
    units: int,
    points: list[rollups.CountedPoint],
    judged: dict[str, PeriodCompleteness],
) -> UnitSeriesOut:
    return UnitSeriesOut(
        unit=unit.code,
        unit_name=unit.name,
        units=units,
        points=[
            SeriesPointOut(
                period=p.period,
                period_start=p.period_start,
                value=float(p.value),
                count=p.count,
                completeness=round(judged[p.period].share, 4) if p.period in judged else 1.0,
            )
            for p in points
        ],
    )


def _judged(
    indicator: Indicator,
    series: list[tuple[Unit, list[rollups.CountedPoint]]],
    start: date | None,
) -> tuple[list[list[rollups.CountedPoint]], dict[int, dict[str, PeriodCompleteness]]]:
    """Each unit's points from ``start`` on, and their completeness by the one rule
    (``completeness.recent_completeness``, one query for all the units): the series are read
    from before ``start`` so that its first periods are judged against the ones before them."""
    shown = [
        [p for p in points if start is None or p.period_start >= start] for _u, points in series
    ]
    judged = recent_completeness(
        {
            (indicator.pk, unit.pk): (indicator, unit, [p.period for p in points])
            for unit, points in series
        },
        recent=max((len(points) for points in shown), default=0),
    )
    return shown, {unit.pk: judged.get((indicator.pk, unit.pk), {}) for unit, _p in series}


@router.get(
    "/indicators/{code}/series",
    response=responses(SeriesOut),
    summary="An indicator rolled up for a unit: own, subtree, or its children side by side",
    description=(
        "Read from the roll-up cache kept current on every write: `subtree` (default) is the "
        "unit's value over its whole subtree by the indicator's rule, `own` its own stored "
        "values only, `children` each child's subtree value side by side. Without `unit`, the "
        "whole organisation (the first root). `completeness` is the share of the units that "
        "usually report (a value in at least two of the three periods before) that have a "
        "value in the period: the rule the pages and goal evaluation use."
    ),
)
def indicator_series(
    request: HttpRequest,
    code: IndicatorCode,
    unit: SeriesUnit = None,
    scope: SeriesScope = SeriesScope.SUBTREE,
    period_from: PeriodText = None,
    period_to: PeriodText = None,
) -> HttpResponse:
    principal(request)
    # Cached, as the JSON answer itself, under the data generation (kept in the database):
    # any write of values, move in the tree or change of an indicator starts a new one, for
    # every server process at once, whether the cache is shared (Redis) or each process's
    # own. A cached answer is sent as stored (no validation or serialisation again).
    key = cache_key("api:series", generation.current(), code, unit, scope, period_from, period_to)
    body = cache.get(key)
    if body is None:
        body = _series(code, unit, scope, period_from, period_to).model_dump_json().encode()
        cache.set(key, body, timeout=SERIES_CACHE_SECONDS)
    return HttpResponse(body, content_type="application/json")


SERIES_CACHE_SECONDS = 3600


def _series(
    code: str, unit: str | None, scope: SeriesScope, period_from: str | None, period_to: str | None
) -> SeriesOut:
    indicator = Indicator.objects.filter(code=code).first()
    if indicator is None:
        raise not_found()
    found = within_unit(unit, "unit") or Unit.objects.filter(depth=1).order_by("path").first()
    if found is None:
        raise not_found()
    start = _period_start(period_from, "period_from")
    end = _period_start(period_to, "period_to")
    if scope == SeriesScope.OWN:
        # A unit's own values: each point is its own report, so nothing usual is missing.
        series = [
            _unit_series(found, 1, rollups.own_series(indicator, found, start=start, end=end), {})
        ]
    elif scope == SeriesScope.SUBTREE:
        units = Unit.objects.filter(path__startswith=found.path).count()
        points = rollups.subtree_series(indicator, [found], end=end)[found.pk]
        [shown], judged = _judged(indicator, [(found, points)], start)
        series = [_unit_series(found, units, shown, judged[found.pk])]
    else:
        children = list(
            Unit.objects.filter(path__startswith=found.path, depth=found.depth + 1).order_by("name")
        )
        prefix = len(found.path) + found.steplen
        sizes = dict(
            Unit.objects.filter(path__startswith=found.path, depth__gt=found.depth)
            .annotate(branch=Substr("path", 1, prefix))
            .values("branch")
            .annotate(n=Count("pk"))
            .values_list("branch", "n")
            .order_by()
        )
        by_child = rollups.subtree_series(indicator, children, end=end)
        shown_all, judged = _judged(indicator, [(c, by_child[c.pk]) for c in children], start)
        series = [
            _unit_series(c, sizes.get(c.path, 1), shown, judged[c.pk])
            for c, shown in zip(children, shown_all, strict=True)
        ]
    return SeriesOut(
        indicator=indicator.code,
        aggregation=indicator.aggregation,
        measure_unit=indicator.measure_unit,
        scale=float(indicator.scale),
        unit=found.code,
        scope=scope,
        series=series,
    )


# Values ----------------------------------------------------------------------------------------


class ValueOut(Schema):
    id: int
    indicator: str
    unit: str
    period: str
    period_start: date
    period_end: date
    value: float


class ValuePage(Schema):
    items: list[ValueOut]
    next: str | None


def _period_start(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return parse_period(text).start_date()
    except PeriodError:
        raise invalid(field, str(MESSAGES["unknown_period"])) from None


@router.get(
    "/values",
    response=responses(ValuePage),
    summary="Read stored values (filter by indicator, unit subtree and period range)",
)
def list_values(
    request: HttpRequest,
    indicator: Annotated[str | None, Query(None, max_length=50, pattern=NO_NUL)] = None,
    within: Within = None,
    period_from: PeriodText = None,
    period_to: PeriodText = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ValuePage:
    principal(request)
    qs = IndicatorValue.objects.select_related("indicator", "unit")
    if indicator:
        found = Indicator.objects.filter(code=indicator).first()
        if found is None:
            raise invalid("indicator", _("No indicator has this code."))
        qs = qs.filter(indicator=found)
    subtree = within_unit(within)
    if subtree is not None:
        qs = qs.filter(unit__path__startswith=subtree.path)
    start = _period_start(period_from, "period_from")
    if start is not None:
        qs = qs.filter(period_start__gte=start)
    end = _period_start(period_to, "period_to")
    if end is not None:
        qs = qs.filter(period_start__lte=end)
    rows, following = paginate(qs, keys=["pk"], cursor=cursor, limit=limit)
    return ValuePage(
        items=[
            ValueOut(
                id=v.pk,
                indicator=v.indicator.code,
                unit=v.unit.code,
                period=v.period,
                period_start=v.period_start,
                period_end=v.period_end,
                value=float(v.value),
            )
            for v in rows
        ],
        next=following,
    )


class ValueIn(Schema):
    indicator: Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=NO_NUL)]
    unit: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)] = Field(
        description="Unit code (or an unambiguous unit name)"
    )
    period: Annotated[str, StringConstraints(min_length=1, max_length=10, pattern=NO_NUL)] = Field(
        description="2019, 2019-03, 2019M03, 2019T1 or 2019Q1"
    )
    value: Annotated[Decimal, Field(max_digits=20, decimal_places=6)]


class ValuesIn(Schema):
    values: list[ValueIn] = Field(
        min_length=1,
        description=f"At most {MAX_VALUES_PER_REQUEST:,} values; send more as a file (POST /imports)",
    )
    source: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)] = "api"
    dry_run: bool = Field(False, description="Check every value, write nothing")


class ImportOut(Schema):
    batch: int | None = Field(description="Id of the import batch (none for a dry run)")
    status: str
    rows: int
    created: int
    updated: int


def _observations(values: list[ValueIn]) -> ParseResult:
    result = ParseResult()
    for row, item in enumerate(values):
        try:
            period = parse_period(item.period)
        except PeriodError as exc:
            result.errors.append(ParseError(row, "period", "unknown_period", str(exc)))
            continue
        result.observations.append(Observation(item.indicator, item.unit, period, item.value, row))
    return result


def _row_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        code = error["code"]
        message = str(MESSAGES.get(code, code))
        if error.get("row") is None:
            key = "values"
        else:
            key = f"values.{error['row']}" + (f".{error['column']}" if error.get("column") else "")
        fields.setdefault(key, []).append(message)
    return fields


@router.post(
    "/values",
    response=responses(ImportOut, 201),
    summary="Write values in bulk (strategy office): all or nothing",
    description=(
        "Every value is checked against its indicator and unit first. If any is wrong, nothing "
        "is written and the 400 response lists each problem under `fields`, keyed "
        "`values.<index>.<field>` (index from 0). An existing value for the same indicator, "
        "unit and period is replaced."
    ),
)
def write_values(request: HttpRequest, data: ValuesIn) -> Status:
    user = principal(request).user
    if not is_strategy_office(user):
        raise ApiError(403, "forbidden", _("Only the strategy office can import values."))
    if len(data.values) > MAX_VALUES_PER_REQUEST:
        raise ApiError(
            400,
            "too_many_values",
            _(
                "At most %(limit)s values can be written in one request; send a larger set as a"
                " file to /api/v1/imports, where it is checked and written in the background."
            )
            % {"limit": formats.number_format(MAX_VALUES_PER_REQUEST, force_grouping=True)},
            {"values": [_("Too many values.")]},
        )
    batch = import_observations(
        result=_observations(data.values),
        source=data.source,
        by=user,
        dry_run=data.dry_run,
        user_agent=request.headers.get("User-Agent", ""),
    )
    if batch.errors:
        raise ApiError(
            400,
            "invalid_values",
            ngettext(
                "Nothing was written: %(count)s value is wrong.",
                "Nothing was written: %(count)s values are wrong.",
                batch.errors_total,
            )
            % {"count": batch.errors_total},
            _row_errors(batch.errors),
        )
    return Status(
        201,
        ImportOut(
            batch=batch.pk,
            status=batch.status,
            rows=batch.rows_total,
            created=batch.created,
            updated=batch.updated,
        ),
    )


# KPI files --------------------------------------------------------------------------------------

ERRORS_SHOWN = 100


class RowErrorOut(Schema):
    row: int | None
    column: str | None
    code: str
    message: str = Field(description="In the reader's language; for a limit, with the figure found")
    detail: str = Field(
        description="What was found: a cell's text, or for a limit a whole number (bytes for"
        " a size), followed by + when the file holds at least that"
    )
    found: int | None = Field(None, description="For a limit: the figure found, as a number")
    limit: int | None = Field(None, description="For a limit: the limit, as a number")


class ImportStatusOut(Schema):
    batch: int
    status: str = Field(
        description="checking, preview (checked: confirm it), failed, queued, running, done or"
        " interrupted (confirm again to retry)"
    )
    filename: str
    phase: str = Field(description="What the worker is doing while checking or writing")
    percent: int
    rows: int
    created: int
    updated: int
    errors_total: int
    errors: list[RowErrorOut] = Field(description=f"The first {ERRORS_SHOWN} problems")
    preview: list[dict[str, str]] = Field(description="The first values (once checked)")
    url: str = Field(description="Where to poll this import's status")
    confirm_url: str | None = Field(description="POST here to import it (when checked)")


def _office(request: HttpRequest) -> Any:
    user = principal(request).user
    if not is_strategy_office(user):
        raise ApiError(403, "forbidden", _("Only the strategy office can import values."))
    return user


def _import_status(request: HttpRequest, batch: ImportBatch) -> ImportStatusOut:
    url = request.build_absolute_uri(f"/api/v1/imports/{batch.pk}")
    confirmable = batch.status in (ImportStatus.PREVIEW, ImportStatus.INTERRUPTED) and bool(
        batch.file
    )
    return ImportStatusOut(
        batch=batch.pk,
        status=batch.status,
        filename=batch.filename,
        phase=batch.phase,
        percent=batch.progress_percent,
        rows=batch.rows_total,
        created=batch.created,
        updated=batch.updated,
        errors_total=max(batch.errors_total, len(batch.errors)),
        errors=[
            RowErrorOut(
                row=e.row,
                column=e.column,
                code=e.code,
                message=e.message_with_found,
                detail=e.detail,
                found=e.found_number,
                limit=e.limit_number,
            )
            for e in batch_errors(batch)[:ERRORS_SHOWN]
        ],
        preview=batch.preview if batch.status == ImportStatus.PREVIEW else [],
        url=url,
        confirm_url=f"{url}/confirm" if confirmable else None,
    )


@router.post(
    "/imports",
    url_name="upload_import",
    response={**responses(ImportStatusOut, 202), 413: ErrorOut},
    summary="Upload a KPI file (strategy office): checked in the background",
    description=(
        "A CSV or Excel (xlsx) file as multipart/form-data (`file`, and `indicator`, a code, for"
        " a file without an indicator column). The file is streamed to storage and refused"
        " with 413 as soon as it passes the size limit. The answer (202) names the import; poll"
        " its `url` until `status` is `preview` (then POST `confirm_url`) or `failed` (then"
        " `errors` says why). Nothing is written before the confirmation."
    ),
)
def upload_import(
    request: HttpRequest,
    file: UploadedFile | None = File(None),  # noqa: B008 (ninja's parameter marker)
    indicator: str | None = Form(
        None,
        max_length=50,
        pattern=NO_NUL,
        description="The indicator's code, for a file without an indicator column",
    ),
) -> Status:
    user = _office(request)
    handler = limited_handler(request)
    if handler is not None and handler.refused is not None:
        raise ApiError(413, "file_too_large", handler.refused.message_with_found)
    if file is None:
        raise invalid("file", _("Send the file as the multipart field 'file'."))
    name = file.name or ""
    if not accepted_name(name):
        raise invalid("file", str(MESSAGES["unsupported_format"]))
    chosen = None
    if indicator:
        chosen = Indicator.objects.filter(code=indicator, archived_at__isnull=True).first()
        if chosen is None:
            raise invalid("indicator", str(MESSAGES["unknown_indicator"]))
    batch = submit_upload(
        upload=file,
        filename=name,
        by=user,
        indicator=chosen,
        user_agent=request.headers.get("User-Agent", ""),
    )
    batch.refresh_from_db()
    return Status(202, _import_status(request, batch))


@router.get(
    "/imports/{batch_id}",
    response=responses(ImportStatusOut),
    summary="An import's status (strategy office): progress, problems, preview",
)
def import_status(request: HttpRequest, batch_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Any:
    _office(request)
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise not_found()
    return _import_status(request, batch)


@router.post(
    "/imports/{batch_id}/confirm",
    response=responses(ImportStatusOut, 202),
    summary="Confirm a checked import (strategy office): written in the background, once",
    description=(
        "Queues the writing of a checked file (or retries an interrupted import). Confirming"
        " again, or an import that is not waiting for confirmation, is 409."
    ),
)
def confirm_import(
    request: HttpRequest, batch_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> Status:
    user = _office(request)
    if not ImportBatch.objects.filter(pk=batch_id).exists():
        raise not_found()
    batch, queued = confirm_upload(batch_id=batch_id, by=user)
    if not queued:
        raise conflict(_("This import is not waiting for confirmation."))
    return Status(202, _import_status(request, batch))
