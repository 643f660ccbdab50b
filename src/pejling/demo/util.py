from __future__ import annotations

from typing import Any


def save_if_changed(model: Any, *, defaults: dict[str, Any], **lookup: Any) -> tuple[Any, bool]:
    """Like ``update_or_create``, but saves only when a value differs, so that loading the
    demo again writes no history rows for unchanged objects."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **defaults), True
    changed = [name for name, value in defaults.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, defaults[name])
        obj.save(update_fields=changed)
    return obj, False
