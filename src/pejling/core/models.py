"""Where a change came from, kept beside django-simple-history's rows.

Every historical table already records who, when, what and why. "From where" is kept here, in
one small table keyed by (historical model, history id), so no historical table changes shape:
a signal adds a row for each history row written during a request (see ``core/sources.py``; shown by ``pejling.audit``),
and for each written by a background job that a request started (via "task", with that
request's id). Changes made otherwise (management commands, the demo loader, scheduled jobs)
have no row and are shown as "command or task".
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeVia(models.TextChoices):
    WEB = "web", _("web page")
    API_TOKEN = "api-token", _("API with a personal token")
    API_SESSION = "api-session", _("API from a signed-in browser")
    TASK = "task", _("background job started by a request")


class ChangeSource(models.Model):
    """How one history row came about: through a page or the API (and which token), from which
    address."""

    history_model = models.CharField(_("model"), max_length=100)
    history_id = models.BigIntegerField(_("history id"))
    via = models.CharField(_("via"), max_length=20, choices=ChangeVia.choices)
    token_name = models.CharField(_("API token"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # The request's id (X-Request-ID or generated; see core/request_context.py): the same id is
    # in the request's log line and in the log lines of the jobs it started.
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("change source")
        verbose_name_plural = _("change sources")
        constraints = [
            models.UniqueConstraint(
                fields=["history_model", "history_id"], name="one_source_per_history_row"
            )
        ]

    def __str__(self) -> str:
        return f"{self.history_model}#{self.history_id}: {self.via}"


class DataGeneration(models.Model):
    """One row: the data generation (``core/generation.py``), raised after the commit of every
    write that changes figures cached under it."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.value)
