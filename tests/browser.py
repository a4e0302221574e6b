"""What every browser test shares: the app under a real uvicorn, Debian's Chromium driven by
Playwright, a fresh context per test that fails on any script error or CSP violation, and the
accessibility check (axe-core, injected into the page; no serious or critical violation).

The app runs in the tests' own event loop, so it shares their database and Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from arq.connections import ArqRedis
from playwright.async_api import Browser, ConsoleMessage, Page, Request, async_playwright

from api.app import create_app
from domain.settings import get_settings
from tests.conftest import _free_port

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# The widths every page is checked at: a desktop and a phone (iPhone 12-15, 390 x 844).
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Ctrl+C belongs to pytest, not to the server under test.
        yield


@pytest.fixture(scope="session")
async def live_server(database: None, redis: ArqRedis) -> AsyncIterator[str]:
    """The app under a real uvicorn, in the tests' event loop (so: their database and Redis)."""
    app = create_app(get_settings(), manage_database=False)
    app.state.redis = redis
    async with serve(app) as url:
        yield url


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """An ASGI app under a real uvicorn on a free port, while the block runs."""
    port = _free_port()
    server = _Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises what stopped the server
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `bash scripts/ensure-system-packages.sh` (or make install)"
        )
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@dataclass
class Visit:
    """A fresh browser context (its own storage and cookies) and what its page asked and
    said."""

    page: Page
    base_url: str
    requests: list[Request] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def graphql_requests(self) -> list[Request]:
        return [r for r in self.requests if r.url.split("?")[0].endswith("/graphql")]

    async def session_token(self) -> str:
        """The session the pages keep in their cookie (HttpOnly: no script of the page can
        read it; the test reads it from the browser)."""
        [cookie] = [
            c for c in await self.page.context.cookies() if c["name"] == "invitations_session"
        ]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
        assert cookie["value"] and await self.page.evaluate("document.cookie") == ""
        return cookie["value"]

    async def new_tab(self) -> Page:
        """Another tab of the same browser (a mail's link opened beside the page)."""
        page = await self.page.context.new_page()
        self.watch(page)
        return page

    def watch(self, page: Page) -> None:
        page.on("request", lambda request: self.requests.append(request))

        def console(message: ConsoleMessage) -> None:
            # Warnings too: a header the browser does not understand is one (a policy it
            # ignores protects nothing).
            if message.type in ("error", "warning"):
                self.problems.append(message.text)

        page.on("console", console)
        page.on("pageerror", lambda error: self.problems.append(str(error)))

    async def screenshot(self, name: str, page: Page | None = None) -> None:
        """A full-page PNG in INVITES_TEST_SCREENSHOTS, when set (to look at the pages)."""
        folder = os.environ.get("INVITES_TEST_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            await (page or self.page).screenshot(path=f"{folder}/{name}.png", full_page=True)


@contextlib.asynccontextmanager
async def browse(
    browser: Browser,
    base_url: str,
    *,
    locale: str = "en-GB",
    viewport: dict[str, int] | None = None,
) -> AsyncIterator[Visit]:
    """A fresh browser context speaking `locale` (its Accept-Language), at a window size."""
    context = await browser.new_context(
        locale=locale, base_url=base_url, viewport=viewport or {"width": 1280, "height": 720}
    )
    context.set_default_timeout(10_000)
    seen = Visit(await context.new_page(), base_url)
    seen.watch(seen.page)
    yield seen
    await context.close()
    # A CSP violation or a script error shows up here, whatever the test looked at.
    assert seen.problems == []


@pytest.fixture
async def visit(browser: Browser, live_server: str) -> AsyncIterator[Visit]:
    async with browse(browser, live_server) as seen:
        yield seen


@functools.cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text() + "\n;undefined"


async def check_accessibility(page: Page, *, context: str | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; fail on any serious or critical violation.

    Returns the minor and moderate ones, for a test that wants to look at them.
    """
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern: a
        # <script> tag would need the pages to allow inline script.
        await page.evaluate(_axe_source())
    results = await page.evaluate(
        """async (context) => {
            const result = await axe.run(context || document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
            }));
        }""",
        context,
    )
    serious = [v for v in results if v["impact"] in ("serious", "critical")]
    assert not serious, f"axe-core on {page.url}:\n" + json.dumps(serious, indent=2)
    return [v for v in results if v not in serious]
