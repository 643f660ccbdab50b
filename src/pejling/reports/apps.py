from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "pejling.reports"
    label = "reports"
    verbose_name = _("board reports")

    def ready(self) -> None:
        from pejling.followup.reminders import register_reminder_source
        from pejling.reports.reminders import chapters_due

        register_reminder_source(chapters_due)
