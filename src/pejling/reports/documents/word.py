"""Word with python-docx: real heading styles (so Word's table of contents works, and a TOC
field is in place), tables as tables, charts as PNG pictures with alt text, the document's
language and title in its properties."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from docx import Document as new_docx
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from pejling.reports.documents.charts import chart_png
from pejling.reports.documents.model import (
    Document,
    Facts,
    Figure,
    Heading,
    Markdown,
    PageBreak,
    Paragraph,
    Table,
    Value,
    format_datetime,
    format_value,
    is_numeric,
)
from pejling.reports.documents.pdf import kind_label
from pejling.reports.markdown import markdown_blocks

NAVY = RGBColor(0x0B, 0x3B, 0x60)
LANG_TAGS = {"sv": "sv-SE", "da": "da-DK", "nb": "nb-NO", "en": "en-GB"}


def _field(paragraph: object, instruction: str, placeholder: str) -> None:
    """A Word field (a table of contents, a page number) that Word fills in when opened."""
    run = paragraph.add_run()  # type: ignore[attr-defined]
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    begin.set(qn("w:dirty"), "true")
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = instruction
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    shown = OxmlElement("w:t")
    shown.text = placeholder
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, text, separate, shown, end):
        run._r.append(element)


def _styles(docx: object, language: str) -> None:
    styles = docx.styles  # type: ignore[attr-defined]
    normal = styles["Normal"]
    normal.font.name = "Noto Serif"
    normal.font.size = Pt(10.5)
    rpr = normal.element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), LANG_TAGS.get(language, language))
    rpr.append(lang)
    for name, size in (
        ("Title", 28),
        ("Heading 1", 18),
        ("Heading 2", 13.5),
        ("Heading 3", 11),
        ("Heading 4", 10),
    ):
        style = styles[name]
        style.font.name = "Noto Sans"
        style.font.size = Pt(size)
        style.font.color.rgb = NAVY
        style.font.bold = True
    styles["Caption"].font.name = "Noto Sans"


def render_docx(doc: Document) -> bytes:
    with translation.override(doc.language):
        return _render(doc)


def _render(doc: Document) -> bytes:
    docx = new_docx()
    _styles(docx, doc.language)
    _properties_and_page(docx, doc)
    _cover(docx, doc)
    _contents(docx)
    first_chapter = True
    for block in doc.blocks:
        if isinstance(block, PageBreak):
            if not first_chapter:
                docx.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            continue
        if isinstance(block, Heading) and block.level == 1:
            first_chapter = False
        _block(docx, block, doc.language)
    _appendix(docx, doc)
    out = BytesIO()
    docx.save(out)
    return out.getvalue()


def _properties_and_page(docx: Any, doc: Document) -> None:
    props = docx.core_properties
    props.title = doc.title
    props.subject = doc.subtitle
    props.author = doc.organisation
    props.language = LANG_TAGS.get(doc.language, doc.language)
    props.created = doc.generated_at
    section = docx.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin, section.right_margin = Cm(2.6), Cm(2.2)
    section.top_margin, section.bottom_margin = Cm(2.4), Cm(2.6)
    footer = section.footer.paragraphs[0]
    footer.text = f"{doc.organisation} · {doc.title} · "
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _field(footer, "PAGE", "1")


def _cover(docx: Any, doc: Document) -> None:
    org_run = docx.add_paragraph().add_run(doc.organisation)
    org_run.bold, org_run.font.size, org_run.font.color.rgb = True, Pt(13), NAVY
    for _i in range(8):
        docx.add_paragraph()
    kind_run = docx.add_paragraph().add_run(kind_label(doc.kind).upper())
    kind_run.bold, kind_run.font.color.rgb = True, NAVY
    docx.add_paragraph(doc.title, style="Title")
    if doc.subtitle and doc.subtitle != doc.organisation:
        docx.add_paragraph(doc.subtitle, style="Subtitle")
    meta = docx.add_paragraph()
    if doc.frozen_at:
        meta.add_run(_("Finalised") + ": " + format_datetime(doc.frozen_at, doc.language) + "\n")
    meta.add_run(_("Produced") + ": " + format_datetime(doc.generated_at, doc.language))
    docx.add_section(WD_SECTION.NEW_PAGE)


def _contents(docx: Any) -> None:
    """Word's own table-of-contents field over the heading styles (filled when opened)."""
    names = [s.name for s in docx.styles]
    docx.add_paragraph(
        _("Contents"), style="TOC Heading" if "TOC Heading" in names else "Heading 1"
    )
    _field(
        docx.add_paragraph(),
        'TOC \\o "1-2" \\h \\z \\u',
        _("Right-click to update the table of contents."),
    )
    docx.add_section(WD_SECTION.NEW_PAGE)


