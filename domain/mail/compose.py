"""Turning a rendered mail into the bytes sent over SMTP.

The MIME structure (multipart/alternative, a text and an HTML part, UTF-8, quoted-printable)
is built once by `email.message.EmailMessage`; each mail fills in its headers and its two
quoted-printable bodies. Building a full EmailMessage per mail costs more CPU than sending it
(header parsing and folding), which would cap how fast a worker sends.

Addresses are decided one by one: the domain is always written in IDNA (xn--...), which every
relay takes; a local part beyond ASCII needs a relay that offers SMTPUTF8 (RFC 6531), and the
mail is then written in UTF-8. Display names and subjects are always encoded as text: an
encoded word someone typed into a name (`=?utf-8?b?...?=`) reaches the reader as those
characters, never decoded into a name of the typist's choosing.
"""

from __future__ import annotations

import binascii
import re
import secrets
from dataclasses import dataclass, replace
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import lru_cache

import idna

from domain.mail.signing import DkimSigner
from domain.settings import Settings

_TEXT_MARK = "TEXTBODYMARK"
_HTML_MARK = "HTMLBODYMARK"
# DKIM signs the header fields a reader sees or a mail client acts on, those the mail has: the
# threading of a reminder (In-Reply-To, References), what tells responders to keep quiet
# (Auto-Submitted), and how the body is read (MIME-Version, Content-Type).
SIGNED_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "in-reply-to",
    "references",
    "auto-submitted",
    "mime-version",
    "content-type",
)
# Signed once more than the mail has them (absent ones too): a copy added after signing (a
# second From or Subject that a client may show, a Reply-To taking the replies elsewhere, a
# thread the mail never was in) fails the signature.
OVERSIGNED_HEADERS = ("from", "to", "subject", "reply-to", "in-reply-to", "references")
# A phrase that needs no quoting: atoms (RFC 5322 atext) separated by single spaces.
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


class ComposeError(Exception):
    """This mail cannot be written (an address that cannot be encoded, ...). `reason` is
    shown to admins as the invitation's delivery error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Address:
    email: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Mail:
    to: Address
    subject: str
    text: str
    html: str
    reply_to: Address | None = None
    # The same for every try of the same send, so receiving servers and inboxes recognise a
    # copy (domain.mail.references); a fresh one when None.
    message_id: str | None = None
    # The Message-ID of the mail this one follows up (a reminder: its invitation's), so mail
    # clients show them as one conversation.
    in_reply_to: str | None = None
    # The envelope sender (where bounces go); None: the deployment's return path.
    return_path: str | None = None


@dataclass(frozen=True, slots=True)
class Composed:
    """What goes over SMTP: the envelope and the message."""

    sender: str
    recipient: str
    message: bytes
    utf8: bool  # needs SMTPUTF8


def needs_smtputf8(email: str) -> bool:
    """Whether an address's local part is beyond ASCII (its domain can always be IDNA)."""
    return not email.rpartition("@")[0].isascii()


@lru_cache(maxsize=1024)
def ascii_domain(domain: str) -> str:
    """The domain as DNS and every relay know it (IDNA 2008 with UTS 46 mapping)."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ComposeError(f"the domain {domain!r} cannot be written in IDNA: {error}") from error


def envelope_address(email: str, *, smtputf8: bool) -> str:
    """The address for MAIL FROM, RCPT TO and headers; raises ComposeError when its local
    part is beyond ASCII and the relay does not take SMTPUTF8."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        raise ComposeError(f"{email!r} is not an address")
    if not local.isascii() and not smtputf8:
        raise ComposeError(
            "the address's part before the @ is beyond ASCII, and the mail relay does not"
            " offer SMTPUTF8 to send it"
        )
    return f"{local}@{ascii_domain(domain)}"


