"""``{% purl 'strategy' code %}``: a link within the public site or its preview (whichever is
shown), in the page's language."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()

_NO_LANGUAGE = {"root", "accessibility_root", "data_file", "catalog", "catalog_ttl", "catalog_rdf"}


@register.simple_tag(takes_context=True)
def purl(context: Any, name: str, *args: Any) -> str:
    namespace = context.get("ns", "public")
    if name in _NO_LANGUAGE:
        return reverse(f"{namespace}:{name}", args=args)
    return reverse(f"{namespace}:{name}", args=[context.get("lang", "sv"), *args])


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """``{{ evaluations|lookup:goal.pk }}``: a dictionary's value, or None."""
    return mapping.get(key) if hasattr(mapping, "get") else None
