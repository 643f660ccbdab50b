"""Which roles a group of the identity provider gives, on which unit.

An identity provider (OpenID Connect or SAML) may send the groups a person belongs to. Each
``GroupRole`` row says: members of this group hold this role on this unit (and so on its whole
subtree). At every sign-in the person's memberships granted this way are replaced by what their
current groups give; memberships granted by hand in Pejling are never touched.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from pejling.organisation.models import Role, Unit


class GroupRole(models.Model):
    group = models.CharField(
        _("group"),
        max_length=255,
        help_text=_(
            "The group's name or identifier exactly as the identity provider sends it "
            "(for Entra ID the group's object ID)."
        ),
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="group_roles"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("group role")
        verbose_name_plural = _("group roles")
        ordering = ["group", "unit__path", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "unit", "role"],
                name="unique_group_role",
                violation_error_message=_("This group already gives this role on this unit."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.get_role_display()} · {self.unit}"
