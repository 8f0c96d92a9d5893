"""Fixtures of the browser tests: live portals on real sockets and Debian's Chromium.

``live_server(catalog)`` starts the portal for one bundled catalog (``kbs``,
``iiko``, ``iotex``…) on its own migrated SQLite file, on a free port of
127.0.0.1, once per test session. ``live_server(catalog, SETTING="value", …)``
starts a separate portal for each distinct set of settings (``OUTBOX_DIR``,
``STRIPE_SECRET_KEY``…, named as the environment variables that set them);
``PORTAL_URL`` is the server's own address unless a setting names another.
``browser`` is Chromium driven by Playwright (``/usr/bin/chromium``: Playwright
never downloads a browser); ``page`` is a fresh context for each test, and
``make_page`` opens more, with options of the test's choosing. When a test
fails, a screenshot of each of its pages goes to ``test-artifacts/failures/``.

The server keeps the real clock: assertions either hold on any day or compare
with what ``portal.plans`` computes for today.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask_migrate import upgrade
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from portal import create_app
from portal.catalog.current import current_catalog
from portal.extensions import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORT = {"width": 1280, "height": 900}

_reports = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so that ``make_page`` knows whether it failed."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


class LiveServer:
    """One portal serving one catalog from a thread of this process."""

    def __init__(
        self, catalog: str, database: Path, settings: dict[str, str] | None = None
    ) -> None:
        self.catalog = catalog
        settings = dict(settings or {})
        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                "SECRET_KEY": f"browser-tests-{catalog}",
                "PORTAL_CATALOG": catalog,
                "CATALOG_REFRESH_SECONDS": 0,
                # Its own queue beside its own database: the jobs of one portal never run
                # against another's.
                "JOBS_SQLITE": str(database.parent / "jobs.sqlite3"),
                **settings,
            }
        )
        with self.app.app_context():
            upgrade()
            # Import the catalog as version 1 now, rather than in whichever of two
            # concurrent first requests gets there first.
            current_catalog()
        self._server = make_server("127.0.0.1", 0, _closing(self.app), threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        if settings and "PORTAL_URL" not in settings:
            # Known only now that the port is: links in mail, Stripe's return addresses.
            self.app.config["PORTAL_URL"] = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"live-{catalog}", daemon=True
        )
        self._thread.start()
        # As the README's first command serves it: jobs (mail delivery) in this process.
        self.app.extensions["jobs"].start_in_process()

    def stop(self) -> None:
        self.app.extensions["jobs"].stop_in_process()
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
        with self.app.app_context():
            db.engine.dispose()


def _closing(app):
    """The app, with every response read whole and closed before werkzeug writes it.

    Werkzeug's development server skips ``close()`` when the browser drops a connection
    while it drains the request (Chromium does, for a favicon it already has): the static
    file is then left to the garbage collector, and its ResourceWarning fails whichever
    test happens to be running. Responses here are small; a test server needs no streaming.
    """

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[Callable[..., str]]:
    """``live_server("iiko")`` is the base URL of a portal for that catalog, started once.

    ``live_server("kbs", OUTBOX_DIR=..., STRIPE_SECRET_KEY=...)``: a portal of its own
    for those settings (on its own database), started once per distinct settings.
    """
    servers: dict[tuple, LiveServer] = {}

    def start(catalog: str, **settings: str) -> str:
        key = (catalog, tuple(sorted((name, str(value)) for name, value in settings.items())))
        if key not in servers:
            database = tmp_path_factory.mktemp(f"live-{catalog}") / "portal.sqlite3"
            servers[key] = LiveServer(catalog, database, settings)
        return servers[key].url

    def app_of(url: str):
        """The application behind the portal at ``url``, to set up data a test needs."""
        return next(server.app for server in servers.values() if server.url == url)

    start.app_of = app_of
    yield start
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """``test-artifacts/`` at the root of the project (ignored by git)."""
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. "
            "Run ./scripts/test, which installs it (apt-get install chromium fonts-noto-core).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def make_page(browser: Browser, request) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context (1280×900, en-US unless told otherwise).

    Keyword arguments go to ``browser.new_context``, e.g. ``java_script_enabled=False``.
    """
    contexts = []
    pages: list[Page] = []
    refused: list[str] = []
    _forget_failure_screenshots(request.node.name)

    def open_page(**options) -> Page:
        context = browser.new_context(**{"viewport": VIEWPORT, "locale": "en-US", **options})
        contexts.append(context)
        page = context.new_page()
        # The Content-Security-Policy allows the portal's own files only: anything it
        # refuses (an inline script or style, an eval) is a fault of the page.
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        pages.append(page)
        return page

    yield open_page
    reports = request.node.stash.get(_reports, {})
    if any(report.failed for report in reports.values()):
        _screenshot_failure(request.node.name, pages)
    for context in contexts:
        context.close()
    assert refused == [], f"the page broke its Content-Security-Policy: {refused}"


@pytest.fixture
def page(make_page) -> Page:
    return make_page()


def _failure_name(test_name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", test_name).strip("_")


def _forget_failure_screenshots(test_name: str) -> None:
    """Remove the screenshots of this test's previous failure, so none outlives its fix."""
    folder = ARTIFACTS / "failures"
    name = _failure_name(test_name)
    for path in [*folder.glob(f"{name}.png"), *folder.glob(f"{name}-[0-9]*.png")]:
        path.unlink()


def _screenshot_failure(test_name: str, pages: list[Page]) -> None:
    folder = ARTIFACTS / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    name = _failure_name(test_name)
    for number, page in enumerate(pages):
        suffix = "" if number == 0 else f"-{number + 1}"
        try:
            page.screenshot(path=folder / f"{name}{suffix}.png", full_page=True)
        except Exception as error:  # a closed page must not hide the failure itself
            print(f"no failure screenshot of page {number + 1}: {error}")
