"""Development mail catcher: an SMTP server keeping every mail in a Maildir, read at /dev/mail."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import errno
import logging
import mailbox
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from aiosmtpd.controller import Controller
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from domain.settings import Settings

log = logging.getLogger(__name__)

LIST_LIMIT = 200
TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates" / "devmail"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)
# The pages show mail written by anyone who can reach the catcher: nothing on them may run
# script, and the mail's HTML is confined to a sandboxed iframe that inherits this policy.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
# Maildir.add names files "<seconds>.M<microseconds>P<pid>Q<n>.<host>": sortable by arrival
# without opening them.
_ARRIVAL = re.compile(r"^(\d+)\.M(\d+)P")


def mail_dir(settings: Settings) -> Path:
    return settings.data_dir / "mail"


class MaildirHandler:
    """aiosmtpd handler: every message accepted goes into the Maildir, nothing is relayed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        mailbox.Maildir(path, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content
        # The envelope is not in the message; record it the way a delivering MTA would.
        # Addresses come from SMTP commands: drop any line break so they stay one header.
        sender = _one_line(str(envelope.mail_from or ""))
        recipients = ", ".join(_one_line(str(rcpt)) for rcpt in envelope.rcpt_tos)
        trace = f"Return-Path: <{sender}>\r\nX-Envelope-To: {recipients}\r\n".encode()
        # The controller runs its own event loop in its own thread, so this short blocking
        # write does not hold up the API.
        mailbox.Maildir(self.path, create=True).add(trace + raw)
        return "250 Message accepted for delivery"


def _one_line(value: str) -> str:
    return value.replace("\r", "").replace("\n", "")


def _listen_problem(host: str, port: int) -> str | None:
    """None when host:port can be listened on; otherwise why not."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError as error:
        return f"cannot resolve {host}: {error}"
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As asyncio's create_server does, so a port in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return "the port is already in use (another catcher or instance of the service?)"
            return str(error)
    return None


@contextlib.contextmanager
def start_mail_catcher(settings: Settings) -> Iterator[Controller | None]:
    """Catch the mails sent to smtp_host:smtp_port while the block runs.

    When the port is taken (another instance of the service, or another catcher, is already
    listening there), warn and run without one: mails then go to whoever listens.
    """
    host, port = settings.smtp_host, settings.smtp_port
    path = mail_dir(settings)
    problem = _listen_problem(host, port)
    if problem is not None:
        log.warning(
            "Mail catcher not started on %s:%s: %s. Mails go to whatever listens there; "
            "/dev/mail shows only what was caught into %s.",
            host,
            port,
            problem,
            path,
        )
        yield None
        return
    # aiosmtpd logs every SMTP conversation at INFO; the mails themselves are at /dev/mail.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(MaildirHandler(path), hostname=host, port=port)
    try:
        controller.start()
    except (OSError, TimeoutError) as error:
        # Lost a race for the port after the check above.
        with contextlib.suppress(Exception):
            controller.stop(no_assert=True)
            controller.loop.close()
        log.warning("Mail catcher not started on %s:%s: %s", host, port, error)
        yield None
        return
    log.info("Mail catcher listening on %s:%s; read the mails at /dev/mail", host, port)
    try:
        yield controller
    finally:
        controller.stop()


# ---------------------------------------------------------------------------------------------
# Reading the mails


@dataclass(frozen=True, slots=True)
class MailSummary:
    key: str
    link: str
    date: str
    to: str
    subject: str


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str


def _arrival(key: str) -> tuple[int, int, str]:
    match = _ARRIVAL.match(key)
    if match is None:
        return (0, 0, key)
    return (int(match.group(1)), int(match.group(2)), key)


def _link(key: str) -> str:
    # Keys may hold backslash escapes (Maildir's way of writing '/' and ':' in host names).
    return "/dev/mail/" + quote(key, safe="")


def _parse(raw: bytes, *, headers_only: bool = False) -> EmailMessage:
    parser = email.parser.BytesParser(_class=EmailMessage, policy=email.policy.default)
    return parser.parsebytes(raw, headersonly=headers_only)


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message[name]
    except Exception:
        # A malformed header must not hide the rest of the mail.
        return ""
    return "" if value is None else str(value)


def _headers(message: EmailMessage) -> list[tuple[str, str]]:
    result = []
    for name, raw in message.raw_items():
        try:
            value = str(message.policy.header_fetch_parse(name, raw))
        except Exception:
            value = raw  # malformed: show it as it was sent
        result.append((name, value))
    return result


def _date(message: EmailMessage) -> str:
    value = _header(message, "Date")
    try:
        return parsedate_to_datetime(value).strftime("%Y-%m-%d %H:%M:%S %z")
    except (TypeError, ValueError):
        return value


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        content = str(part.get_content())
    except (LookupError, ValueError):
        # An unknown charset or a broken encoding: still show what can be decoded.
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content.replace("\r\n", "\n")


# Web addresses in a text part; a sentence's closing punctuation is not part of them.
_URL = re.compile(r"""https?://[^\s<>"']+""")
_URL_TAIL = ".,;:!?)]}'\""
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
# In the frame, a link opens a new tab: navigating the frame itself would load a page that
# refuses to be framed (/invite sends frame-ancestors 'none'), or one this page's CSP bars.
_NEW_TAB = '<base target="_blank">'


def linked_text(text: str) -> Markup:
    """The text part, escaped, with its web addresses as links that open a new tab."""
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_URL_TAIL)
        end = match.start() + len(url)
        parts.append(str(escape(text[position : match.start()])))
        parts.append(
            f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{escape(url)}</a>'
        )
        position = end
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))  # noqa: S704 (every piece is escaped above)


