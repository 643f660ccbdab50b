"""Writing a package's indicator values: set-based, as imports write them (with their history
rows), after the same checks (``indicators/validation.py``) in the package's check."""

from __future__ import annotations

from decimal import Decimal

from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from pejling.indicators import aggregate
from pejling.indicators.models import Indicator, IndicatorValue
from pejling.indicators.sources.records import Period, parse_period
from pejling.packages.formats import to_decimal
from pejling.packages.loading.write_base import WriterBase


class ValueWriter(WriterBase):
    def write_values(self) -> None:
        for code, rows in self.data["indicator_values"].items():
            indicator = self.indicators.get(code) or Indicator.objects.get(code=code)
            self.write_indicator_values(indicator, rows)

    def write_indicator_values(self, indicator: Indicator, rows: list[list[str]]) -> None:
        """Make ``indicator``'s values exactly ``rows`` (unit code, period, value)."""
        existing = {
            (unit_id, period): (pk, value)
            for pk, unit_id, period, value in IndicatorValue.objects.filter(
                indicator=indicator
            ).values_list("pk", "unit_id", "period", "value")
        }
        new: list[IndicatorValue] = []
        changed: dict[int, Decimal] = {}
        for unit_code, period_text, value_text in rows:
            unit = self.units[unit_code]
            period: Period = parse_period(period_text)
            value = to_decimal(value_text)
            assert value is not None
            current = existing.pop((unit.pk, str(period)), None)
            if current is None:
                new.append(
                    IndicatorValue(
                        indicator=indicator,
                        unit=unit,
                        period=str(period),
                        period_start=period.start_date(),
                        period_end=period.end_date(),
                        value=value,
                    )
                )
            elif current[1] != value:
                changed[current[0]] = value
        # With their history rows (the audit trail), as imports write them; whole rows only
        # of the changed values (a history row copies every field).
        bulk_create_with_history(
            new, IndicatorValue, batch_size=1000, default_change_reason="loaded"
        )
        updated = list(IndicatorValue.objects.in_bulk(list(changed)).values())
        for stored in updated:
            stored.value = changed[stored.pk]
        bulk_update_with_history(
            updated, IndicatorValue, ["value"], batch_size=1000, default_change_reason="loaded"
        )
        gone = [pk for pk, _value in existing.values()]
        IndicatorValue.objects.filter(pk__in=gone).delete()  # history rows by signal
        if new or changed or gone:
            aggregate.apply_value_changes(indicator_ids=[indicator.pk])  # the roll-up cache
        self.report.count("indicator value", "created", len(new))
        self.report.count("indicator value", "updated", len(changed))
        self.report.count("indicator value", "removed", len(gone))
