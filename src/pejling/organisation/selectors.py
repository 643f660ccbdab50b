"""Reads on the organisation tree. Each is a fixed number of queries, whatever the tree's size."""

from __future__ import annotations

from django.db.models import QuerySet

from pejling.organisation.models import Membership, Role, Unit


def units_in_tree_order() -> QuerySet[Unit]:
    return Unit.objects.select_related("level").order_by("path")


def unit_subtree(unit: Unit) -> QuerySet[Unit]:
    """The unit and everything below it: one indexed prefix query on the materialised path."""
    return Unit.objects.filter(path__startswith=unit.path).select_related("level").order_by("path")


def unit_ancestors(unit: Unit) -> list[Unit]:
    paths = unit.ancestor_paths()
    if not paths:
        return []
    return list(Unit.objects.filter(path__in=paths).select_related("level").order_by("depth"))


def unit_children(unit: Unit) -> QuerySet[Unit]:
    return (
        Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1)
        .select_related("level")
        .order_by("name")
    )


def unit_siblings(unit: Unit) -> QuerySet[Unit]:
    if unit.depth == 1:
        return Unit.objects.none()
    parent_path = unit.path[: -unit.steplen]
    return (
        Unit.objects.filter(path__startswith=parent_path, depth=unit.depth)
        .exclude(pk=unit.pk)
        .select_related("level")
        .order_by("name")
    )


def unit_heads(unit: Unit) -> QuerySet[Membership]:
    return Membership.objects.filter(unit=unit, role=Role.UNIT_HEAD).select_related("user")


def unit_people(unit: Unit) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(unit=unit)
        .select_related("user")
        .order_by("role", "user__last_name")
    )
