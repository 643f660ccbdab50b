from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "pejling.indicators"
    label = "indicators"
    verbose_name = _("indicators")

    def ready(self) -> None:
        from pejling.indicators import aggregate
        from pejling.organisation.models import unit_moved, units_moved

        # A unit moved in the tree: the roll-up cache of the units it left and joined.
        unit_moved.connect(aggregate.on_unit_moved, dispatch_uid="indicators.rollups.moved")
        # Many units moved at once (the organisation sync): one set-based update.
        units_moved.connect(aggregate.on_units_moved, dispatch_uid="indicators.rollups.many")