def framed_html(html: str) -> str:
    """The HTML part as the frame's document, its links opening a new tab."""
    head = _HEAD.search(html)
    if head is None:
        return _NEW_TAB + html
    return html[: head.end()] + _NEW_TAB + html[head.end() :]


def _open(settings: Settings) -> mailbox.Maildir:
    return mailbox.Maildir(mail_dir(settings), create=True)


def summaries(settings: Settings) -> tuple[list[MailSummary], int]:
    """The newest mails (at most LIST_LIMIT), newest first, and how many there are."""
    box = _open(settings)
    keys = sorted(box.keys(), key=_arrival, reverse=True)
    result = []
    for key in keys[:LIST_LIMIT]:
        try:
            message = _parse(box.get_bytes(key), headers_only=True)
        except KeyError:
            continue  # deleted while we were listing
        result.append(
            MailSummary(
                key=key,
                link=_link(key),
                date=_date(message),
                to=_header(message, "To") or _header(message, "X-Envelope-To"),
                subject=_header(message, "Subject"),
            )
        )
    return result, len(keys)


class MailPages:
    """The /dev/mail pages. Their endpoints are sync: Starlette runs them in its thread pool,
    so reading the Maildir never blocks the event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def index(self, request: Request) -> Response:
        mails, total = summaries(self.settings)
        return TEMPLATES.TemplateResponse(
            request,
            "list.html",
            {"mails": mails, "total": total, "folder": str(mail_dir(self.settings))},
            headers=PAGE_HEADERS,
        )

    def mail(self, request: Request) -> Response:
        key = request.path_params["key"]
        message = _parse(self._raw_or_404(key))
        text, html = _body(message, "plain"), _body(message, "html")
        attachments = [
            Attachment(part.get_filename() or "(no name)", part.get_content_type())
            for part in message.iter_attachments()
        ]
        return TEMPLATES.TemplateResponse(
            request,
            "message.html",
            {
                "subject": _header(message, "Subject"),
                "headers": _headers(message),
                "text": None if text is None else linked_text(text),
                "html": None if html is None else framed_html(html),
                "attachments": attachments,
                "raw_link": _link(key) + "/raw",
            },
            headers=PAGE_HEADERS,
        )

    def raw(self, request: Request) -> Response:
        raw = self._raw_or_404(request.path_params["key"])
        return Response(raw, media_type="text/plain; charset=utf-8", headers=PAGE_HEADERS)

    def _raw_or_404(self, key: str) -> bytes:
        try:
            return _open(self.settings).get_bytes(key)
        except KeyError:
            raise HTTPException(404, "There is no such mail.") from None


def routes(settings: Settings) -> list[Route]:
    """The /dev/mail pages. Development only: anyone who can open them reads every mail."""
    pages = MailPages(settings)
    return [
        Route("/dev/mail", pages.index, methods=["GET"], name="devmail_list"),
        Route("/dev/mail/{key}", pages.mail, methods=["GET"], name="devmail_message"),
        Route("/dev/mail/{key}/raw", pages.raw, methods=["GET"], name="devmail_raw"),
    ]
