from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OverviewConfig(AppConfig):
    """Pages that read many apps: the home page (line of sight), the executive dashboard and
    the compliance matrix. No models; the selectors they call stay in their own apps."""

    name = "pejling.overview"
    label = "overview"
    verbose_name = _("overview")
