from __future__ import annotations

from typing import Any

from djangosaml2idp.processors import BaseProcessor


class GroupsProcessor(BaseProcessor):
    """Also releases the person's groups (Django groups of this IdP), multi-valued, as the
    attribute the SP's mapping names for ``groups``."""

    def create_identity(self, user: Any, sp_attribute_mapping: dict[str, str]) -> dict[str, Any]:
        mapping = dict(sp_attribute_mapping)
        groups_attribute = mapping.pop("groups", None)
        identity = super().create_identity(user, mapping)
        if groups_attribute:
            names = sorted(user.groups.values_list("name", flat=True))
            if names:
                identity[groups_attribute] = names
        return identity
