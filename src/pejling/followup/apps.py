from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The apps whose data the cached follow-up figures (``followup/figures.py``) are made of,
# besides the tree (which ``organisation/apps.py`` watches itself, moves included): the
# strategies and their goals, the agreements and their links, follow-up (deadlines, reports,
# assessments) and the indicators' values.
FIGURES_READ = ("strategy", "agreements", "followup", "indicators")
# Written only together with a model that raises the generation itself: history rows (with
# the row they record) and the roll-up cache (with the values, ``aggregate._changed``).
NOT_WATCHED = {"indicators.IndicatorRollup"}


class FollowupConfig(AppConfig):
    name = "pejling.followup"
    label = "followup"
    verbose_name = _("follow-up")

    def ready(self) -> None:
        from django.apps import apps

        from pejling.core import generation

        # Every save and delete of these apps' models raises the data generation; writes that
        # send no signal raise it themselves (``core/generation.py`` says which).
        for label in FIGURES_READ:
            for model in apps.get_app_config(label).get_models():
                if model._meta.label in NOT_WATCHED or model.__name__.startswith("Historical"):
                    continue
                generation.watch(model)
        # Moves in the tree raise it too (``organisation/apps.py``).
