"""Delivery events from mail providers, each verified before it is believed.

- Mailgun: webhooks signed with the account's webhook signing key (HMAC-SHA256 over the
  timestamp and a token); older than 15 minutes is refused (a replayed request).
- Amazon SES: notifications through SNS, signed by SNS with the key of a certificate that SNS
  publishes; the certificate's address must be https://sns.<region>.amazonaws.com/..., the
  topic one the settings name, and the signature must verify (SignatureVersion 1: SHA1, 2:
  SHA256). Certificates are fetched by a CertificateSource: in production over HTTPS (and
  kept), in tests a stand-in; the address rule holds for both.
- Postmark: signs nothing. Its webhook is set up with basic-auth credentials in the URL
  (https://user:password@host/mail/events/postmark), which the endpoint checks (api/).

Each parser returns DeliveryEvents (recorded by `domain.invitations.feedback`); events that are not
bounces or complaints (delivered, opened, a provider still retrying) are left out.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from domain.mail import references
from domain.mail.events import DeliveryEvent, EventKind

MAILGUN_MAX_AGE_SECONDS = 15 * 60
_SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
_SNS_SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SNS_SIGNED["UnsubscribeConfirmation"] = _SNS_SIGNED["SubscriptionConfirmation"]


class EventRejected(Exception):
    """Not a genuine event from the provider (signature, age, origin): nothing recorded."""


class MalformedEvent(ValueError):
    """Signed, or not signed at all, but not shaped as the provider's events are."""


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError as error:
        raise MalformedEvent("not JSON") from error
    if not isinstance(value, dict):
        raise MalformedEvent("not a JSON object")
    return value


def _reference(*texts: Any) -> references.Reference | None:
    for text in texts:
        if isinstance(text, str) and text:
            found = references.find(text)
            if found is not None:
                return found
    return None


# Mailgun


def mailgun_events(
    body: bytes, signing_key: str, *, now: float | None = None
) -> list[DeliveryEvent]:
    payload = _json(body)
    signature = payload.get("signature")
    if not isinstance(signature, dict):
        raise EventRejected("no signature")
    timestamp = str(signature.get("timestamp", ""))
    token = str(signature.get("token", ""))
    given = str(signature.get("signature", ""))
    expected = hmac.new(
        signing_key.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    if not given or not hmac.compare_digest(expected, given):
        raise EventRejected("the signature does not match")
    if (
        not timestamp.isdigit()
        or abs((now or time.time()) - int(timestamp)) > MAILGUN_MAX_AGE_SECONDS
    ):
        raise EventRejected("too old (or from the future)")
    data = payload.get("event-data")
    if not isinstance(data, dict):
        raise MalformedEvent("no event-data")
    event = data.get("event")
    recipient = str(data.get("recipient", ""))
    headers = (data.get("message") or {}).get("headers") or {}
    reference = _reference(headers.get("message-id"), (data.get("envelope") or {}).get("sender"))
    status = data.get("delivery-status") or {}
    reason = " ".join(
        str(part)
        for part in (status.get("code"), status.get("description") or status.get("message"))
        if part
    ) or str(data.get("reason", ""))
    if event == "complained":
        return [
            DeliveryEvent(
                EventKind.COMPLAINT, recipient, "mailgun", "marked as spam", True, reference
            )
        ]
    if event != "failed" or data.get("severity") != "permanent":
        return []  # delivered, opened, ... or a temporary failure Mailgun still retries
    # 'old': Mailgun retried for hours and gave up (a soft bounce); otherwise refused for good.
    hard = data.get("reason") != "old"
    return [DeliveryEvent(EventKind.BOUNCE, recipient, "mailgun", reason, hard, reference)]


# Amazon SES through SNS


class CertificateSource(Protocol):
    """Where SNS's signing certificates come from (and subscriptions are confirmed)."""

    async def certificate(self, url: str) -> bytes: ...

    async def confirm(self, url: str) -> None: ...


class HttpsCertificates:
    """SNS signing certificates fetched over HTTPS (verified by the system's CAs), kept."""

    def __init__(self) -> None:
        self._kept: dict[str, bytes] = {}

    async def certificate(self, url: str) -> bytes:
        if url not in self._kept:
            self._kept[url] = await asyncio.to_thread(_fetch, url)
        return self._kept[url]

    async def confirm(self, url: str) -> None:
        await asyncio.to_thread(_fetch, url)


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (checked https)
        data: bytes = response.read(100_000)
        return data


def sns_url_allowed(url: str) -> bool:
    """An address of SNS itself: https, on sns.<region>.amazonaws.com, nothing else."""
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and parts.port is None
        and not parts.username
        and bool(_SNS_HOST.fullmatch(parts.hostname or ""))
    )


