"""PDF with WeasyPrint: a cover, contents, running heads and page numbers, bookmarks from the
headings, tagged for assistive technology (PDF/UA-1), with the document's language and title."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.text import slugify

from pejling.reports.documents.charts import chart_svg
from pejling.reports.documents.model import (
    Document,
    Facts,
    Figure,
    Heading,
    Markdown,
    Table,
    format_datetime,
    format_value,
    is_numeric,
)
from pejling.reports.markdown import render_markdown

CSS = Path(__file__).with_name("print.css")


def _logo() -> str:
    path = getattr(settings, "PEJLING_ORGANISATION_LOGO", "")
    if not path or not Path(path).is_file():
        return ""
    kind = mimetypes.guess_type(path)[0] or "image/png"
    return f"data:{kind};base64," + base64.b64encode(Path(path).read_bytes()).decode()


def kind_label(kind: str) -> str:
    from pejling.reports.models import DocumentKind

    return str(dict(DocumentKind.choices).get(kind, kind))


def render_context(doc: Document) -> dict[str, Any]:
    """The blocks made ready for the print template: ids for headings, formatted cells,
    charts as SVG images."""
    language = doc.language
    blocks: list[dict[str, Any]] = []
    toc = []
    seen: set[str] = set()
    figures = []
    for n, block in enumerate(doc.blocks):
        item: dict[str, Any] = {"kind": block.kind}
        if isinstance(block, Heading):
            anchor = slugify(block.text)[:40] or "h"
            if anchor in seen:
                anchor = f"{anchor}-{n}"
            seen.add(anchor)
            item |= {
                "level": block.level,
                "html_level": min(block.level + 1, 6),
                "text": block.text,
                "id": anchor,
            }
            if block.level <= 2:
                toc.append(item)
        elif isinstance(block, Markdown):
            item["html"] = render_markdown(block.source)
        elif isinstance(block, Facts):
            item |= {
                "status": block.status,
                "shown": [(label, format_value(value, language)) for label, value in block.items],
            }
        elif isinstance(block, Table):
            numeric = [
                bool(block.rows) and all(is_numeric(r[i]) or r[i] is None for r in block.rows)
                for i in range(len(block.columns))
            ]
            item |= {
                "title": block.title,
                "columns": [
                    {"name": c, "numeric": numeric[i]} for i, c in enumerate(block.columns)
                ],
                "shown": [
                    [
                        {
                            "text": format_value(v, language, short=True, empty=""),
                            "numeric": is_numeric(v),
                        }
                        for v in row
                    ]
                    for row in block.rows
                ],
            }
        elif isinstance(block, Figure):
            svg = chart_svg(block.spec, language)
            item |= {
                "number": block.number,
                "title": block.title,
                "alt": block.description,
                "src": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
            }
            figures.append(
                {
                    "number": block.number,
                    "title": block.title,
                    "value_label": block.value_label,
                    "shown_rows": [(p, format_value(v, language)) for p, v in block.rows],
                }
            )
        else:
            item |= vars(block)
        blocks.append(item)
    return {
        "doc": doc,
        "blocks": blocks,
        "toc": toc,
        "figures": figures,
        "logo": _logo(),
        "kind_label": kind_label(doc.kind),
        "generated": format_datetime(doc.generated_at, language),
        "frozen": format_datetime(doc.frozen_at, language) if doc.frozen_at else "",
    }


def render_html(doc: Document) -> str:
    with translation.override(doc.language):
        return render_to_string("reports/print/document.html", render_context(doc))


def render_pdf(doc: Document) -> bytes:
    from weasyprint import CSS as WeasyCSS
    from weasyprint import HTML

    html = render_html(doc)
    pdf = HTML(string=html, base_url=str(CSS.parent)).write_pdf(
        stylesheets=[WeasyCSS(filename=str(CSS))],
        pdf_variant="pdf/ua-1",
        pdf_tags=True,
        custom_metadata=True,
    )
    return bytes(pdf or b"")
