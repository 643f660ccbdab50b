"""Indicators (KPIs), their values per unit and period as imported, and import batches.

Values are stored exactly as they came (unit × period × measure). Every roll-up along the
organisation tree, every ratio and every evaluation is derived from them (see ``rollups.py``),
so changing an indicator's aggregation never destroys data.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from pejling.core.models import ChangeSource
from pejling.indicators.validation import aggregation_problem, indicator_code_problem
from pejling.organisation.models import Unit


class Periodicity(models.TextChoices):
    MONTH = "month", _("Month")
    TERTIAL = "tertial", _("Tertial")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class Direction(models.TextChoices):
    LOWER = "lower", _("Lower is better")
    HIGHER = "higher", _("Higher is better")


class Aggregation(models.TextChoices):
    SUM = "sum", _("Sum over the units")
    RATIO = "ratio", _("Ratio of sums (numerator ÷ denominator)")
    MEAN = "mean", _("Mean of the units' values")
    WEIGHTED_MEAN = "weighted_mean", _("Mean weighted by another measure")
    MAX = "max", _("Highest value")
    MIN = "min", _("Lowest value")
    LATEST = "latest", _("Latest value (for stocks such as head count)")


class MeasureUnit(models.TextChoices):
    DAYS_PER_FTE = "days_per_fte", _("days per FTE")
    DAYS = "days", _("days")
    PERCENT = "percent", _("%")
    COUNT = "count", _("count")
    FTE = "fte", _("FTE")
    SEK = "sek", _("SEK")
    DKK = "dkk", _("DKK")
    NOK = "nok", _("NOK")
    HOURS = "hours", _("hours")


class UpdateFrequency(models.IntegerChoices):
    """How often new values are expected, in days: older data says it is outdated."""

    WEEK = 7, _("Every week")
    MONTH = 31, _("Every month")
    QUARTER = 92, _("Every quarter")
    TERTIAL = 123, _("Every tertial")
    YEAR = 366, _("Every year")


LANGUAGES = ("sv", "da", "nb", "en")


class Indicator(models.Model):
    """A measure. Base measures (sum) are imported; a ratio is computed from two of them."""

    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # The name in each interface language ({"sv": ..., "da": ..., "nb": ..., "en": ...});
    # ``name`` is shown where a language has none.
    names = models.JSONField(_("names in other languages"), default=dict, blank=True)
    description = models.TextField(_("description"), blank=True)
    measure_unit = models.CharField(_("unit"), max_length=20, choices=MeasureUnit.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER
    )
    periodicity = models.CharField(
        _("periodicity"), max_length=10, choices=Periodicity.choices, default=Periodicity.MONTH
    )
    source = models.CharField(_("source"), max_length=200, blank=True)
    aggregation = models.CharField(
        _("aggregation"), max_length=20, choices=Aggregation.choices, default=Aggregation.SUM
    )
    numerator = models.ForeignKey(
        "self",
        verbose_name=_("numerator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    denominator = models.ForeignKey(
        "self",
        verbose_name=_("denominator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    weight = models.ForeignKey(
        "self",
        verbose_name=_("weight"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("For a weighted mean: the measure whose values weigh each unit's value."),
    )
    scale = models.DecimalField(
        _("scale"),
        max_digits=10,
        decimal_places=4,
        default=1,
        help_text=_("A ratio is multiplied by this, e.g. 100 for a percentage."),
    )
    allow_negative = models.BooleanField(_("negative values allowed"), default=False)
    reported_by = models.CharField(
        _("reported by"),
        max_length=200,
        blank=True,
        help_text=_("Who delivers the values, e.g. the payroll office or Statistics Denmark."),
    )
    update_frequency = models.PositiveSmallIntegerField(
        _("expected update frequency"),
        choices=UpdateFrequency.choices,
        null=True,
        blank=True,
        help_text=_("When the newest value is older than this, the indicator says it is outdated."),
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("indicators:indicator_detail", args=[self.code])

    def clean(self) -> None:
        code_problem = indicator_code_problem(self.code)
        if code_problem:
            raise ValidationError({"code": code_problem})
        unknown = set(self.names or {}) - set(LANGUAGES)
        if unknown or not all(isinstance(v, str) for v in (self.names or {}).values()):
            raise ValidationError({"names": _("Names are given per language: sv, da, nb, en.")})
        problem = aggregation_problem(
            ratio=self.aggregation == Aggregation.RATIO,
            weighted_mean=self.aggregation == Aggregation.WEIGHTED_MEAN,
            numerator=bool(self.numerator_id),
            denominator=bool(self.denominator_id),
            weight=bool(self.weight_id),
        )
        if problem:
            raise ValidationError(
                {"weight": problem} if self.aggregation == Aggregation.WEIGHTED_MEAN else problem
            )
        if self.pk and self.pk in {self.numerator_id, self.denominator_id, self.weight_id}:
            raise ValidationError(_("An indicator cannot be computed from itself."))

    @property
    def is_derived(self) -> bool:
        return self.aggregation == Aggregation.RATIO

    @property
    def display_name(self) -> str:
        """The name in the active language, else ``name``."""
        language = (get_language() or "en").split("-")[0]
        return str((self.names or {}).get(language) or self.name)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def lower_is_better(self) -> bool:
        return self.direction == Direction.LOWER


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("Checking")
    PREVIEW = "preview", _("Waiting for confirmation")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Rejected")
    INTERRUPTED = "interrupted", _("Interrupted")


class ImportBatch(models.Model):
    """One import of KPI values: a file or a fetch from a national statistics source."""

    source = models.CharField(_("source"), max_length=200)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    # The uploaded file, by its name in the "imports" storage (settings.STORAGES; kept after
    # the import, deleted with the batch). Empty for values from the API or a fetch.
    file = models.CharField(_("uploaded file"), max_length=255, blank=True, editable=False)
    default_indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("indicator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.PREVIEW
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows imported"), default=0)
    created = models.PositiveIntegerField(_("values created"), default=0)
    updated = models.PositiveIntegerField(_("values updated"), default=0)
    # The first problems found (at most imports.checking.ERRORS_KEPT) and how many in all.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    errors_total = models.PositiveIntegerField(_("problems"), default=0)
    # What the worker's check of an upload found, for its page: the first rows, and the
    # periods the import would leave incomplete ({indicator, period, reported, expected}).
    preview = models.JSONField(_("preview"), default=list, blank=True, editable=False)
    incomplete = models.JSONField(default=list, blank=True, editable=False)
    # Where the worker is: "reading", "checking" or "writing", done of total (rows or bytes).
    phase = models.CharField(max_length=20, blank=True, editable=False)
    phase_done = models.PositiveBigIntegerField(default=0, editable=False)
    phase_total = models.PositiveBigIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The background job writing it (its heartbeat is its worker's, see ops/jobs.py).
    job_id = models.CharField(_("job"), max_length=64, blank=True, editable=False)
    # From where, beside the address its history rows keep (core.models.ChangeSource): the
    # browser or program that sent the file or the values, or the fetch that brought them.
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    fetch = models.ForeignKey(
        "SourceFetch",
        verbose_name=_("fetch"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(
        excluded_fields=[
            "rows_done",
            "preview",
            "incomplete",
            "phase",
            "phase_done",
            "phase_total",
        ]
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.source} {self.filename} ({self.created_at:%Y-%m-%d %H:%M})"

    def end_phase(self) -> None:
        """The worker is done with it: no phase, no progress (set, not saved)."""
        self.phase = ""
        self.phase_done = self.phase_total = 0

    @property
    def progress_percent(self) -> int:
        done, total = self.phase_done, self.phase_total
        if not total:
            done, total = self.rows_done, self.rows_total
        if not total:
            return 0
        return min(100, round(100 * done / total))


# The change reason of a value's history row that an import wrote or that stands for one
# (``IndicatorValue.imported_history``; ``core/history.py`` names it to the reader).
IMPORTED = "imported"


class ValueHistoryBase(models.Model):
    """What a changed value was before (its history row keeps the number and import after):
    imports record a value's history only when they change it, so the row before may not
    exist (a value an import created has no history row; its ``batch`` says which import)."""

    previous_value = models.DecimalField(
        _("value before"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    previous_batch_id = models.BigIntegerField(_("import before"), null=True, blank=True)

    class Meta:
        abstract = True


class IndicatorValue(models.Model):
    """One stored value: a base measure for one unit and one period, as imported."""

    # No separate index on indicator: the unique constraint (indicator, unit, period) and the
    # (indicator, period_start) index both lead with it. Fewer indexes keep bulk imports fast.
    indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("indicator"),
        on_delete=models.PROTECT,
        related_name="values",
        db_index=False,
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="indicator_values"
    )
    period = models.CharField(
        _("period"), max_length=10
    )  # canonical: 2019, 2019T1, 2019Q1, 2019-03
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=6)
    # Not indexed: batches are only looked up from a value, and deleting a batch is rare.
    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("import"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Every value's change and deletion, with who and when (the audit trail). An import is
    # recorded once, as its ImportBatch; it writes history rows set-based in SQL
    # (``imports/writing.py``) only for the values it changed, with before and after
    # (ValueHistoryBase), none for those it created (their ``batch`` says who and when). The
    # history table is indexed only on what the trail reads by (the value's id, the time, the
    # person), and its person is not checked per row by the database (users are deactivated,
    # never deleted; a million rows would be a million checks).
    history = HistoricalRecords(
        no_db_index=["indicator", "unit", "batch"],
        user_db_constraint=False,
        bases=[ValueHistoryBase],
    )

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "unit", "period"], name="one_value_per_unit_period"
            )
        ]
        indexes = [
            models.Index(fields=["indicator", "period_start"], name="value_indicator_period")
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.unit.code} {self.period} = {self.value}"

    @classmethod
    def audit_sources(cls, rows: list[Any]) -> dict[int, ChangeSource]:
        """Where imported values came from: where their import was uploaded or started (the
        first of the batch's history rows with a source), in two queries."""
        batch_history = ImportBatch.history.model.objects.filter(
            id__in={r.batch_id for r in rows if r.batch_id}
        ).values_list("history_id", "id")
        batch_of = dict(batch_history)
        first: dict[int, ChangeSource] = {}
        for source in ChangeSource.objects.filter(
            history_model=ImportBatch._meta.label_lower, history_id__in=list(batch_of)
        ).order_by("history_id"):
            first.setdefault(batch_of[source.history_id], source)
        return {r.history_id: first[r.batch_id] for r in rows if r.batch_id in first}

    @classmethod
    def audit_origin(cls, object_id: int) -> list[Any]:
        """An unsaved history row standing for how a value an import created came about, when
        no history row records it (imports record the import, not each new value): who, when
        and in which import, from the import (and the value as it was, from its first change
        or its deletion, else as it is). Empty when a history row records its creation."""
        historical = cls.history.model
        rows = list(historical.objects.filter(id=object_id).order_by("history_date", "history_id"))
        if any(r.history_type == "+" for r in rows):
            return []
        state: Any
        if rows:
            first = rows[0]
            if first.history_type == "~" and first.previous_value is not None:
                state, value, batch_id = first, first.previous_value, first.previous_batch_id
            elif first.history_type == "-":
                state, value, batch_id = first, first.value, first.batch_id
            else:
                return []
        else:
            state = cls.objects.filter(pk=object_id).first()
            if state is None:
                return []
            value, batch_id = state.value, state.batch_id
        batch = (
            ImportBatch.objects.select_related("created_by")
            .defer("preview", "incomplete", "errors")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None:
            return []
        row = cls.imported_history(
            object_id,
            state,
            value=value,
            batch=batch,
            history_type="+",
            history_date=batch.finished_at or batch.created_at,
        )
        row.history_id = 0
        row.history_user = batch.created_by  # read with the batch: no query per row shown
        return [row]

    @classmethod
    def imported_history(
        cls,
        pk: int,
        where: Any,
        *,
        value: Decimal,
        batch: ImportBatch,
        history_type: str,
        history_date: datetime,
        previous_value: Decimal | None = None,
        previous_batch_id: int | None = None,
    ) -> Any:
        """An unsaved history row of the value ``pk`` as the import ``batch`` wrote it, by the
        person who started the import: a change (``"~"``, with the number and import before)
        the import writes, or a creation (``"+"``) the audit trail shows, which imports do not
        write (``audit_origin``). ``where``: anything with the value's indicator_id, unit_id,
        period, period_start and period_end (the value, a history row, a checked row). The
        set-based writer on PostgreSQL writes the same columns in SQL (``imports/writing.py``)."""
        return cls.history.model(
            id=pk,
            indicator_id=where.indicator_id,
            unit_id=where.unit_id,
            period=where.period,
            period_start=where.period_start,
            period_end=where.period_end,
            value=value,
            batch_id=batch.pk,
            previous_value=previous_value,
            previous_batch_id=previous_batch_id,
            history_date=history_date,
            history_change_reason=IMPORTED,
            history_type=history_type,
            history_user_id=batch.created_by_id,
        )

    @classmethod
    def audit_changes(cls, rows: list[Any]) -> dict[int, list[tuple[str, Any, Any]]]:
        """(field, before, after) of history rows that say themselves: a change an import made
        (its number and import before and after), and a creation recorded by its import only
        (``audit_origin``: which import, its file)."""
        out: dict[int, list[tuple[str, Any, Any]]] = {}
        for row in rows:
            if row.history_type == "~" and row.previous_value is not None:
                changes = [("value", row.previous_value, row.value)]
                if row.previous_batch_id != row.batch_id:
                    changes.append(("batch", row.previous_batch_id, row.batch_id))
                out[row.history_id] = changes
            elif row.history_id == 0 and row.batch_id is not None:
                batch = (
                    ImportBatch.objects.defer("preview", "incomplete", "errors")
                    .filter(pk=row.batch_id)
                    .first()
                )
                name = (
                    f"{row.batch_id}: {batch.filename or batch.source}" if batch else row.batch_id
                )
                out[0] = [("value", None, row.value), ("batch", None, name)]
        return out

    @classmethod
    def audit_labels(cls, rows: list[Any]) -> dict[int, str]:
        """ "indicator · unit · period" for history rows of values, in two queries."""
        indicators = dict(
            Indicator.objects.filter(pk__in={r.indicator_id for r in rows}).values_list(
                "pk", "code"
            )
        )
        units = dict(
            Unit.objects.filter(pk__in={r.unit_id for r in rows}).values_list("pk", "code")
        )
        return {
            r.history_id: " · ".join(
                (indicators.get(r.indicator_id, "?"), units.get(r.unit_id, "?"), r.period)
            )
            for r in rows
        }


class KpiGoal(models.Model):
    """How a KPI goal is measured: which indicator, for which unit (the whole organisation when
    empty). Baseline and target live on the goal element itself."""

    goal = models.OneToOneField(
        "strategy.Element", verbose_name=_("goal"), on_delete=models.CASCADE, related_name="kpi"
    )
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="goals"
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("measured for"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the whole organisation."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("KPI goal")
        verbose_name_plural = _("KPI goals")

    def __str__(self) -> str:
        return f"{self.goal} ← {self.indicator}"


class StatisticsSource(models.TextChoices):
    KOLADA = "kolada", _("Kolada (Sweden)")
    STATBANK = "statbank", _("Statistics Denmark (StatBank)")
    SSB = "ssb", _("Statistics Norway (SSB)")


class AreaMapping(models.Model):
    """Which of our units a national statistics source's area is (a municipality, a region):
    kept once, reused by every fetch from that source, in the browser and by ``fetch-kpi``."""

    source = models.CharField(_("source"), max_length=20, choices=StatisticsSource.choices)
    area = models.CharField(_("area code in the source"), max_length=50)
    label = models.CharField(_("area name in the source"), max_length=200, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["source", "area"]
        verbose_name = _("area mapping")
        verbose_name_plural = _("area mappings")
        constraints = [
            models.UniqueConstraint(fields=["source", "area"], name="one_unit_per_source_area")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.area} → {self.unit_id}"


class Schedule(models.TextChoices):
    MANUAL = "manual", _("Only when asked")
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")


class FetchStatus(models.TextChoices):
    NEVER = "never", _("Not run yet")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Fetched")
    FAILED = "failed", _("Failed")


class SourceFetch(models.Model):
    """A series of a national statistics source fetched into an indicator: which series, the
    value picked or the sum asked for each dimension beyond area and time, the periods, the
    schedule, and how the last run went. Areas map to units through :class:`AreaMapping`."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="fetches"
    )
    source = models.CharField(_("source"), max_length=20, choices=StatisticsSource.choices)
    series = models.CharField(_("series"), max_length=50)
    series_label = models.CharField(_("series name"), max_length=300, blank=True)
    area_dimension = models.CharField(_("area dimension"), max_length=50, blank=True)
    time_dimension = models.CharField(_("time dimension"), max_length=50, blank=True)
    picks = models.JSONField(_("values picked"), default=dict, blank=True)
    sums = models.JSONField(_("summed over"), default=list, blank=True)
    periods = models.JSONField(_("periods"), default=list, blank=True)
    # The source's names of the picked or summed dimensions and of the picked values, as
    # described when the fetch was saved: {dimension id: {"label": …, "value": …}}.
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    schedule = models.CharField(
        _("schedule"), max_length=10, choices=Schedule.choices, default=Schedule.MANUAL
    )
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=FetchStatus.choices, default=FetchStatus.NEVER
    )
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_fetched = models.PositiveIntegerField(_("values fetched"), default=0)
    last_kept = models.PositiveIntegerField(_("values for our units"), default=0)
    last_created = models.PositiveIntegerField(_("values created"), default=0)
    last_updated = models.PositiveIntegerField(_("values updated"), default=0)
    last_errors = models.JSONField(_("errors"), default=list, blank=True)
    last_batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("import"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["status", "next_run_at"])

    class Meta:
        ordering = ["indicator__code", "pk"]
        verbose_name = _("statistics fetch")
        verbose_name_plural = _("statistics fetches")

    def __str__(self) -> str:
        return f"{self.source} {self.series} → {self.indicator_id}"

    def get_absolute_url(self) -> str:
        return reverse("indicators:fetch_detail", args=[self.pk])

    def choices_described(self) -> list[tuple[str, str]]:
        """Each picked or summed dimension by the source's name, with the value picked by name
        and code ("Kön: Totalt (T)"); the code alone where no name was kept."""
        labels = self.labels or {}
        out = []
        for dim, code in (self.picks or {}).items():
            named = labels.get(dim) or {}
            value = named.get("value")
            out.append(
                (str(named.get("label") or dim), f"{value} ({code})" if value else str(code))
            )
        for dim in self.sums or []:
            named = labels.get(dim) or {}
            out.append(
                (
                    str(named.get("label") or dim),
                    str(_("Sum over all (the source's total where it has one)")),
                )
            )
        return out


class IndicatorRollup(models.Model):
    """A cache: one base indicator's values over one unit's whole subtree for one period.

    Derived from :class:`IndicatorValue` and kept current by ``indicators/aggregate.py`` in the
    transaction of every write of values and every move in the tree; ``pejling rebuild-rollups``
    derives it again from the values, and the tests prove the two agree. Every column is a
    decomposable aggregate (a parent's row is its own value combined with its children's rows),
    so each rule reads what it needs: ``sum``/``latest`` the total, ``mean`` total ÷ count,
    ``max``/``min`` the extremes, ``weighted_mean`` Σ(value × weight) ÷ Σ weight over the units
    that carry both, ``ratio`` the totals of its numerator and denominator.
    """

    # No foreign-key checks in the database (a cache written set-based, rebuilt from the values
    # at will); deleting an indicator deletes its rows.
    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, db_constraint=False, related_name="+")
    period = models.CharField(max_length=10)
    period_start = models.DateField()
    count = models.PositiveIntegerField()  # values in the subtree
    total = models.DecimalField(max_digits=30, decimal_places=6)
    lowest = models.DecimalField(max_digits=20, decimal_places=6)
    highest = models.DecimalField(max_digits=20, decimal_places=6)
    weighted = models.DecimalField(max_digits=36, decimal_places=6, null=True)  # Σ value × w
    weights = models.DecimalField(max_digits=30, decimal_places=6, null=True)  # Σ w

    class Meta:
        verbose_name = _("indicator roll-up")
        verbose_name_plural = _("indicator roll-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "unit", "period"], name="one_rollup_per_unit_period"
            )
        ]
        indexes = [models.Index(fields=["unit", "indicator"], name="rollup_unit_indicator")]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.unit_id} {self.period}"


class IndicatorPresence(models.Model):
    """A cache beside the roll-ups: the periods one unit has its own value of one base
    indicator in, as bits.

    ``block`` numbers a run of 60 periods of one kind (months, tertials, quarters or years) and
    ``mask`` has bit ``i`` set when the unit has a value in the block's ``i``-th period
    (``aggregate.presence_slot``). Kept current by ``indicators/aggregate.py`` with the
    roll-ups, derived again by ``pejling rebuild-rollups``; the completeness rule reads a
    subtree's presence from it (one row per unit and block, not one per value). A unit's
    presence does not depend on where it sits in the tree: moves leave it as it is.
    """

    # The unique constraint (indicator, unit, block) leads with the indicator: no index of its own.
    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, db_constraint=False, related_name="+")
    block = models.IntegerField()
    mask = models.BigIntegerField()

    class Meta:
        verbose_name = _("indicator presence")
        verbose_name_plural = _("indicator presence")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "unit", "block"], name="one_presence_per_unit_block"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.unit_id} {self.block}"
