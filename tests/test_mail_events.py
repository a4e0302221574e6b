"""Bounces and complaints after the relay took a mail: provider webhooks (verified) and bounce
messages, the BOUNCED and COMPLAINED states, and suppression until an admin lifts it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from openpyxl import load_workbook

from api.app import create_app
from domain.clock import clock
from domain.mail.dsn import dsn_events
from domain.mail.references import Reference
from domain.models import DeliveryState, Invitation, MailSuppression
from domain.settings import get_settings, load_settings
from tests.fixtures import GraphQLClient, SmtpSink
from tests.invitations_helpers import DELETE, INVITATION, RESEND, create, enqueue_sweep

MAILGUN_KEY = "key-mailgun-webhook-signing-0123456789"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:invitations-ses-events"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
DSN_TOKEN = "dsn-intake-token-" + "z" * 30
DELIVERY = """query($id: ID!) { invitation(id: $id) { delivery {
  state attempts lastError bounceKind feedbackAt suppression { email reason detail source } } } }"""
LIFT = """mutation($email: String!) { liftMailSuppression(email: $email) {
  lifted { email reason } errors { code message } } }"""


class TestCertificates:
    """SNS's certificate source for the tests: serves one test certificate at any address
    (the address rule is the endpoint's, and is checked all the same)."""

    __test__ = False

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.now(UTC)
        self.pem = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
        )
        self.fetched: list[str] = []
        self.confirmed: list[str] = []

    async def certificate(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.pem

    async def confirm(self, url: str) -> None:
        self.confirmed.append(url)

    def signed(self, message: dict[str, Any], *, version: str = "2") -> dict[str, Any]:
        fields = (
            ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
            if message["Type"] == "Notification"
            else ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
        )
        text = "".join(f"{k}\n{message[k]}\n" for k in fields if k in message).encode()
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = self.key.sign(text, padding.PKCS1v15(), algorithm)
        return {
            **message,
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": message.get("SigningCertURL", CERT_URL),
        }


@pytest.fixture
async def events(database: None, redis: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The API with every provider set up."""
    values = get_settings().model_dump()
    values.update(
        mailgun_webhook_signing_key=MAILGUN_KEY,
        ses_sns_topic_arns=[TOPIC],
        postmark_webhook_user="postmark",
        postmark_webhook_password="hook password 42",
        dsn_intake_token=DSN_TOKEN,
    )
    app = create_app(load_settings(**values), manage_database=False)
    app.state.redis = redis
    app.state.sns_certificates = TestCertificates()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client, app.state.sns_certificates


async def sent_invitation(
    admin: GraphQLClient, run_worker: Any, smtp_sink: SmtpSink, email: str
) -> tuple[str, str]:
    """An invitation whose mail went out: its id and the Message-ID it was sent with."""
    [invitation] = (await create(admin, email))["invitations"]
    await run_worker()
    [mail] = smtp_sink.to(email)
    return invitation["id"], str(mail.message["Message-ID"])


def mailgun_payload(
    event: dict[str, Any], *, key: str = MAILGUN_KEY, timestamp: int | None = None
) -> dict[str, Any]:
    stamp = str(timestamp or int(time.time()))
    token = "a" * 50
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": stamp, "token": token, "signature": signature},
        "event-data": event,
    }


def mailgun_failure(recipient: str, message_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "event": "failed",
        "severity": "permanent",
        "reason": "bounce",
        "recipient": recipient,
        "timestamp": time.time(),
        "id": "G9Bn5sl1TC6nu79C8C0bwg",
        "log-level": "error",
        "message": {"headers": {"message-id": message_id.strip("<>"), "to": recipient}},
        "delivery-status": {
            "code": 550,
            "message": "5.1.1 The email account that you tried to reach does not exist",
            "description": "",
            "attempt-no": 1,
        },
        **changes,
    }


async def delivery(admin: GraphQLClient, invitation_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(DELIVERY, {"id": invitation_id}))["invitation"][
        "delivery"
    ]
    return result


async def test_a_mailgun_bounce_marks_the_invitation_and_suppresses_the_address_until_lifted(
    admin: GraphQLClient,
    events: tuple[httpx.AsyncClient, Any],
    run_worker: Any,
    smtp_sink: SmtpSink,
    redis: Any,
) -> None:
    http, _ = events
    invitation_id, message_id = await sent_invitation(
        admin, run_worker, smtp_sink, "gone@example.org"
    )
    assert message_id == Reference("i", int(invitation_id), 1).message_id("participate.example.org")
    # Forged (another key), replayed (an hour old): refused, nothing recorded.
    forged = mailgun_payload(mailgun_failure("gone@example.org", message_id), key="not-ours")
    old = mailgun_payload(
        mailgun_failure("gone@example.org", message_id), timestamp=int(time.time()) - 3600
    )
    for payload in (forged, old):
        response = await http.post("/mail/events/mailgun", json=payload)
        assert response.status_code == 403
    assert (await delivery(admin, invitation_id))["state"] == "SENT"
    # Mailgun still retrying: not a bounce yet.
    retrying = mailgun_failure("gone@example.org", message_id, severity="temporary")
    assert (await http.post("/mail/events/mailgun", json=mailgun_payload(retrying))).json()[
        "events"
    ] == 0

    genuine = mailgun_payload(mailgun_failure("gone@example.org", message_id))
    response = await http.post("/mail/events/mailgun", json=genuine)
    assert response.status_code == 200 and response.json() == {"events": 1, "matched": 1}
    shown = await delivery(admin, invitation_id)
    assert shown["state"] == "BOUNCED" and shown["bounceKind"] == "HARD"
    assert "550" in shown["lastError"] and "does not exist" in shown["lastError"]
    assert shown["suppression"] == {
        "email": "gone@example.org",
        "reason": "HARD_BOUNCE",
        "detail": shown["lastError"],
        "source": "mailgun",
    }
    # Webhooks are retried: the same event again changes nothing.
    assert (await http.post("/mail/events/mailgun", json=genuine)).status_code == 200
    assert await MailSuppression.all().count() == 1

    # Suppressed: no reminder, no resend, the sweep sends nothing.
    refused = (await admin(RESEND, {"id": invitation_id}))["resendInvitation"]
    assert [e["code"] for e in refused["errors"]] == ["ADDRESS_SUPPRESSED"]
    smtp_sink.clear()
    clock.advance(timedelta(days=4))
    await enqueue_sweep(redis)
    await run_worker()
    assert smtp_sink.mails == []
    # A new invitation to the address is stored, and not mailed: it says why.
    [again] = (await create(admin, "team@example.org"))["invitations"]
    await Invitation.filter(id=int(again["id"])).update(email="gone@example.org")
    await run_worker()
    assert smtp_sink.mails == []
    withheld = await delivery(admin, again["id"])
    assert withheld["state"] == "FAILED" and "suppressed" in withheld["lastError"]
    assert withheld["attempts"] == 0

    lifted = (await admin(LIFT, {"email": "Gone@Example.org"}))["liftMailSuppression"]
    assert lifted["lifted"] == {"email": "gone@example.org", "reason": "HARD_BOUNCE"}
    assert (await admin(LIFT, {"email": "gone@example.org"}))["liftMailSuppression"]["errors"][0][
        "code"
    ] == "NOT_FOUND"
    # The address has the newer invitation pending too: one of them is resent, once the other
    # is gone (an address gets one pending invitation).
    refused = (await admin(RESEND, {"id": invitation_id}))["resendInvitation"]
    assert [e["code"] for e in refused["errors"]] == ["ALREADY_INVITED"]
    assert (await admin(DELETE, {"id": again["id"]}))["deleteInvitation"]["errors"] == []
    resent = (await admin(RESEND, {"id": invitation_id}))["resendInvitation"]
    assert resent["errors"] == []
    await run_worker()
    assert [m.recipients[0] for m in smtp_sink.mails] == ["gone@example.org"]
    assert (await delivery(admin, invitation_id))["state"] == "SENT"


async def test_a_mailgun_complaint_and_a_soft_bounce(
    admin: GraphQLClient,
    events: tuple[httpx.AsyncClient, Any],
    run_worker: Any,
    smtp_sink: SmtpSink,
) -> None:
    http, _ = events
    spam_id, spam_message = await sent_invitation(
        admin, run_worker, smtp_sink, "annoyed@example.org"
    )
    old_id, old_message = await sent_invitation(admin, run_worker, smtp_sink, "full@example.org")
    complaint = {
        "event": "complained",
        "recipient": "annoyed@example.org",
        "message": {"headers": {"message-id": spam_message.strip("<>")}},
    }
    assert (await http.post("/mail/events/mailgun", json=mailgun_payload(complaint))).json()[
        "matched"
    ] == 1
    shown = await delivery(admin, spam_id)
    assert shown["state"] == "COMPLAINED" and shown["suppression"]["reason"] == "COMPLAINT"
    gave_up = mailgun_failure(
        "full@example.org",
        old_message,
        reason="old",
        **{"delivery-status": {"code": 452, "message": "4.2.2 mailbox full"}},
    )
    await http.post("/mail/events/mailgun", json=mailgun_payload(gave_up))
    soft = await delivery(admin, old_id)
    assert soft["state"] == "BOUNCED" and soft["bounceKind"] == "SOFT"
    assert soft["suppression"] is None and "mailbox full" in soft["lastError"]


def ses_notification(kind: str, recipient: str, message_id: str) -> dict[str, Any]:
    mail = {
        "timestamp": "2026-12-06T10:00:00.000Z",
        "source": "invitations@participate.example.org",
        "messageId": "0102018c-aaaa-bbbb-cccc-000000000000-000000",
        "destination": [recipient],
        "headersTruncated": False,
        "headers": [{"name": "Message-ID", "value": message_id}],
        "commonHeaders": {"messageId": message_id, "to": [recipient]},
    }
    if kind == "Bounce":
        body: dict[str, Any] = {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [
                    {
                        "emailAddress": recipient,
                        "action": "failed",
                        "status": "5.1.1",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                    }
                ],
                "timestamp": "2026-12-06T10:00:01.000Z",
                "feedbackId": "0102018c-feedback",
            },
            "mail": mail,
        }
    else:
        body = {
            "notificationType": "Complaint",
            "complaint": {
                "complainedRecipients": [{"emailAddress": recipient}],
                "complaintFeedbackType": "abuse",
                "timestamp": "2026-12-06T10:00:01.000Z",
                "feedbackId": "0102018c-feedback",
            },
            "mail": mail,
        }
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Message": json.dumps(body),
        "Timestamp": "2026-12-06T10:00:02.000Z",
    }


async def test_ses_events_through_sns_are_believed_only_when_sns_signed_them(
    admin: GraphQLClient,
    events: tuple[httpx.AsyncClient, Any],
    run_worker: Any,
    smtp_sink: SmtpSink,
) -> None:
    http, certificates = events
    bounced_id, bounced_message = await sent_invitation(
        admin, run_worker, smtp_sink, "unknown@example.org"
    )
    spam_id, spam_message = await sent_invitation(admin, run_worker, smtp_sink, "spam@example.org")
    bounce = ses_notification("Bounce", "unknown@example.org", bounced_message)

    tampered = certificates.signed(bounce)
    tampered["Message"] = tampered["Message"].replace("Permanent", "Transient")
    elsewhere = certificates.signed(
        {**bounce, "SigningCertURL": "https://sns.eu-west-1.amazonaws.com.attacker.example/x.pem"}
    )
    plain_http = certificates.signed(
        {**bounce, "SigningCertURL": CERT_URL.replace("https", "http")}
    )
    other_topic = certificates.signed({**bounce, "TopicArn": TOPIC + "-other"})
    for message in (tampered, elsewhere, plain_http, other_topic):
        response = await http.post("/mail/events/ses", content=json.dumps(message))
        assert response.status_code == 403, response.text
    assert not any("attacker" in url or url.startswith("http:") for url in certificates.fetched)
    assert (await delivery(admin, bounced_id))["state"] == "SENT"

    response = await http.post("/mail/events/ses", content=json.dumps(certificates.signed(bounce)))
    assert response.json() == {"events": 1, "matched": 1}
    shown = await delivery(admin, bounced_id)
    assert shown["state"] == "BOUNCED" and shown["bounceKind"] == "HARD"
    assert shown["suppression"]["source"] == "ses" and "user unknown" in shown["lastError"]

    complaint = certificates.signed(
        ses_notification("Complaint", "spam@example.org", spam_message), version="1"
    )
    assert (await http.post("/mail/events/ses", content=json.dumps(complaint))).status_code == 200
    assert (await delivery(admin, spam_id))["state"] == "COMPLAINED"

    subscribe = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc"
    confirmation = certificates.signed(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "abc",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": subscribe,
            "Timestamp": "2026-12-06T10:00:00.000Z",
        }
    )
    response = await http.post("/mail/events/ses", content=json.dumps(confirmation))
    assert response.json() == {"subscribed": True}
    assert certificates.confirmed == [subscribe]


async def test_postmark_webhooks_need_their_basic_auth_credentials(
    admin: GraphQLClient,
    events: tuple[httpx.AsyncClient, Any],
    run_worker: Any,
    smtp_sink: SmtpSink,
) -> None:
    http, _ = events
    invitation_id, _ = await sent_invitation(admin, run_worker, smtp_sink, "nobody@example.org")
    bounce = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {},
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "Nobody@Example.org",
        "From": "invitations@participate.example.org",
        "BouncedAt": "2026-12-06T10:00:00Z",
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Ada Admin invites you to Participate Example",
    }
    for auth in (None, ("postmark", "wrong"), ("someone", "hook password 42")):
        response = await http.post("/mail/events/postmark", json=bounce, auth=auth)
        assert response.status_code == 401
    response = await http.post(
        "/mail/events/postmark", json=bounce, auth=("postmark", "hook password 42")
    )
    assert response.json() == {"events": 1, "matched": 1}
    shown = await delivery(admin, invitation_id)
    assert shown["state"] == "BOUNCED" and shown["suppression"]["source"] == "postmark"


def dsn_message(
    return_path: str, recipient: str, *, status: str, action: str = "failed", message_id: str = ""
) -> bytes:
    """A bounce as Postfix writes it (RFC 3464), delivered to the return path."""
    returned = f"Message-ID: {message_id}\n" if message_id else ""
    text = f"""Return-Path: <>
Delivered-To: {return_path}
Received: by mx.participate.example.org (Postfix) id 3F1A2B; Sun,  6 Dec 2026 10:00:03 +0000
Date: Sun,  6 Dec 2026 10:00:03 +0000 (UTC)
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {return_path}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="3F1A2B.1733479203/mx.example.org"
Message-Id: <20261206100003.3F1A2B@mx.example.org>

This is a MIME-encapsulated message.

--3F1A2B.1733479203/mx.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--3F1A2B.1733479203/mx.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: 3F1A2B
X-Postfix-Sender: rfc822; {return_path}
Arrival-Date: Sun,  6 Dec 2026 10:00:01 +0000 (UTC)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mail.example.org
Diagnostic-Code: smtp; {status[0]}50 {status} Recipient address rejected: User unknown

--3F1A2B.1733479203/mx.example.org
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Participate Example <invitations@participate.example.org>
To: {recipient}
Subject: Ada Admin invites you to Participate Example
{returned}
--3F1A2B.1733479203/mx.example.org--
"""
    return text.replace("\n", "\r\n").encode()


async def test_bounce_messages_at_the_return_path_match_by_verp_or_message_id(
    admin: GraphQLClient,
    events: tuple[httpx.AsyncClient, Any],
    run_worker: Any,
    smtp_sink: SmtpSink,
) -> None:
    http, _ = events
    verp_id, _ = await sent_invitation(admin, run_worker, smtp_sink, "verp@example.org")
    by_id, by_id_message = await sent_invitation(admin, run_worker, smtp_sink, "msgid@example.org")
    later_id, _ = await sent_invitation(admin, run_worker, smtp_sink, "later@example.org")
    verp = Reference("i", int(verp_id), 1).return_path("invitations@participate.example.org")
    headers = {"Authorization": f"Bearer {DSN_TOKEN}"}
    hard = dsn_message(verp, "verp@example.org", status="5.1.1")
    assert (await http.post("/mail/events/dsn", content=hard)).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert (await http.post("/mail/events/dsn", content=hard, headers=wrong)).status_code == 401

    assert (await http.post("/mail/events/dsn", content=hard, headers=headers)).json() == {
        "events": 1,
        "matched": 1,
    }
    shown = await delivery(admin, verp_id)
    assert shown["state"] == "BOUNCED" and shown["bounceKind"] == "HARD"
    assert "User unknown" in shown["lastError"] and shown["suppression"]["source"] == "dsn"

    # No VERP: the returned headers' Message-ID names the send; a 4.x.x failure is soft.
    soft = dsn_message(
        "invitations@participate.example.org",
        "msgid@example.org",
        status="4.2.2",
        message_id=by_id_message,
    )
    await http.post("/mail/events/dsn", content=soft, headers=headers)
    shown = await delivery(admin, by_id)
    assert shown["state"] == "BOUNCED" and shown["bounceKind"] == "SOFT"
    assert shown["suppression"] is None

    # A delay warning is not a bounce.
    delayed = dsn_message(verp, "later@example.org", status="4.4.1", action="delayed")
    assert (await http.post("/mail/events/dsn", content=delayed, headers=headers)).json()[
        "events"
    ] == 0
    assert (await delivery(admin, later_id))["state"] == "SENT"
    # A forged reference (no valid tag) matches nothing by it.
    forged = dsn_message(
        f"invitations+i{later_id}.1.{'0' * 20}@participate.example.org",
        "someone-else@example.org",
        status="5.1.1",
    )
    assert (await http.post("/mail/events/dsn", content=forged, headers=headers)).json()[
        "matched"
    ] == 0
    assert (await delivery(admin, later_id))["state"] == "SENT"


@pytest.mark.parametrize(
    ("status", "hard"),
    [("5.1.1", True), ("5.2.2", False), ("5.2.22", True), ("5.2.1", True), ("4.2.2", False)],
)
def test_a_full_mailbox_reported_after_the_relay_took_the_mail_is_a_soft_bounce(
    status: str, hard: bool
) -> None:
    # As the relay's own 552 5.2.2 is judged (test_mailer): its owner may make room.
    report = dsn_message("invitations@participate.example.org", "full@example.org", status=status)
    [event] = dsn_events(report)
    assert (event.recipient, event.hard) == ("full@example.org", hard)


async def test_an_abuse_report_is_a_complaint(
    admin: GraphQLClient,
    events: tuple[httpx.AsyncClient, Any],
    run_worker: Any,
    smtp_sink: SmtpSink,
) -> None:
    http, _ = events
    invitation_id, message_id = await sent_invitation(
        admin, run_worker, smtp_sink, "reporter@example.org"
    )
    report = f"""From: abuse@mail.example.org
To: invitations@participate.example.org
Subject: FW: Ada Admin invites you to Participate Example
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="part"

--part
Content-Type: text/plain

This is an email abuse report.

--part
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Rcpt-To: <reporter@example.org>

--part
Content-Type: text/rfc822-headers

Message-ID: {message_id}
To: reporter@example.org

--part--
""".replace("\n", "\r\n").encode()
    response = await http.post(
        "/mail/events/dsn", content=report, headers={"Authorization": f"Bearer {DSN_TOKEN}"}
    )
    assert response.json() == {"events": 1, "matched": 1}
    assert (await delivery(admin, invitation_id))["state"] == "COMPLAINED"


async def test_the_export_and_the_list_show_bounced_invitations(
    admin: GraphQLClient,
    events: tuple[httpx.AsyncClient, Any],
    run_worker: Any,
    smtp_sink: SmtpSink,
    http: httpx.AsyncClient,
) -> None:
    events_http, _ = events
    invitation_id, message_id = await sent_invitation(
        admin, run_worker, smtp_sink, "exported@example.org"
    )
    await sent_invitation(admin, run_worker, smtp_sink, "fine@example.org")
    payload = mailgun_payload(mailgun_failure("exported@example.org", message_id))
    await events_http.post("/mail/events/mailgun", json=payload)
    listed = await admin(
        "{ invitations(first: 10, filter: {delivery: BOUNCED}) { edges { node { email } } } }"
    )
    assert [e["node"]["email"] for e in listed["invitations"]["edges"]] == ["exported@example.org"]
    response = await http.get(
        "/invitations/export.xlsx?delivery=bounced",
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    delivery_column = rows[0].index("delivery")
    assert [row[delivery_column] for row in rows[1:]] == ["Bounced"]
    assert (await Invitation.get(id=int(invitation_id))).delivery_state is DeliveryState.BOUNCED
    assert INVITATION  # the shared document stays valid with the new fields


async def test_an_mta_can_pipe_bounce_messages_to_the_cli(
    admin: GraphQLClient, run_worker: Any, smtp_sink: SmtpSink
) -> None:
    import asyncio
    import os
    import sys
    from pathlib import Path

    invitation_id, _ = await sent_invitation(admin, run_worker, smtp_sink, "piped@example.org")
    verp = Reference("i", int(invitation_id), 1).return_path("invitations@participate.example.org")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        "read-bounce",
        "--to",
        verp,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
        env=dict(os.environ),
    )
    bounce = dsn_message("bounces@mx.example.org", "piped@example.org", status="5.1.1")
    output, _ = await process.communicate(bounce)
    assert process.returncode == 0
    assert output.decode().strip() == "1 delivery events, 1 matched an invitation."
    assert (await delivery(admin, invitation_id))["state"] == "BOUNCED"
