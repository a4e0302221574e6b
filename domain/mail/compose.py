"""Turning a rendered mail into the bytes sent over SMTP.

The MIME structure (multipart/alternative, a text and an HTML part, UTF-8, quoted-printable)
is built once by `email.message.EmailMessage`; each mail fills in its headers and its two
quoted-printable bodies. Building a full EmailMessage per mail costs more CPU than sending it
(header parsing and folding), which would cap how fast a worker sends.
"""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from functools import lru_cache

import dkim

from domain.settings import Settings

_TEXT_MARK = "TEXTBODYMARK"
_HTML_MARK = "HTMLBODYMARK"


@dataclass(frozen=True, slots=True)
class Address:
    email: str
    name: str = ""

    def header(self) -> str:
        # Display names come from users: the domain refuses CR/LF in names, and Header
        # encodes anything beyond ASCII, so a name can never start a new header.
        name = " ".join(self.name.split())
        return formataddr((name, self.email), charset="utf-8")


@dataclass(frozen=True, slots=True)
class Mail:
    to: Address
    subject: str
    text: str
    html: str
    reply_to: Address | None = None


@lru_cache(maxsize=1)
def _skeleton() -> tuple[bytes, bytes, bytes]:
    """The MIME body (after the top-level headers), split around the two body marks."""
    message = EmailMessage(policy=policy.SMTP)
    message.set_content(_TEXT_MARK, cte="quoted-printable")
    message.add_alternative(_HTML_MARK, subtype="html", cte="quoted-printable")
    # A boundary with '=' can never occur in quoted-printable text (which writes '=3D').
    message.set_boundary(f"=_{secrets.token_hex(16)}")
    raw = message.as_bytes()
    # Only MIME headers so far (Content-Type, MIME-Version): the mail's own go before them.
    before_text, _, rest = raw.partition(_TEXT_MARK.encode())
    between, _, after_html = rest.partition(_HTML_MARK.encode())
    return before_text, between, after_html


def _qp(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode(), istext=True)
    return encoded.replace(b"\n", b"\r\n")


def _subject(subject: str) -> str:
    subject = " ".join(subject.split())
    if subject.isascii():
        return Header(subject, maxlinelen=76).encode(linesep="\r\n")
    return Header(subject, "utf-8", maxlinelen=76).encode(linesep="\r\n")


class Composer:
    """Builds the SMTP bytes of mails for one deployment (sender, domain, DKIM key)."""

    def __init__(self, settings: Settings) -> None:
        self.envelope_sender = settings.envelope_sender
        self._from = Address(
            settings.mail_from, settings.mail_from_name or settings.platform_name
        ).header()
        self._msgid_domain = settings.mail_message_id_domain or settings.mail_domain
        self._dkim: tuple[bytes, bytes, bytes] | None = None
        if settings.dkim_selector and settings.dkim_private_key_path:
            self._dkim = (
                settings.dkim_selector.encode(),
                (settings.dkim_domain or settings.mail_domain).encode(),
                settings.dkim_private_key_path.read_bytes(),
            )

    def compose(self, mail: Mail) -> bytes:
        headers = [
            f"From: {self._from}",
            f"To: {mail.to.header()}",
            f"Subject: {_subject(mail.subject)}",
            f"Date: {formatdate(localtime=False, usegmt=True)}",
            f"Message-ID: {make_msgid(domain=self._msgid_domain)}",
        ]
        if mail.reply_to is not None:
            headers.append(f"Reply-To: {mail.reply_to.header()}")
        before_text, between, after_html = _skeleton()
        message = b"".join(
            [
                "\r\n".join(headers).encode("ascii"),
                b"\r\n",
                before_text,
                _qp(mail.text),
                between,
                _qp(mail.html),
                after_html,
            ]
        )
        if self._dkim is not None:
            selector, domain, key = self._dkim
            signature = dkim.sign(
                message,
                selector,
                domain,
                key,
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id", b"reply-to"],
            )
            message = signature + message
        return message