def display_name(name: str) -> str:
    """A display name as a header phrase: plain words as they are, other ASCII quoted, and
    anything else (beyond ASCII, or holding an encoded word) as RFC 2047 encoded words of
    exactly its characters."""
    name = " ".join(name.split())
    if not name:
        return ""
    if "=?" in name or not name.isascii():
        return Header(name, "utf-8", maxlinelen=76).encode(linesep="\r\n")
    if _ATOMS.fullmatch(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def address_header(address: Address, *, smtputf8: bool) -> str:
    email = envelope_address(address.email, smtputf8=smtputf8)
    phrase = display_name(address.name)
    return f"{phrase} <{email}>" if phrase else email


def subject_header(subject: str) -> str:
    subject = " ".join(subject.split())
    if subject.isascii() and "=?" not in subject:
        return Header(subject, maxlinelen=76).encode(linesep="\r\n")
    return Header(subject, "utf-8", maxlinelen=76).encode(linesep="\r\n")


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


class Composer:
    """Builds the SMTP bytes of mails for one deployment (sender, domain, DKIM key)."""

    def __init__(self, settings: Settings) -> None:
        self.envelope_sender = settings.envelope_sender
        self._from = address_header(
            Address(settings.mail_from, settings.mail_from_name or settings.platform_name),
            smtputf8=False,
        )
        self.message_id_domain = settings.mail_message_id_domain or settings.mail_domain
        self._signer: DkimSigner | None = None
        if settings.dkim_selector and settings.dkim_private_key_path:
            self._signer = DkimSigner(
                settings.dkim_selector,
                settings.dkim_domain or settings.mail_domain,
                settings.dkim_private_key_path.read_bytes(),
            )

    @property
    def signs(self) -> bool:
        return self._signer is not None

    def sign(self, composed: Composed) -> Composed:
        """The mail with its DKIM signature (the RSA part runs without the GIL: a thread can
        sign while the event loop goes on)."""
        if self._signer is None:
            return composed
        header = self._signer.signature_header(composed.message, SIGNED_HEADERS, OVERSIGNED_HEADERS)
        return replace(composed, message=header + composed.message)

    def compose(self, mail: Mail, *, smtputf8: bool = False, sign: bool = True) -> Composed:
        """The mail as sent over a connection that does (or does not) offer SMTPUTF8,
        DKIM-signed unless `sign` is off (then `sign()` it). Raises ComposeError when the
        recipient cannot be written; a Reply-To that cannot be is left out (the inviter's
        address, not the invitee's)."""
        recipient = envelope_address(mail.to.email, smtputf8=smtputf8)
        utf8 = needs_smtputf8(mail.to.email)
        headers = [
            f"From: {self._from}",
            f"To: {address_header(mail.to, smtputf8=smtputf8)}",
            f"Subject: {subject_header(mail.subject)}",
            f"Date: {formatdate(localtime=False, usegmt=True)}",
            f"Message-ID: {mail.message_id or make_msgid(domain=self.message_id_domain)}",
            # Sent by the service, not by a person (RFC 3834): vacation responders and other
            # automatic replies leave it alone, so a large import does not flood the inviting
            # admin (its Reply-To) with them.
            "Auto-Submitted: auto-generated",
        ]
        if mail.in_reply_to is not None:
            headers += [f"In-Reply-To: {mail.in_reply_to}", f"References: {mail.in_reply_to}"]
        if mail.reply_to is not None:
            try:
                headers.append(f"Reply-To: {address_header(mail.reply_to, smtputf8=smtputf8)}")
                utf8 = utf8 or needs_smtputf8(mail.reply_to.email)
            except ComposeError:
                pass
        before_text, between, after_html = _skeleton()
        message = b"".join(
            [
                "\r\n".join(headers).encode("utf-8" if utf8 else "ascii"),
                b"\r\n",
                before_text,
                _qp(mail.text),
                between,
                _qp(mail.html),
                after_html,
            ]
        )
        composed = Composed(
            sender=mail.return_path or self.envelope_sender,
            recipient=recipient,
            message=message,
            utf8=utf8,
        )
        return self.sign(composed) if sign else composed