async def verify_sns(message: Mapping[str, Any], certificates: CertificateSource) -> None:
    kind = message.get("Type")
    if kind not in _SNS_SIGNED:
        raise MalformedEvent(f"not an SNS message type: {kind!r}")
    url = str(message.get("SigningCertURL", ""))
    if not sns_url_allowed(url) or not urlsplit(url).path.endswith(".pem"):
        raise EventRejected("the signing certificate is not SNS's")
    try:
        certificate = x509.load_pem_x509_certificate(await certificates.certificate(url))
    except (ValueError, OSError) as error:
        raise EventRejected(f"the signing certificate cannot be read: {error}") from error
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise EventRejected("the signing certificate has expired")
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise EventRejected("the signing certificate's key is not RSA")
    signed = "".join(
        f"{name}\n{message[name]}\n" for name in _SNS_SIGNED[kind] if name in message
    ).encode()
    algorithm = hashes.SHA256() if str(message.get("SignatureVersion")) == "2" else hashes.SHA1()  # noqa: S303
    try:
        key.verify(
            base64.b64decode(str(message.get("Signature", ""))),
            signed,
            padding.PKCS1v15(),
            algorithm,
        )
    except (InvalidSignature, ValueError) as error:
        raise EventRejected("the signature does not verify") from error


async def ses_events(
    body: bytes, *, topics: list[str], certificates: CertificateSource
) -> tuple[list[DeliveryEvent], str | None]:
    """The events of one SNS message, and the address to confirm a new subscription at."""
    message = _json(body)
    await verify_sns(message, certificates)
    if message.get("TopicArn") not in topics:
        raise EventRejected("not one of the topics INVITES_SES_SNS_TOPIC_ARNS names")
    if message["Type"] == "SubscriptionConfirmation":
        subscribe = str(message.get("SubscribeURL", ""))
        if not sns_url_allowed(subscribe):
            raise EventRejected("the subscription address is not SNS's")
        return [], subscribe
    if message["Type"] != "Notification":
        return [], None
    try:
        notification = json.loads(str(message.get("Message", "")))
    except ValueError as error:
        raise MalformedEvent("the notification is not JSON") from error
    return _ses_notification(notification), None


def _ses_notification(notification: Any) -> list[DeliveryEvent]:
    if not isinstance(notification, dict):
        raise MalformedEvent("the notification is not a JSON object")
    kind = notification.get("notificationType") or notification.get("eventType")
    mail = notification.get("mail") or {}
    headers = {str(h.get("name", "")).lower(): h.get("value") for h in mail.get("headers") or []}
    reference = _reference(
        (mail.get("commonHeaders") or {}).get("messageId"),
        headers.get("message-id"),
        mail.get("source"),
    )
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        hard = bounce.get("bounceType") == "Permanent"
        return [
            DeliveryEvent(
                EventKind.BOUNCE,
                str(r.get("emailAddress", "")),
                "ses",
                str(r.get("diagnosticCode") or r.get("status") or bounce.get("bounceSubType", "")),
                hard,
                reference,
            )
            for r in bounce.get("bouncedRecipients") or []
        ]
    if kind == "Complaint":
        complaint = notification.get("complaint") or {}
        return [
            DeliveryEvent(
                EventKind.COMPLAINT,
                str(r.get("emailAddress", "")),
                "ses",
                str(complaint.get("complaintFeedbackType") or "marked as spam"),
                True,
                reference,
            )
            for r in complaint.get("complainedRecipients") or []
        ]
    return []


# Postmark

_POSTMARK_HARD = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated"}
_POSTMARK_SOFT = {"SoftBounce", "Transient", "DnsError", "Blocked", "Unknown", "SMTPApiError"}


def postmark_events(body: bytes) -> list[DeliveryEvent]:
    """Postmark's bounce and spam-complaint webhooks (authenticated by the endpoint)."""
    payload = _json(body)
    record = payload.get("RecordType")
    recipient = str(payload.get("Email", ""))
    metadata = payload.get("Metadata") or {}
    reference = _reference(*(metadata.values() if isinstance(metadata, dict) else ()))
    reason = " ".join(
        str(part) for part in (payload.get("Description"), payload.get("Details")) if part
    )
    if record == "SpamComplaint" or payload.get("Type") == "SpamComplaint":
        return [
            DeliveryEvent(
                EventKind.COMPLAINT, recipient, "postmark", "marked as spam", True, reference
            )
        ]
    if record != "Bounce":
        return []
    kind = payload.get("Type")
    if kind in _POSTMARK_HARD:
        return [DeliveryEvent(EventKind.BOUNCE, recipient, "postmark", reason, True, reference)]
    if kind in _POSTMARK_SOFT:
        return [DeliveryEvent(EventKind.BOUNCE, recipient, "postmark", reason, False, reference)]
    return []  # auto-replies, subscription changes, ...
