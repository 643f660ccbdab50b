from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "pejling.indicators"
    label = "indicators"
    verbose_name = _("indicators")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from pejling.indicators import aggregate
        from pejling.indicators.imports import delete_stored_file
        from pejling.indicators.models import ImportBatch
        from pejling.organisation.models import unit_moved, units_moved

        # A batch deleted (one, or many by a query): its uploaded file goes with it.
        post_delete.connect(
            lambda sender, instance, **kwargs: delete_stored_file(instance),
            sender=ImportBatch,
            weak=False,
            dispatch_uid="indicators.imports.file",
        )

        # A unit moved in the tree: the roll-up cache of the units it left and joined.
        unit_moved.connect(aggregate.on_unit_moved, dispatch_uid="indicators.rollups.moved")
        # Many units moved at once (the organisation sync): one set-based update.
        units_moved.connect(aggregate.on_units_moved, dispatch_uid="indicators.rollups.many")
