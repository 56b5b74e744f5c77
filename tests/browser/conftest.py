"""Real-browser fixtures: Debian's headless Chromium (via Playwright) against a live app server.

The server runs the real app factory on the tiny sample registry in a thread on a free
loopback port; the browser is the system ``chromium`` (Playwright's own download cannot work
offline) with a fresh profile, software WebGL (SwiftShader) and no background networking.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dashboard.bench_ui import CHROMIUM_ARGS  # one set of flags for tests and benches

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's chromium; the suite needs it (``.ci/run`` installs it)."""
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.fail(
            "browser tests need Debian's chromium: "
            "apt-get install -y chromium chromium-driver fonts-noto-cjk"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``tests/artifacts/`` (git-ignored): screenshots kept for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    """Base URL of the StreetTwin app (tiny registry) served by threaded Werkzeug."""
    from werkzeug.serving import make_server

    from dashboard.app import create_app
    from twin.samples import tiny_registry

    app = create_app(tiny_registry(), settings={"TESTING": True})
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@dataclass
class BrowserLog:
    """What a page said and fetched: console errors, uncaught errors, off-host requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser_context(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory):
    """A Chromium context with a fresh user-data dir, closed after the module."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium_path),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=VIEWPORT,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def page_and_log(browser_context, live_server: str):
    """A page (one per test module: the deck.gl bundle is slow to parse on SwiftShader) that
    records its console errors and any request leaving the test server."""
    log = BrowserLog()
    page = browser_context.new_page()
    local = urlsplit(live_server).netloc

    def on_console(msg) -> None:
        if msg.type == "error":
            log.console_errors.append(msg.text)

    def on_request(request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != local:
            log.foreign_requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
    page.on("request", on_request)
    try:
        yield page, log
    finally:
        page.close()
