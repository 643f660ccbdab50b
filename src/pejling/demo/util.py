from __future__ import annotations

from collections.abc import Callable
from typing import Any


def save_if_changed(
    model: Any, *, save: Callable[[Any], Any], defaults: dict[str, Any], **lookup: Any
) -> tuple[Any, bool]:
    """Like ``update_or_create``, but through ``save`` (the domain service that validates the
    object and records its history) and only when a value differs, so that loading the demo
    again writes no history rows for unchanged objects."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **defaults)
        save(obj)
        return obj, True
    changed = [name for name, value in defaults.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, defaults[name])
        save(obj)
    return obj, False