def _block(docx: Any, block: object, language: str) -> None:
    if isinstance(block, Heading):
        docx.add_heading(block.text, level=min(block.level, 4))
    elif isinstance(block, Paragraph):
        _paragraph(docx, block)
    elif isinstance(block, Markdown):
        _markdown(docx, block.source)
    elif isinstance(block, Facts):
        p = docx.add_paragraph()
        for n, (label, value) in enumerate(block.items):
            if n:
                p.add_run("   ·   ")
            p.add_run(f"{label}: ").font.size = Pt(8.5)
            p.add_run(format_value(value, language)).bold = True
    elif isinstance(block, Table):
        _table(docx, block.title, block.columns, block.rows, language)
    elif isinstance(block, Figure):
        _figure(docx, block, language)


def _paragraph(docx: Any, block: Paragraph) -> None:
    p = docx.add_paragraph(block.text)
    for run in p.runs:
        if block.style == "note":
            run.font.size = Pt(8.5)
            run.font.color.rgb = RGBColor(0x4A, 0x56, 0x60)
        elif block.style == "lead":
            run.font.size = Pt(12)


def _appendix(docx: Any, doc: Document) -> None:
    figures = doc.figures
    if not figures:
        return
    docx.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    docx.add_heading(_("Appendix: the data behind the charts"), level=1)
    for f in figures:
        _table(
            docx,
            _("Table A%(number)s. %(title)s") % {"number": f.number, "title": f.title},
            [_("Period"), f.value_label or _("Value")],
            [[period, value] for period, value in f.rows],
            doc.language,
        )


def _markdown(docx: object, source: str) -> None:
    styles = {"bullet": "List Bullet", "number": "List Number", "quote": "Quote"}
    for kind, text in markdown_blocks(source):
        if kind == "heading":
            docx.add_heading(text, level=4)  # type: ignore[attr-defined]
        else:
            docx.add_paragraph(text, style=styles.get(kind))  # type: ignore[attr-defined]


def _table(
    docx: object, title: str, columns: list[str], rows: list[list[Value]], language: str
) -> None:
    caption = docx.add_paragraph(title, style="Caption")  # type: ignore[attr-defined]
    caption.paragraph_format.keep_with_next = True
    table = docx.add_table(rows=1, cols=len(columns))  # type: ignore[attr-defined]
    table.style = "Light List Accent 1"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    header = table.rows[0]
    # The header row repeats on every page and is marked as a header for screen readers.
    trpr = header._tr.get_or_add_trPr()
    tbl_header = OxmlElement("w:tblHeader")
    tbl_header.set(qn("w:val"), "true")
    trpr.append(tbl_header)
    for cell, name in zip(header.cells, columns, strict=True):
        cell.text = name
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = format_value(value, language, short=True, empty="")
            if is_numeric(value):
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    docx.add_paragraph()  # type: ignore[attr-defined]


def _figure(docx: object, figure: Figure, language: str) -> None:
    png = chart_png(figure.spec, language)
    docx.add_picture(BytesIO(png), width=Cm(16))  # type: ignore[attr-defined]
    inline = docx.inline_shapes[-1]  # type: ignore[attr-defined]
    doc_pr = inline._inline.docPr
    doc_pr.set("descr", figure.description)
    doc_pr.set("title", figure.title)
    docx.add_paragraph(  # type: ignore[attr-defined]
        _("Figure %(number)s. %(title)s") % {"number": figure.number, "title": figure.title}
        + " "
        + _("Data in the appendix, table A%(number)s.") % {"number": figure.number},
        style="Caption",
    )
