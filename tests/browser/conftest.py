"""Real-browser fixtures: the app served on a free port, and Chromium driven by Playwright.

``live_server`` serves a fresh app over HTTP in a thread, against an SQLite file seeded
with the demo centre; its clock is the suite's ``clock`` fixture, so a test can move
server time. ``page`` is a Chromium page in a fresh context (no cookies) pointed at it.
Browser tests are marked ``browser`` and skip when Chromium or Playwright is missing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from booking.core.clock import FrozenClock
from booking.core.db import Base

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
HTTP_STATUS_CONSOLE_ERROR = "Failed to load resource: the server responded with a status of"
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}


@dataclass
class LiveServer:
    url: str
    app: Flask
    clock: FrozenClock


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need Playwright (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def closing_bodies(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterator[bytes]]:
    """Close each response body as soon as it has been sent.

    Werkzeug's development server closes a body only after draining what is left of the
    request, and a browser that resets the connection (a favicon fetch as a page closes)
    raises there first: the static file's handle is then closed by the garbage collector,
    whose ResourceWarning the suite turns into an error in whichever test runs next.
    """

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wsgi


@pytest.fixture
def live_server(tmp_path: Path, clock: FrozenClock) -> Iterator[LiveServer]:
    """The app on 127.0.0.1 and a free port, its database seeded with the demo centre."""
    from booking.demo import centre as demo_centre
    from kiosk import create_app
    from kiosk.extensions import database

    app = create_app(
        {
            "SECRET_KEY": "browser-test-secret",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite3'}",
            "CLOCK": clock,
        }
    )
    app.instance_path = str(tmp_path)
    with app.app_context():
        Base.metadata.create_all(database().engine)
        with database().write() as session:
            demo_centre.seed(session, now=clock.now())
    server = make_server("127.0.0.1", 0, closing_bodies(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, clock)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        with app.app_context():
            database().dispose()


@pytest.fixture
def viewport() -> dict[str, int]:
    """The kiosk's screen; override or parametrise (PORTRAIT, LANDSCAPE) in a test module."""
    return PORTRAIT


@dataclass
class PageProblems:
    """Console errors and failed requests: a CSP violation shows up here."""

    messages: list[str] = field(default_factory=list)


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(
    browser: Browser,
    live_server: LiveServer,
    viewport: dict[str, int],
    page_problems: PageProblems,
) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, locale="zh-CN", has_touch=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()

    def on_console(message: Any) -> None:
        # A 401 or 423 page is an answer, not a problem; script errors and CSP refusals are.
        if message.type == "error" and not message.text.startswith(HTTP_STATUS_CONSOLE_ERROR):
            page_problems.messages.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: page_problems.messages.append(str(error)))
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save what the screen shows now to test-artifacts/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
