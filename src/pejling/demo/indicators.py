"""Demo KPI data for Fjärdviks kommun: sick leave and FTEs per unit and month, e-services.

Values are generated from a fixed seed with a winter peak and a slow decline, imported through
the same import service as real files.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal
from typing import Any

from pejling.core.history import SYSTEM
from pejling.demo.util import save_if_changed
from pejling.indicators import services as indicator_services
from pejling.indicators.imports import import_observations
from pejling.indicators.models import (
    Aggregation,
    Direction,
    Indicator,
    IndicatorValue,
    KpiGoal,
    MeasureUnit,
    Periodicity,
)
from pejling.indicators.sources.records import Observation, ParseResult, Period
from pejling.organisation.models import Unit
from pejling.strategy.models import Element

FIRST_YEAR, LAST_YEAR, LAST_MONTH = 2024, 2026, 10

STAFF = {"periodicity": Periodicity.MONTH, "source": "Lönesystemet"}
ESERVICES = {"periodicity": Periodicity.QUARTER, "source": "E-tjänsteplattformen"}

# The demo's indicators, in the order they are created. A ratio names its numerator and
# denominator by code: both come earlier in the table.
INDICATORS: list[dict[str, Any]] = [
    {
        "code": "SJUKDAGAR",
        "name": "Sjukfrånvarodagar",
        "measure_unit": MeasureUnit.DAYS,
        "direction": Direction.LOWER,
        **STAFF,
        "aggregation": Aggregation.SUM,
    },
    {
        "code": "ARSARB",
        "name": "Årsarbetare",
        "measure_unit": MeasureUnit.FTE,
        "direction": Direction.HIGHER,
        **STAFF,
        "aggregation": Aggregation.LATEST,
    },
    {
        "code": "SJUK_PER_ARSARB",
        "name": "Sjukfrånvaro per årsarbetare (årstakt)",
        "measure_unit": MeasureUnit.DAYS_PER_FTE,
        "direction": Direction.LOWER,
        **STAFF,
        "aggregation": Aggregation.RATIO,
        "numerator": "SJUKDAGAR",
        "denominator": "ARSARB",
        "scale": Decimal(12),
        "description": "Sjukfrånvarodagar delat med årsarbetare, uppräknat till helår (×12).",
    },
    {
        "code": "ETJ_DIGITAL",
        "name": "E-tjänster med helt digital handläggning",
        "measure_unit": MeasureUnit.COUNT,
        "direction": Direction.HIGHER,
        **ESERVICES,
        "aggregation": Aggregation.SUM,
    },
    {
        "code": "ETJ_TOTAL",
        "name": "E-tjänster totalt",
        "measure_unit": MeasureUnit.COUNT,
        "direction": Direction.HIGHER,
        **ESERVICES,
        "aggregation": Aggregation.SUM,
    },
    {
        "code": "ETJ_ANDEL",
        "name": "Andel e-tjänster med helt digital handläggning",
        "measure_unit": MeasureUnit.PERCENT,
        "direction": Direction.HIGHER,
        **ESERVICES,
        "aggregation": Aggregation.RATIO,
        "numerator": "ETJ_DIGITAL",
        "denominator": "ETJ_TOTAL",
        "scale": Decimal(100),
    },
]

# Goals measured by an indicator (goal code in the group strategy → indicator code).
KPI_GOALS = {"T3.1": "SJUK_PER_ARSARB", "T4.2": "ETJ_ANDEL"}
# The indicators whose values the demo imports (the ratios are derived from them).
IMPORTED = ["SJUKDAGAR", "ARSARB", "ETJ_DIGITAL", "ETJ_TOTAL"]


def load_indicators(by: Any) -> None:
    indicators: dict[str, Indicator] = {}
    for spec in INDICATORS:
        defaults = {k: v for k, v in spec.items() if k != "code"}
        for part in ("numerator", "denominator"):
            if part in defaults:
                defaults[part] = indicators[defaults[part]]
        indicators[spec["code"]], _ = save_if_changed(
            Indicator,
            save=lambda i: indicator_services.indicator_save(indicator=i, by=SYSTEM),
            code=spec["code"],
            defaults=defaults,
        )
    goals = {
        e.code: e
        for e in Element.objects.filter(
            code__in=list(KPI_GOALS), strategy__code="koncernstrategi-2025-2026"
        )
    }
    for goal_code, indicator_code in KPI_GOALS.items():
        if goal_code in goals:
            save_if_changed(
                KpiGoal,
                save=lambda k: indicator_services.kpi_goal_save(kpi=k, by=SYSTEM),
                goal=goals[goal_code],
                defaults={"indicator": indicators[indicator_code], "unit": None},
            )
    imported = [indicators[code] for code in IMPORTED]
    if IndicatorValue.objects.filter(indicator__in=imported).exists():
        return
    observations = _staff_values() + _eservice_values()
    import_observations(
        result=ParseResult(observations=observations), source="demo", by=by, filename="demo"
    )


def _staff_values() -> list[Observation]:
    rng = random.Random(149)
    observations: list[Observation] = []
    units = list(Unit.objects.filter(depth__gte=2).order_by("path"))
    leaves = {u.path for u in units if u.numchild == 0}
    for unit in units:
        # Every leaf unit reports; centres and departments carry their own staff too.
        if unit.path not in leaves and rng.random() < 0.4:
            continue
        staff = rng.uniform(8, 55) if unit.path in leaves else rng.uniform(3, 12)
        base_rate = rng.uniform(12.5, 17.5)  # days per FTE and year
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            for month in range(1, 13):
                if year == LAST_YEAR and month > LAST_MONTH:
                    break
                elapsed = (year - FIRST_YEAR) * 12 + month
                season = 1 + 0.22 * math.cos((month - 1.5) / 12 * 2 * math.pi)
                trend = 1 - 0.0035 * elapsed
                rate = base_rate * season * trend * rng.uniform(0.9, 1.1)
                ftes = round(staff * rng.uniform(0.97, 1.03), 1)
                period = Period(year, "month", month)
                observations.append(Observation("ARSARB", unit.code, period, Decimal(str(ftes))))
                observations.append(
                    Observation(
                        "SJUKDAGAR", unit.code, period, Decimal(str(round(rate * ftes / 12, 1)))
                    )
                )
    return observations


def _eservice_values() -> list[Observation]:
    root = Unit.objects.filter(depth=1).order_by("path").first()
    if root is None:
        return []
    observations = []
    total = 140
    digital = 49
    for year in range(2024, LAST_YEAR + 1):
        for quarter in range(1, 5):
            if year == LAST_YEAR and quarter > 3:
                break
            total += 3
            digital += 4
            period = Period(year, "quarter", quarter)
            observations.append(Observation("ETJ_TOTAL", root.code, period, Decimal(total)))
            observations.append(Observation("ETJ_DIGITAL", root.code, period, Decimal(digital)))
    return observations
