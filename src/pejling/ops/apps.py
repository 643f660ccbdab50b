from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "pejling.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from pejling.ops import jobs

        jobs.connect()
