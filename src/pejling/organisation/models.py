"""The organisation: a tree of units, the level names of that tree, and people's roles on units."""

from __future__ import annotations

import functools
import re
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.dispatch import Signal
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node, MP_NodeManager

# Sent after a unit moved with its subtree to another place in the tree (in the move's
# transaction), with ``unit_id`` and ``old_ancestor_ids``: apps that keep something per subtree
# (the indicators' roll-up cache) bring it in line. Renumbering among siblings is no move.
unit_moved = Signal()
# Sent once after a set-based rewrite of the tree (the organisation sync) moved many units, in
# its transaction, with ``moves``: every unit whose ancestors changed (each moved unit and all
# below it) -> the ids of its ancestors before. Receivers read the tree as it is now.
units_moved = Signal()


class UnitManager(MP_NodeManager):
    """Treebeard's manager; :meth:`move` also announces the move (``unit_moved``), so every
    caller (the unit page, the organisation sync) keeps the trees' dependants current."""

    def move(self, node: Any, target: Any, pos: str | None = None) -> Any:
        step = node.steplen
        fresh_path = self.filter(pk=node.pk).values_list("path", flat=True).first() or node.path
        old_ids = set(
            self.filter(
                path__in=[fresh_path[:i] for i in range(step, len(fresh_path), step)]
            ).values_list("pk", flat=True)
        )
        result = super().move(node, target, pos)
        unit_moved.send(sender=self.model, unit_id=node.pk, old_ancestor_ids=old_ids)
        return result


class UnitLevel(models.Model):  # type: ignore[django-manager-missing]
    """A named level of the organisation tree (executive board, centre, department, unit).

    Names are data: one organisation says "centre", another "administration".
    """

    depth = models.PositiveSmallIntegerField(_("depth"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_plural = models.CharField(_("plural name"), max_length=100)

    class Meta:
        ordering = ["depth"]
        verbose_name = _("unit level")
        verbose_name_plural = _("unit levels")

    def __str__(self) -> str:
        return self.name


_PLAIN_CODE = re.compile(r"[A-Za-z0-9._~-]+")
_CODE_SLOT = "UNITCODE"


@functools.lru_cache(maxsize=8)
def _unit_url(script_prefix: str) -> str:
    """The address of a unit's page with ``_CODE_SLOT`` for its code (per script prefix)."""
    return reverse("organisation:unit_detail", args=[_CODE_SLOT])


class Unit(MP_Node):
    """An organisation unit. The materialised path (``path``) makes a subtree one indexed
    ``LIKE 'prefix%'`` query on SQLite and PostgreSQL alike."""

    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.ForeignKey(
        UnitLevel, verbose_name=_("level"), on_delete=models.PROTECT, related_name="units"
    )
    description = models.TextField(_("description"), blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # Set on units synchronised from OS2mo: the unit's UUID there (see organisation/sync/).
    external_id = models.UUIDField(_("external ID"), null=True, blank=True, unique=True)
    unit_type = models.CharField(_("unit type"), max_length=100, blank=True)

    node_order_by = ["name"]
    history = HistoricalRecords()
    objects = UnitManager()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        # Pages list hundreds of units: a plain code goes into the reversed address directly
        # (what reverse() would give), anything else through reverse().
        if _PLAIN_CODE.fullmatch(self.code):
            return _unit_url(get_script_prefix()).replace(_CODE_SLOT, self.code)
        return reverse("organisation:unit_detail", args=[self.code])

    @property
    def is_closed(self) -> bool:
        return self.closed_on is not None and self.closed_on <= timezone.localdate()

    def subtree_q(self, prefix: str = "") -> Q:
        """A filter for this unit and everything below it (``prefix`` is the relation path)."""
        return Q(**{f"{prefix}path__startswith": self.path})

    def ancestor_paths(self) -> list[str]:
        """Paths of this unit's ancestors, root first, computed without a query."""
        step = self.steplen
        return [self.path[:i] for i in range(step, len(self.path), step)]


class Role(models.TextChoices):
    STRATEGY_OFFICE = "strategy_office", _("Strategy office")
    EXECUTIVE = "executive", _("Executive")
    UNIT_HEAD = "unit_head", _("Unit head")
    EDITOR = "editor", _("Editor")
    READER = "reader", _("Reader")
    MEMBER = "member", _("Employee")


class MembershipSource(models.TextChoices):
    LOCAL = "local", _("Granted in Pejling")
    SSO = "sso", _("From the identity provider's groups")


class Membership(models.Model):
    """A person's role on a unit; it applies to the unit's whole subtree.

    ``MEMBER`` is where a person works (their home unit for the line of sight); the other roles
    grant rights. A delegation (an acting head) carries an end date.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    title = models.CharField(_("job title"), max_length=200, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    # Memberships from single sign-on groups are replaced at every sign-in; local ones never.
    source = models.CharField(
        _("source"), max_length=10, choices=MembershipSource.choices, default=MembershipSource.LOCAL
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="unique_membership_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"

    def is_current(self) -> bool:
        return self.ends_on is None or self.ends_on >= timezone.localdate()


class SyncRunStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class SyncRun(models.Model):
    """One run of the organisation sync (``pejling sync-org``, the nightly OS2mo task): from
    where, by whom, when, how it ended, what it changed and the first errors. Recorded by the
    sync's entry points (``organisation/sync/runs.py``) whether it succeeded or not."""

    FIRST_ERRORS = 20  # errors kept on a failed run (all of them are counted)

    source = models.CharField(_("source"), max_length=10)  # "file" or "os2mo"
    filename = models.CharField(_("file"), max_length=255, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=SyncRunStatus.choices)
    dry_run = models.BooleanField(_("dry run"), default=False)
    created = models.PositiveIntegerField(_("created"), default=0)
    moved = models.PositiveIntegerField(_("moved"), default=0)
    updated = models.PositiveIntegerField(_("renamed or changed"), default=0)
    closed = models.PositiveIntegerField(_("end-dated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    errors = models.JSONField(_("first errors"), default=list, blank=True)

    class Meta:
        verbose_name = _("organisation sync run")
        verbose_name_plural = _("organisation sync runs")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["-started_at"], name="syncrun_started_idx")]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
