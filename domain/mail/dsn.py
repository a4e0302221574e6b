"""Bounce messages arriving at the return path: RFC 3464 delivery status notifications and
RFC 5965 abuse reports (complaints), read into DeliveryEvents.

The send is found by its reference (`domain.mail.references`): in the address the bounce was
sent to (with INVITES_MAIL_VERP, `bounces+i42.1.<tag>@...`, which an MTA records in
Delivered-To or X-Original-To, or the intake is told), else in the Message-ID of the returned
message or headers. Without one, the report's final recipient is matched by address.

A DSN's `failed` recipients are bounces, hard for a 5.x.x status and soft for 4.x.x (the
reporting server gave up for now) and for 5.2.2, mailbox full: a state its owner can change, as
the mailer judges the relay's own 552 5.2.2 (domain.mail.events.mailbox_full). `delayed`,
`delivered`, `relayed` and `expanded` are not bounces.
Anything else (an auto-reply, a message that is no report) gives no events.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import Message

from domain.mail import references
from domain.mail.events import DeliveryEvent, EventKind, mailbox_full

_ADDRESS = re.compile(r"^\s*(?:rfc822\s*;)?\s*<?([^<>\s;]+@[^<>\s;]+)>?\s*$", re.IGNORECASE)
_STATUS = re.compile(r"^\s*([245])\.\d{1,3}\.\d{1,3}(?!\d)")


def _address(value: str | None) -> str:
    match = _ADDRESS.match(str(value or ""))
    return match.group(1) if match else ""


def _headers_of(part: Message) -> Message | None:
    """The returned message's headers: a message/rfc822 part, or text/rfc822-headers."""
    if part.get_content_type() == "message/rfc822":
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return payload[0]
    if part.get_content_type() == "text/rfc822-headers":
        raw = part.get_payload(decode=True)
        if isinstance(raw, bytes):
            return email.message_from_bytes(raw, policy=email.policy.compat32)
    return None


def _reference(message: Message, envelope_recipient: str | None) -> references.Reference | None:
    candidates = [envelope_recipient or ""]
    for name in ("Delivered-To", "X-Original-To", "To", "Original-Envelope-Id"):
        candidates.extend(str(value) for value in message.get_all(name) or [])
    for part in message.walk():
        returned = _headers_of(part)
        if returned is not None:
            candidates.extend(str(returned.get(name, "")) for name in ("Message-ID", "Return-Path"))
    for candidate in candidates:
        found = references.find(candidate) if candidate else None
        if found is not None:
            return found
    return None


def _blocks(part: Message) -> list[Message]:
    """A message/delivery-status part's field blocks (per message, then per recipient)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    if isinstance(payload, str):
        return [
            email.message_from_string(chunk + "\n", policy=email.policy.compat32)
            for chunk in re.split(r"\r?\n\r?\n", payload.strip())
            if chunk.strip()
        ]
    return []


def dsn_events(raw: bytes, *, envelope_recipient: str | None = None) -> list[DeliveryEvent]:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report":
        return []
    report_type = str(message.get_param("report-type") or "").lower()
    reference = _reference(message, envelope_recipient)
    events: list[DeliveryEvent] = []
    if report_type == "delivery-status":
        for part in message.walk():
            if part.get_content_type() != "message/delivery-status":
                continue
            for block in _blocks(part)[1:]:  # the first block is about the message
                action = str(block.get("Action", "")).strip().lower()
                status = _STATUS.match(str(block.get("Status", "")))
                if action != "failed" or status is None:
                    continue
                recipient = _address(block.get("Final-Recipient")) or _address(
                    block.get("Original-Recipient")
                )
                diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
                reason = diagnostic.split(";", 1)[-1].strip() or str(block.get("Status"))
                events.append(
                    DeliveryEvent(
                        EventKind.BOUNCE,
                        recipient,
                        "dsn",
                        reason,
                        status.group(1) == "5" and not mailbox_full(status.group(0)),
                        reference,
                    )
                )
    elif report_type == "feedback-report":
        for part in message.walk():
            if part.get_content_type() != "message/feedback-report":
                continue
            for block in _blocks(part):
                recipient = _address(block.get("Original-Rcpt-To"))
                kind = str(block.get("Feedback-Type", "abuse")).strip()
                events.append(
                    DeliveryEvent(
                        EventKind.COMPLAINT,
                        recipient,
                        "dsn",
                        f"reported as {kind}",
                        True,
                        reference,
                    )
                )
                break
    return events
