from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The audit trail (page, CSV export, and the listing the API's audit endpoint pages)."""

    name = "pejling.audit"
    label = "audit"
    verbose_name = _("audit trail")
