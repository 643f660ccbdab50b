"""``{% download_links "key" %}``: the Excel and CSV links of a page's ``data-export`` table
(see ``core/export.py``)."""

from __future__ import annotations

from typing import Any

from django import template

from pejling.core.export import download_links as links_for

register = template.Library()


@register.inclusion_tag("core/_download.html", takes_context=True)
def download_links(context: template.Context, key: str = "") -> dict[str, Any]:
    request = context.get("request")
    return {"downloads": links_for(request, key) if request is not None else None}
