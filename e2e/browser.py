"""Helpers for the browser tests: the axe-core check, page watching, logging in."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import translation
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Response,
    expect,
)
from playwright.sync_api import (
    Error as PlaywrightError,
)

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("PEJLING_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# What the demo people's browsers ask for: Swedish, the installation's default language.
BROWSER_LOCALE = "sv-SE"
UI_LANGUAGE = "sv"
TIMEOUT_MS = 10_000

DEMO_PASSWORDS = {
    name: f"fjardvik-{name}"
    for name in (
        "strategi",
        "direktor",
        "forvaltningschef",
        "avdelningschef",
        "enhetschef",
        "medarbetare",
    )
}

expect.set_options(timeout=TIMEOUT_MS)


def _(message: str, language: str = UI_LANGUAGE) -> str:
    """The text the app shows for ``message`` in ``language`` (the English if untranslated)."""
    with translation.override(language):
        return translation.gettext(message)


def without_fragment(url: str) -> str:
    """A jump to an anchor (the skip link) stays on the same page."""
    return url.split("#", 1)[0]


@dataclass
class PageWatch:
    """What happened in a page: console errors, failed requests, pages visited and checked."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    axe: bool = True
    forgiven: set[str] = field(default_factory=set)

    def same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def on_page_error(self, error: Exception) -> None:
        self.console_errors.append(f"uncaught exception: {error}")

    def on_request_failed(self, request: Request) -> None:
        if self.same_origin(request.url):
            self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def on_response(self, response: Response) -> None:
        if self.same_origin(response.url) and response.status >= 400:
            self.failed_requests.append(
                f"{response.request.method} {response.url}: HTTP {response.status}"
            )

    def on_navigated(self, frame: Any) -> None:
        if frame.parent_frame is None and self.same_origin(frame.url):
            self.visited.append(without_fragment(frame.url))

    def forgive(self, url: str) -> None:
        """An error status that is part of the design (a 404 page the app renders on purpose)."""
        self.forgiven.add(url)

    def problems(self) -> list[str]:
        def forgiven(problem: str) -> bool:
            return any(
                f" {url}: HTTP " in problem or problem.endswith(f"({url})") for url in self.forgiven
            )

        problems = [f"console error: {e}" for e in self.console_errors if not forgiven(e)]
        problems += [f"failed request: {r}" for r in self.failed_requests if not forgiven(r)]
        if self.axe:
            unchecked = sorted({url for url in self.visited if url not in self.checked})
            problems += [f"page visited without an axe check: {u}" for u in unchecked]
        return problems


def open_page(browser: Browser, origin: str, *, bypass_csp: bool) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        base_url=origin,
        bypass_csp=bypass_csp,
        locale=BROWSER_LOCALE,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = PageWatch(origin=origin, axe=bypass_csp)
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    page.on("requestfailed", watch.on_request_failed)
    page.on("response", watch.on_response)
    page.on("framenavigated", watch.on_navigated)
    page.pejling_watch = watch  # type: ignore[attr-defined]
    return context, page


def watch_of(page: Page) -> PageWatch:
    return page.pejling_watch  # type: ignore[attr-defined]


def settle(page: Page) -> None:
    """Wait for the page to load and for htmx to finish the requests and swaps it started
    (panels loaded with ``hx-trigger="load"``), so that checks see the whole page."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def check_a11y(page: Page) -> None:
    """Run axe-core (WCAG 2.0 and 2.1, levels A and AA) on the page as it is now.

    Fails the test listing every violation: rule, impact, help and the nodes it found.
    """
    settle(page)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    violations = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
            }));
        }""",
        WCAG_TAGS,
    )
    watch_of(page).checked.add(without_fragment(page.url))
    if violations:
        lines = [f"axe-core found {len(violations)} WCAG 2.1 AA violation(s) on {page.url}:"]
        for violation in violations:
            lines.append(
                f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"
            )
            for node in violation["nodes"]:
                lines.append(f"    {node['target']}: {' '.join(node['summary'].split())}")
        pytest.fail("\n".join(lines), pytrace=False)


def visit(page: Page, path: str) -> Response | None:
    """Go to ``path`` on the live server and check the page with axe."""
    response = page.goto(path)
    check_a11y(page)
    return response


def submit(page: Page, button: Locator) -> None:
    """Click a button that submits a form, wait for the page it leads to, check it with axe."""
    with page.expect_navigation():
        button.click()
    check_a11y(page)


def follow(page: Page, link: Locator) -> None:
    """Follow a link, wait for the page, check it with axe."""
    with page.expect_navigation():
        link.click()
    check_a11y(page)


def log_in(page: Page, username: str) -> None:
    """Log in as a demo person through the login form and land on the home page."""
    page.context.clear_cookies()
    visit(page, "/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORDS[username])
    submit(page, page.locator("main button[type=submit]"))
    expect(page).to_have_url(watch_of(page).origin + "/")


# Crawling ------------------------------------------------------------------------------------

# Routes a crawler must not follow: they end the session, change state or are not the app's,
# or answer with a file download rather than a page (the audit trail's CSV).
SKIP_ROUTES = {
    "logout",
    "set_language",
    "healthz",
    "audit:export",
    "indicators:import_template",
    "board_reports:document_download",
}


def crawl(page: Page, start: str, *, per_route: int = 1, limit: int = 60) -> list[str]:
    """Visit the pages reachable by links from ``start`` (same origin, GET), breadth first,
    at most ``per_route`` pages per URL pattern, and return their paths.

    Each HTML page is checked with axe, unless the page obeys CSP (``strict_page``), where
    the watch still fails the test on console errors. Downloads and non-HTML answers (a
    calendar feed, JSON) are skipped.
    """
    watch = watch_of(page)
    seen_routes: dict[str, int] = {}
    queue = [start]
    queued = {start}
    visited: list[str] = []
    while queue and len(visited) < limit:
        path = queue.pop(0)
        route = _route_to_crawl(path)
        if route is None or seen_routes.get(route, 0) >= per_route:
            continue
        seen_routes[route] = seen_routes.get(route, 0) + 1
        try:
            response = page.goto(path)
        except PlaywrightError as error:
            if "Download is starting" in str(error):
                continue
            raise
        assert response is not None
        if not response.headers.get("content-type", "").startswith("text/html"):
            watch.checked.add(without_fragment(page.url))
            continue
        if response.status == 404 and page.locator("main#main h1").count() == 1:
            # A designed "not there yet" page (an annual agreement not started): fine.
            watch.forgive(response.url)
        elif response.status >= 400:
            pytest.fail(f"{path} answered HTTP {response.status}", pytrace=False)
        if watch.axe:
            check_a11y(page)
        else:
            settle(page)
        visited.append(path)
        for target in _linked_paths(page, watch):
            if target not in queued:
                queued.add(target)
                queue.append(target)
    return visited


def _route_to_crawl(path: str) -> str | None:
    """The view name of a path the crawler may visit, or None (not ours, admin, or skipped)."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    if match.view_name in SKIP_ROUTES or (match.namespace or "").startswith("admin"):
        return None
    return match.view_name


def _linked_paths(page: Page, watch: PageWatch) -> list[str]:
    """The same-origin paths (with query) the page links to, static files left out."""
    # Download links (a table as Excel or CSV) are files, not pages: left out.
    hrefs = page.eval_on_selector_all("a[href]:not([download])", "links => links.map(a => a.href)")
    paths = []
    for href in hrefs:
        if not watch.same_origin(href):
            continue
        parts = urlsplit(href)
        if not parts.path.startswith("/static/"):
            paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths
