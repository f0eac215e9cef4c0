"""The real app served on a free port, a second site on another origin, and Chromium driven by
Playwright. Skipped (one line) when Debian's chromium is not installed; `.ci/run` installs it.

Servers listen on sockets bound before the browser starts, so a request made before uvicorn
accepts simply waits in the backlog: nothing polls or sleeps until a server is "up".
"""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn

from bot.app import build_app, build_http
from bot.config import load_settings
from tests.conftest import CONTENT_DIR, ENGINE, ROOT

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed: browser suite skipped", allow_module_level=True)

from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright  # noqa: E402

ARTIFACTS = ROOT / "tests" / "artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


class _ChatServer:
    """`build_app` + `build_http` under uvicorn in a thread with its own event loop."""

    def __init__(self, database: Path, allowed_origin: str) -> None:
        self.sock = _listening_socket()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._database = database
        self._allowed_origin = allowed_origin
        self._server: uvicorn.Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        try:
            settings = load_settings(
                DATABASE_PATH=self._database,
                CONTENT_DIR=CONTENT_DIR,
                ALLOWED_ORIGINS=self._allowed_origin,
            )
            app = await build_app(settings, understanding=ENGINE)
            config = uvicorn.Config(build_http(app), log_level="warning", lifespan="off")
            self._server = uvicorn.Server(config)
        finally:
            self._ready.set()
        try:
            await self._server.serve(sockets=[self.sock])
        finally:
            await app.close()

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        assert self._server is not None, "the chat app did not build: see the log above"

    def stop(self) -> None:
        assert self._server is not None
        self._server.should_exit = True
        self._thread.join()
        self.sock.close()


class _HostSite:
    """Another web site (another origin) whose page carries the one-line embed snippet."""

    def __init__(self) -> None:
        self.sock = _listening_socket()
        port = self.sock.getsockname()[1]
        # "localhost" and "127.0.0.1" are different origins (and different sites).
        self.url = f"http://localhost:{port}"
        self.page = b""
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(site.page)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler, False)
        self._httpd.socket = self.sock
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self.sock.close()


@dataclass
class Servers:
    chat: str
    host: _HostSite


# Module scope, not session: sync Playwright runs an event loop in this thread while it is
# open, and pytest-asyncio's tests in later modules need the thread free of it.
@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    host = _HostSite()
    chat = _ChatServer(tmp_path_factory.mktemp("web") / "chat.sqlite3", host.url)
    host.page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>MPP site</title>'
        "</head><body><h1>Another site</h1><p>Content of the host page.</p>\n"
        f'<script src="{chat.url}/embed.js" async></script>\n</body></html>'
    ).encode()
    host.start()
    chat.start()
    yield Servers(chat.url, host)
    chat.stop()
    host.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        yield _launch(playwright)


def _launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@dataclass
class Problems:
    """What went wrong in a page: console errors, uncaught exceptions, failed loads."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on(
            "response",
            lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")


PageFactory = Callable[..., tuple[Page, Problems]]


@pytest.fixture
def open_page(browser: Browser) -> Iterator[PageFactory]:
    """New pages, each in its own browser context (own storage), Indonesian by default."""
    contexts = []

    def make(viewport: dict[str, int] = DESKTOP, locale: str = "id-ID") -> tuple[Page, Problems]:
        context = browser.new_context(viewport=viewport, locale=locale)
        contexts.append(context)
        page = context.new_page()
        problems = Problems()
        problems.watch(page)
        return page, problems

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: PageFactory) -> Page:
    return open_page()[0]


def save_screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
