"""Demo KPI data for Fjärdviks kommun: sick leave and FTEs per unit and month, e-services.

Values are generated from a fixed seed with a winter peak and a slow decline, imported through
the same import service as real files.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal
from typing import Any

from pejling.demo.util import save_if_changed
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


def load_indicators(by: Any) -> None:
    days, _ = save_if_changed(
        Indicator,
        code="SJUKDAGAR",
        defaults={
            "name": "Sjukfrånvarodagar",
            "measure_unit": MeasureUnit.DAYS,
            "direction": Direction.LOWER,
            "periodicity": Periodicity.MONTH,
            "source": "Lönesystemet",
            "aggregation": Aggregation.SUM,
        },
    )
    fte, _ = save_if_changed(
        Indicator,
        code="ARSARB",
        defaults={
            "name": "Årsarbetare",
            "measure_unit": MeasureUnit.FTE,
            "direction": Direction.HIGHER,
            "periodicity": Periodicity.MONTH,
            "source": "Lönesystemet",
            "aggregation": Aggregation.LATEST,
        },
    )
    sick, _ = save_if_changed(
        Indicator,
        code="SJUK_PER_ARSARB",
        defaults={
            "name": "Sjukfrånvaro per årsarbetare (årstakt)",
            "measure_unit": MeasureUnit.DAYS_PER_FTE,
            "direction": Direction.LOWER,
            "periodicity": Periodicity.MONTH,
            "source": "Lönesystemet",
            "aggregation": Aggregation.RATIO,
            "numerator": days,
            "denominator": fte,
            "scale": Decimal(12),
            "description": "Sjukfrånvarodagar delat med årsarbetare, uppräknat till helår (×12).",
        },
    )
    digital, _ = save_if_changed(
        Indicator,
        code="ETJ_DIGITAL",
        defaults={
            "name": "E-tjänster med helt digital handläggning",
            "measure_unit": MeasureUnit.COUNT,
            "direction": Direction.HIGHER,
            "periodicity": Periodicity.QUARTER,
            "source": "E-tjänsteplattformen",
            "aggregation": Aggregation.SUM,
        },
    )
    services, _ = save_if_changed(
        Indicator,
        code="ETJ_TOTAL",
        defaults={
            "name": "E-tjänster totalt",
            "measure_unit": MeasureUnit.COUNT,
            "direction": Direction.HIGHER,
            "periodicity": Periodicity.QUARTER,
            "source": "E-tjänsteplattformen",
            "aggregation": Aggregation.SUM,
        },
    )
    share, _ = save_if_changed(
        Indicator,
        code="ETJ_ANDEL",
        defaults={
            "name": "Andel e-tjänster med helt digital handläggning",
            "measure_unit": MeasureUnit.PERCENT,
            "direction": Direction.HIGHER,
            "periodicity": Periodicity.QUARTER,
            "source": "E-tjänsteplattformen",
            "aggregation": Aggregation.RATIO,
            "numerator": digital,
            "denominator": services,
            "scale": Decimal(100),
        },
    )
    goals = {
        e.code: e
        for e in Element.objects.filter(
            code__in=["T3.1", "T4.2"], strategy__code="koncernstrategi-2025-2026"
        )
    }
    if "T3.1" in goals:
        save_if_changed(KpiGoal, goal=goals["T3.1"], defaults={"indicator": sick, "unit": None})
    if "T4.2" in goals:
        save_if_changed(KpiGoal, goal=goals["T4.2"], defaults={"indicator": share, "unit": None})
    if IndicatorValue.objects.filter(indicator__in=[days, fte, digital, services]).exists():
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
