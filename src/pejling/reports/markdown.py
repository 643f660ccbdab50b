"""Formatted text of analyses and sections: Markdown, rendered by markdown-it-py with raw
HTML switched off, then sanitised by nh3 (an allow-list of tags and attributes) as a second
guard. The one place Markdown becomes HTML, for the web pages and the PDF alike."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "blockquote",
    "code",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def _demote_headings(html: str) -> str:
    """A writer's headings sit under the page's own: # becomes h3, ## h4 and so on."""
    for level in range(6, 0, -1):
        new = min(level + 2, 6)
        html = html.replace(f"<h{level}>", f"<h{new}>").replace(f"</h{level}>", f"</h{new}>")
    return html


def render_markdown(text: str) -> str:
    """Safe HTML for ``text``. Links keep only http(s) and mailto, and get rel=noopener."""
    html = _demote_headings(_parser().render(text or ""))
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def markdown_blocks(text: str) -> list[tuple[str, str]]:
    """The text as simple blocks for Word and Excel: (kind, text), kind one of heading,
    paragraph, bullet, number, quote. Inline marks are kept as plain text."""
    tokens = _parser().parse(text or "")
    blocks: list[tuple[str, str]] = []
    lists: list[str] = []
    kind = "paragraph"
    quote = 0
    for token in tokens:
        if token.type == "bullet_list_open":
            lists.append("bullet")
        elif token.type == "ordered_list_open":
            lists.append("number")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "blockquote_open":
            quote += 1
        elif token.type == "blockquote_close":
            quote -= 1
        elif token.type == "heading_open":
            kind = "heading"
        elif token.type == "inline":
            if kind == "heading":
                blocks.append(("heading", token.content))
            elif lists:
                blocks.append((lists[-1], _plain(token)))
            elif quote:
                blocks.append(("quote", _plain(token)))
            else:
                blocks.append(("paragraph", _plain(token)))
            kind = "paragraph"
    return blocks


def _plain(token: object) -> str:
    parts = []
    for child in getattr(token, "children", None) or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)
