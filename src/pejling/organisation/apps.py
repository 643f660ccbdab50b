from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What a user's row adds to the pages cached under the data generation (the unit page's people
# and roles): a save that may change these raises the generation; a log-in's save of
# ``last_login`` does not.
PERSON_SHOWN = ("username", "first_name", "last_name", "is_active")


class OrganisationConfig(AppConfig):
    name = "pejling.organisation"
    label = "organisation"
    verbose_name = _("organisation")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from pejling.core import generation
        from pejling.organisation.models import unit_moved, units_moved

        # The unit page is cached under the data generation (``views.unit_detail``): every
        # write of the tree, its levels and memberships raises it, so does a move (which
        # rewrites paths with updates and sends no ``post_save``, only ``unit_moved``) and a
        # change of a person's name.
        for model in self.get_models():
            if not model.__name__.startswith("Historical"):
                generation.watch(model)
        generation.watch(get_user_model(), fields=PERSON_SHOWN)
        unit_moved.connect(_moved, weak=False, dispatch_uid="core.generation.unit_moved")
        units_moved.connect(_moved, weak=False, dispatch_uid="core.generation.units_moved")


def _moved(**_kwargs: object) -> None:
    from pejling.core import generation

    generation.bump()
