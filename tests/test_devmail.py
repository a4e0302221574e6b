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
from starlette.applications import Starlette

from api.devmail import routes, start_mail_catcher
from domain.mail.compose import Address, Mail
from domain.mail.mailer import Mailer
from domain.settings import Settings, load_settings
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
    assert iframe["sandbox"] == ""
    assert iframe["srcdoc"] == "<p>Hello <b>Rosa</b>,</p><p>123456</p>\n"

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
    assert iframe["sandbox"] == ""
    # Escaped in the attribute, the browser gets the mail's HTML back only as the frame's
    # document, where the sandbox runs no script.
    assert iframe["srcdoc"] == f'<p>Hi</p>{SCRIPT}<a href="x" onclick="alert(2)">"quoted"</a>\n'
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
