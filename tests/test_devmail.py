"""The development mail catcher: mails sent to it are listed and shown at /dev/mail, safely."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import AsyncIterator, Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from playwright.async_api import Browser, expect
from starlette.applications import Starlette

from api.devmail import framed_html, linked_text, routes, start_mail_catcher
from domain.mail.compose import Address, Mail
from domain.mail.mailer import Mailer
from domain.settings import Settings, load_settings
from tests.browser import check_accessibility, serve
from tests.conftest import _free_port

SCRIPT = "<script>document.title = 'pwned'</script>"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        env="development",
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=_free_port(),
        secret_key="devmail-test-secret-" + "k" * 30,
        mail_from="invitations@participate.example.org",
    )


@pytest.fixture
def catcher(settings: Settings) -> Iterator[None]:
    with start_mail_catcher(settings) as controller:
        assert controller is not None
        yield


@pytest.fixture
async def pages(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=routes(settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def send(settings: Settings, mail: Mail) -> None:
    mailer = Mailer(settings)
    try:
        await mailer.send(mail)
    finally:
        await mailer.close()


def links(page: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="(/dev/mail/[^"]+)"', page)]


class IframeFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.iframes: list[dict[str, str | None]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.iframes.append(dict(attrs))
        if tag == "script":
            self.scripts += 1


async def test_a_sent_mail_is_listed_and_shown_with_its_text_and_html_parts(
    settings: Settings, catcher: None, pages: httpx.AsyncClient
) -> None:
    await send(
        settings,
        Mail(
            to=Address("rosa@example.org", "Rosa Peeters"),
            subject="Your confirmation code",
            text="Hello Rosa,\n\n    123456\n",
            html="<p>Hello <b>Rosa</b>,</p><p>123456</p>",
        ),
    )

    listing = await pages.get("/dev/mail")
    assert listing.status_code == 200
    assert "Rosa Peeters &lt;rosa@example.org&gt;" in listing.text
    assert "Your confirmation code" in listing.text
    [link] = links(listing.text)

    shown = await pages.get(link)
    assert shown.status_code == 200
    assert "<pre>Hello Rosa,\n\n    123456\n" in shown.text
    assert "Return-Path" in shown.text  # the envelope is recorded
    finder = IframeFinder()
    finder.feed(shown.text)
    [iframe] = finder.iframes
    assert iframe["sandbox"] == "allow-popups allow-popups-to-escape-sandbox"
    assert iframe["srcdoc"] == '<base target="_blank"><p>Hello <b>Rosa</b>,</p><p>123456</p>\n'

    raw = await pages.get(link + "/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "text/plain; charset=utf-8"
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert "Subject: Your confirmation code" in raw.text
    assert "X-Envelope-To: rosa@example.org" in raw.text


async def test_mail_html_is_shown_only_inside_a_sandboxed_iframe_never_as_page_markup(
    settings: Settings, catcher: None, pages: httpx.AsyncClient
) -> None:
    await send(
        settings,
        Mail(
            to=Address("eve@example.org", "Eve <img src=x onerror=alert(1)>"),
            subject="<b>Subject</b> with markup",
            text=f"Plain text with {SCRIPT}",
            html=f'<p>Hi</p>{SCRIPT}<a href="x" onclick="alert(2)">"quoted"</a>',
        ),
    )
    listing = await pages.get("/dev/mail")
    assert "<b>" not in listing.text
    assert "<img" not in listing.text
    assert "&lt;b&gt;Subject&lt;/b&gt; with markup" in listing.text
    [link] = links(listing.text)

    shown = await pages.get(link)
    assert "<script" not in shown.text
    assert 'onclick="' not in shown.text
    assert "script-src" not in shown.headers["content-security-policy"]
    assert "default-src 'none'" in shown.headers["content-security-policy"]
    finder = IframeFinder()
    finder.feed(shown.text)
    assert finder.scripts == 0
    [iframe] = finder.iframes
    assert "allow-scripts" not in (iframe["sandbox"] or "")
    assert "allow-same-origin" not in (iframe["sandbox"] or "")
    # Escaped in the attribute, the browser gets the mail's HTML back only as the frame's
    # document, where the sandbox runs no script.
    assert iframe["srcdoc"] == (
        f'<base target="_blank"><p>Hi</p>{SCRIPT}<a href="x" onclick="alert(2)">"quoted"</a>\n'
    )
    assert "<pre>Plain text with &lt;script&gt;" in shown.text


async def test_mails_are_listed_newest_first_and_survive_a_restart_of_the_catcher(
    settings: Settings, pages: httpx.AsyncClient
) -> None:
    for subject in ("Older mail", "Newer mail"):
        with start_mail_catcher(settings):
            await aiosmtplib.send(
                f"Subject: {subject}\r\nTo: jan@example.org\r\n\r\nbody\r\n",
                sender="invitations@participate.example.org",
                recipients=["jan@example.org"],
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                start_tls=False,
            )
    listing = await pages.get("/dev/mail")
    assert listing.text.index("Newer mail") < listing.text.index("Older mail")
    assert len(links(listing.text)) == 2


async def test_an_unknown_mail_is_not_found(settings: Settings, pages: httpx.AsyncClient) -> None:
    assert (await pages.get("/dev/mail/1700000000.M1P1Q1.nowhere")).status_code == 404
    assert (await pages.get("/dev/mail/..%2F..%2Fsecret_key/raw")).status_code == 404
    empty = await pages.get("/dev/mail")
    assert "No mail yet" in empty.text


async def test_the_catcher_stops_with_its_block(settings: Settings) -> None:
    with start_mail_catcher(settings) as controller:
        assert controller is not None
        socket.create_connection((settings.smtp_host, settings.smtp_port), timeout=2).close()
    with pytest.raises(OSError):
        socket.create_connection((settings.smtp_host, settings.smtp_port), timeout=2).close()


async def test_a_taken_port_gives_a_warning_not_a_crash(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as other:
        other.bind((settings.smtp_host, settings.smtp_port))
        other.listen()
        with (
            caplog.at_level(logging.WARNING, logger="api.devmail"),
            start_mail_catcher(settings) as controller,
        ):
            assert controller is None
    [record] = caplog.records
    assert "already in use" in record.getMessage()
    assert str(settings.smtp_port) in record.getMessage()


async def test_an_smtp_host_elsewhere_gives_a_warning_not_a_crash(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    elsewhere = settings.model_copy(update={"smtp_host": "192.0.2.25"})  # TEST-NET-1
    with (
        caplog.at_level(logging.WARNING, logger="api.devmail"),
        start_mail_catcher(elsewhere) as controller,
    ):
        assert controller is None
    [record] = caplog.records
    assert "192.0.2.25" in record.getMessage()


@pytest.mark.parametrize(
    ("text", "linked"),
    [
        (
            "Open https://x.example/invite#token=AB-CD. Or not",
            'Open <a href="https://x.example/invite#token=AB-CD" target="_blank"'
            ' rel="noopener noreferrer">https://x.example/invite#token=AB-CD</a>. Or not',
        ),
        (
            "(see http://a.example/?q=1&r=<2>)",
            '(see <a href="http://a.example/?q=1&amp;r=" target="_blank"'
            ' rel="noopener noreferrer">http://a.example/?q=1&amp;r=</a>&lt;2&gt;)',
        ),
        ("javascript:alert(1) and <b>", "javascript:alert(1) and &lt;b&gt;"),
    ],
)
def test_web_addresses_in_a_text_part_become_links_and_nothing_else_becomes_markup(
    text: str, linked: str
) -> None:
    assert str(linked_text(text)) == linked


def test_the_frame_gets_its_new_tab_rule_inside_the_mails_head() -> None:
    html = '<!DOCTYPE html><html lang="nl"><HEAD><meta charset="utf-8"></head><body>x</body>'
    assert framed_html(html) == (
        '<!DOCTYPE html><html lang="nl"><HEAD><base target="_blank"><meta charset="utf-8">'
        "</head><body>x</body>"
    )


@pytest.mark.browser
async def test_links_of_a_caught_mail_open_a_new_tab_and_leave_the_preview_whole(
    settings: Settings, catcher: None, browser: Browser
) -> None:
    app = Starlette(routes=routes(settings))
    async with serve(app) as url:
        target = f"{url}/dev/mail?from=the-mail"
        await send(
            settings,
            Mail(
                to=Address("rosa@example.org", "Rosa Peeters"),
                subject="Your invitation",
                text=f"Open this link:\n{target}\n",
                html=(
                    '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    f'<p><a id="button" href="{target}" style="background:#1d4ed8;color:#fff;'
                    'padding:12px 20px">Accept the invitation</a></p></body></html>'
                ),
            ),
        )
        context = await browser.new_context(base_url=url)
        context.set_default_timeout(10_000)
        problems: list[str] = []
        try:
            page = await context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            await page.goto("/dev/mail")
            assert await check_accessibility(page) == []  # not even a minor or moderate one
            await page.click("text=Your invitation")
            assert await check_accessibility(page) == []
            frame = page.frame_locator("iframe")
            # The mail's button, styled inline, opens its link in a new tab.
            async with context.expect_page() as opened:
                await frame.locator("#button").click()
            tab = await opened.value
            await tab.wait_for_load_state()
            assert tab.url == target
            assert await tab.title() == "Caught mail · development"
            await expect(frame.locator("#button")).to_have_text("Accept the invitation")
            # The text part's address is a link too, to a new tab.
            link = page.locator("pre a")
            assert await link.get_attribute("href") == target
            async with context.expect_page() as opened:
                await link.click()
            assert (await opened.value).url == target
            # Readable on a phone: long headers wrap instead of widening the page.
            await page.set_viewport_size({"width": 390, "height": 844})
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            await expect(frame.locator("#button")).to_be_visible()
            assert problems == []
        finally:
            await context.close()
