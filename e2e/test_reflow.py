"""Reflow (WCAG 1.4.10): at 320 CSS pixels wide (1280 px zoomed to 400 %) the pages need no
horizontal scrolling, data tables excepted, and still pass axe at that width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from e2e.browser import log_in, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/strategies/koncernstrategi-2025-2026/",
    "/agreements/VOF-HEM-NOR/2026/",
    "/agreements/VOF-HEM-NOR/2026/initiatives/new/",
    "/organisation/VOF-HEM-NOR/",
    "/strategies/new/",
    "/indicators/",
    "/followup/dashboard/",
]

# Elements sticking out of the viewport, outside data tables (which may scroll: they need
# two dimensions to make sense).
OVERFLOWING = """() => [...document.body.querySelectorAll("*")]
    .filter(e => !e.closest("table") && e.getBoundingClientRect().right > window.innerWidth + 1)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
         (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\\s+/).join(".") : "") +
         " (right edge " + Math.round(e.getBoundingClientRect().right) + " px)")"""


def test_pages_reflow_at_320_css_pixels_without_horizontal_scrolling(page: Page) -> None:
    log_in(page, "strategi")
    page.set_viewport_size({"width": 320, "height": 640})
    problems = {}
    for path in PAGES:
        visit(page, path)
        overflowing = page.evaluate(OVERFLOWING)
        if overflowing:
            problems[path] = overflowing[:5]
    assert not problems, "Content wider than 320 CSS px:\n" + "\n".join(
        f"  {path}: {', '.join(items)}" for path, items in problems.items()
    )
