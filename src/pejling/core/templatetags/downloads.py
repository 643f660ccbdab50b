"""``{% download_links "key" %}``: the Excel and CSV links of a page's ``data-export`` table
(see ``core/export.py``)."""

from __future__ import annotations

from typing import Any

from django import template

from pejling.core.export import download_links as links_for

register = template.Library()


@register.inclusion_tag("core/_download.html", takes_context=True)
def download_links(context: template.Context, *key: object) -> dict[str, Any]:
    """The links for the table ``data-export="<key>"`` (the parts of ``key`` are joined:
    ``{% download_links "benefit-" benefit.pk %}``)."""
    request = context.get("request")
    name = "".join(str(part) for part in key)
    return {"downloads": links_for(request, name) if request is not None else None}
