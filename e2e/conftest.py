"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

The demo organisation is loaded once per session into the test database and serialised;
every test is transactional with ``serialized_rollback``, so Django flushes the database after
the test and reloads the demo before the next one (far cheaper than running ``demo`` again).

Every page a test visits must be checked with axe-core (``check_a11y``); a test fails if it
navigated to a page it did not check, or if the page logged a console error (which is how
CSP violations show) or a same-origin request failed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls made from the
# same thread (fixtures, assertions on the database) are safe because nothing else runs there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import translation  # noqa: E402
from playwright.sync_api import (  # noqa: E402
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    expect,
    sync_playwright,
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
# The language the demo users' browsers ask for: Swedish, the default of the installation.
BROWSER_LOCALE = "sv-SE"
UI_LANGUAGE = "sv"

DEMO_PASSWORDS = {
    name: f"fjardvik-{name}"
    for name in ("strategi", "direktor", "forvaltningschef", "avdelningschef", "enhetschef", "medarbetare")
}

expect.set_options(timeout=10_000)


def _(message: str, language: str = UI_LANGUAGE) -> str:
    """The text the app shows for ``message`` in ``language`` (English if not translated)."""
    with translation.override(language):
        return translation.gettext(message)


# Database -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A test database of its own, so the e2e run never collides with a parallel unit-test run."""
    for alias in connections:
        test_settings = connections[alias].settings_dict.setdefault("TEST", {})
        if connections[alias].vendor != "sqlite" and not test_settings.get("NAME"):
            test_settings["NAME"] = f"test_{connections[alias].settings_dict['NAME']}_e2e"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Load the demo once and make it the content every serialized-rollback test starts from."""
    with django_db_blocker.unblock():
        call_command("demo", verbosity=0)
        for alias in connections:
            connection = connections[alias]
            connection._test_serialized_contents = connection.creation.serialize_db_to_string()  # type: ignore[attr-defined]


@pytest.fixture(scope="session", autouse=True)
def _plain_static_storage() -> Iterator[None]:
    """Serve static files from the finders: the manifest storage would need collectstatic."""
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield


# Browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@dataclass
class PageWatch:
    """What happened in a page: console errors, failed requests, pages visited and checked."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    allowed_statuses: set[int] = field(default_factory=set)

    def same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error: Exception) -> None:
        self.console_errors.append(f"uncaught: {error}")

    def on_request_failed(self, request: Request) -> None:
        if self.same_origin(request.url):
            self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def on_response(self, response: Response) -> None:
        if (
            self.same_origin(response.url)
            and response.status >= 400
            and response.status not in self.allowed_statuses
        ):
            self.failed_requests.append(f"{response.request.method} {response.url}: HTTP {response.status}")

    def on_navigated(self, frame: Any) -> None:
        if frame.parent_frame is None and frame.url.startswith(self.origin):
            self.visited.append(frame.url)

    def problems(self) -> list[str]:
        unchecked = sorted({url for url in self.visited if url not in self.checked})
        return (
            [f"console error: {e}" for e in self.console_errors]
            + [f"failed request: {r}" for r in self.failed_requests]
            + [f"page visited without an axe check: {u}" for u in unchecked]
        )


def _open_page(browser: Browser, origin: str, *, bypass_csp: bool) -> tuple[BrowserContext, Page, PageWatch]:
    context = browser.new_context(
        base_url=origin, bypass_csp=bypass_csp, locale=BROWSER_LOCALE, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch = PageWatch(origin=origin)
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    page.on("requestfailed", watch.on_request_failed)
    page.on("response", watch.on_response)
    page.on("framenavigated", watch.on_navigated)
    page.pejling_watch = watch  # type: ignore[attr-defined]
    return context, page, watch


def _finish(context: BrowserContext, watch: PageWatch) -> None:
    context.close()
    problems = watch.problems()
    if problems:
        pytest.fail("The browser reported problems:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def page(browser: Browser, live_server: Any) -> Iterator[Page]:
    """A fresh page (own cookies) that fails the test on console errors, failed requests and
    pages left without an axe check. The context bypasses CSP so that axe can be injected."""
    context, page, watch = _open_page(browser, live_server.url, bypass_csp=True)
    yield page
    _finish(context, watch)


@pytest.fixture
def strict_page(browser: Browser, live_server: Any) -> Iterator[Page]:
    """A page that obeys the app's Content-Security-Policy (no axe: it cannot be injected)."""
    context, page, watch = _open_page(browser, live_server.url, bypass_csp=False)
    yield page
    context.close()
    if watch.console_errors or watch.failed_requests:
        pytest.fail("The browser reported problems:\n  " + "\n  ".join(watch.console_errors + watch.failed_requests), pytrace=False)


# Helpers ------------------------------------------------------------------------------------


def check_a11y(page: Page) -> None:
    """Run axe-core (WCAG 2.0/2.1 A and AA) on the page as it is now; fail on any violation."""
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
            }));
        }""",
        WCAG_TAGS,
    )
    watch: PageWatch = page.pejling_watch  # type: ignore[attr-defined]
    watch.checked.add(page.url)
    if result:
        lines = [f"axe found {len(result)} WCAG 2.1 AA violation(s) on {page.url}:"]
        for violation in result:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
            for node in violation["nodes"]:
                summary = " ".join(node["summary"].split())
                lines.append(f"    {node['target']}: {summary}")
        pytest.fail("\n".join(lines), pytrace=False)


def visit(page: Page, path: str) -> Response | None:
    """Go to ``path`` on the live server and check the page with axe."""
    response = page.goto(path)
    check_a11y(page)
    return response


def log_in(page: Page, username: str) -> None:
    """Log in through the login form (checked with axe) and land on the home page."""
    page.context.clear_cookies()
    visit(page, "/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORDS[username])
    with page.expect_navigation():
        page.locator("form.stack button[type=submit]").click()
    expect(page).to_have_url(page.pejling_watch.origin + "/")  # type: ignore[attr-defined]
    check_a11y(page)


def submit(page: Page, locator: Any) -> None:
    """Click a submit button and wait for the page it leads to; then check it with axe."""
    with page.expect_navigation():
        locator.click()
    check_a11y(page)
