"""A live console on a real port and a headless Chromium driving it.

Chromium comes from the system (``/usr/bin/chromium``, Debian's package); no browser build is
ever downloaded. Screenshots land in ``test-artifacts/screenshots/`` (not committed).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, make_app, unavailable

CHROMIUM = os.environ.get("KMSG_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium_browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium fonts-nanum)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


class LiveConsole:
    def __init__(self, app, base_url: str) -> None:
        self.app = app
        self.base_url = base_url

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
def live_console(tmp_path, instance_dir, request) -> Iterator[LiveConsole]:
    """A console served by a threaded server on a free port, on its own SQLite database."""
    from kmsg_console import migrate

    app = make_app(f"sqlite:///{tmp_path / 'browser.db'}", instance_dir)
    migrate.upgrade(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveConsole(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def page(chromium_browser, request):
    context = chromium_browser.new_context(locale="ko-KR", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.js_errors = errors
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, live: LiveConsole, email: str, password: str = PASSWORD) -> None:
    page.goto(live.url("/login"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
