"""Getting the mail delivered: DKIM signatures, Message-ID, Return-Path, the set-up doc."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import replace
from pathlib import Path
from typing import cast

import dkim
import dns.asyncresolver
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from domain import checks
from domain.mail.compose import Address, Composer, Mail
from domain.mail.setup import EXAMPLE_DEPLOYMENT, mail_setup, render_setup_document
from domain.settings import load_settings
from tests.fixtures import GraphQLClient

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE: dict[str, object] = dict(EXAMPLE_DEPLOYMENT)


def dkim_settings(tmp_path: Path) -> tuple[dict[str, object], str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    path = tmp_path / "dkim.pem"
    path.write_bytes(pem)
    return {**EXAMPLE, "dkim_selector": "invitations", "dkim_private_key_path": path}, "invitations"


def test_mails_are_dkim_signed_and_verify_against_the_published_record(tmp_path: Path) -> None:
    values, selector = dkim_settings(tmp_path)
    settings = load_settings(**values)
    setup = mail_setup(settings)
    [record] = [r for r in setup.dns_records if "._domainkey." in r.name]
    assert setup.dkim_enabled
    assert record.name == f"{selector}._domainkey.mail.participate.example.org"

    message = (
        Composer(settings)
        .compose(
            Mail(
                to=Address("jan@example.org", "Jan Peëters"),
                subject="Uitnodiging",
                text="Hallo\n",
                html="<p>Hallo</p>",
                reply_to=Address("ada@example.org", "Ada"),
            )
        )
        .message
    )
    assert message.startswith(b"DKIM-Signature:")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name.decode().rstrip(".") == record.name
        return record.value.encode()

    assert dkim.verify(message, dnsfunc=dns)
    tampered = message.replace(b"Subject: Uitnodiging", b"Subject: Uitnodiginq")
    assert not dkim.verify(tampered, dnsfunc=dns)
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    assert str(parsed["Message-ID"]).endswith("@mail.participate.example.org>")


def test_the_committed_delivery_doc_is_the_one_rendered_for_the_example_deployment() -> None:
    committed = (ROOT / "docs" / "email-delivery.md").read_text()
    assert committed == render_setup_document(load_settings(**EXAMPLE)), (
        "docs/email-delivery.md is stale: run `make docs`"
    )
    for value in (
        "mail.participate.example.org",
        "203.0.113.25",
        "bounces@mail.participate.example.org",
    ):
        assert value in committed
    assert "Exchange" in committed and "Google Workspace" in committed


def test_a_reminders_thread_and_the_mails_other_headers_are_covered_by_its_signature(
    tmp_path: Path,
) -> None:
    values, _ = dkim_settings(tmp_path)
    settings = load_settings(**values)
    [record] = [r for r in mail_setup(settings).dns_records if "._domainkey." in r.name]

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return record.value.encode()

    first = "<i42.1.first@mail.participate.example.org>"
    mail = Mail(
        to=Address("jan@example.org"),
        subject="Herinnering",
        text="Hallo\n",
        html="<p>Hallo</p>",
        reply_to=Address("ada@example.org", "Ada"),
    )
    composer = Composer(settings)
    reminder = composer.compose(replace(mail, in_reply_to=first)).message
    assert dkim.verify(reminder, dnsfunc=dns)
    signature = email.message_from_bytes(reminder, policy=email.policy.default)["DKIM-Signature"]
    signed = "".join(str(signature).split()).split("h=")[1].split(";")[0].split(":")
    for name in ("in-reply-to", "references", "auto-submitted", "mime-version", "content-type"):
        assert name in signed
    # The reminder moved into another thread, or its first mail's reference dropped: refused.
    other = "<i7.1.other@mail.participate.example.org>"
    assert not dkim.verify(
        reminder.replace(f"In-Reply-To: {first}".encode(), b"In-Reply-To: " + other.encode()),
        dnsfunc=dns,
    )
    assert not dkim.verify(reminder.replace(f"References: {first}\r\n".encode(), b""), dnsfunc=dns)
    assert not dkim.verify(
        reminder.replace(b"Auto-Submitted: auto-generated", b"Auto-Submitted: no"), dnsfunc=dns
    )

    # Fields the mail does not have cannot be added (a first mail has no In-Reply-To), nor a
    # second From, Subject or Reply-To: above the mail's own, a client may show it, while a
    # verifier checks the lowest one.
    invitation = composer.compose(mail).message
    assert dkim.verify(invitation, dnsfunc=dns)
    header_end = invitation.index(b"\r\n\r\n") + 2
    for added in (
        f"In-Reply-To: {other}\r\nReferences: {other}\r\n",
        "From: Bank <help@bank.example>\r\n",
        "To: everyone@example.org\r\n",
        "Subject: Pay now\r\n",
        "Reply-To: thief@example.net\r\n",
    ):
        for at in (0, header_end):
            tampered = invitation[:at] + added.encode() + invitation[at:]
            assert not dkim.verify(tampered, dnsfunc=dns), (added, at)


async def test_admins_read_the_same_values_over_graphql(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    query = """{ mailDeliverySettings { sendingDomain fromAddress returnPath messageIdDomain
        dkimEnabled dnsRecords { type name value } exchangeSteps googleSteps } }"""
    data = (await admin(query))["mailDeliverySettings"]
    assert data["sendingDomain"] == "participate.example.org"
    assert data["fromAddress"] == "invitations@participate.example.org"
    assert data["returnPath"] == "invitations@participate.example.org"
    assert data["dkimEnabled"] is False
    assert any(r["name"] == "_dmarc.participate.example.org" for r in data["dnsRecords"])
    assert any("participate.example.org" in step for step in data["exchangeSteps"])
    denied = await gql.post(query)
    assert denied["data"] is None
    assert denied["errors"][0]["message"] == "Only admins can do this."

    # The purposes and steps in the asked language ('nl' is nl-BE), the values the same.
    localized = """query($locale: String) { mailDeliverySettings(locale: $locale) {
        dnsRecords { value purpose } exchangeSteps googleSteps checkCommands checkSteps } }"""
    english = (await admin(localized))["mailDeliverySettings"]
    dutch = (await admin(localized, {"locale": "nl"}))["mailDeliverySettings"]
    assert english["dnsRecords"][0]["purpose"].startswith("SPF: the servers allowed")
    assert dutch["dnsRecords"][0]["purpose"].startswith("SPF: de servers die mogen verzenden")
    assert [r["value"] for r in dutch["dnsRecords"]] == [r["value"] for r in english["dnsRecords"]]
    assert "Voeg onder Allowed domains participate.example.org toe." in dutch["exchangeSteps"]
    assert dutch["checkCommands"][-1].endswith("# het DMARC-beleid")
    assert "@participate.example.org" in dutch["checkSteps"][1]
    for name in ("exchangeSteps", "googleSteps", "checkSteps"):
        assert len(dutch[name]) == len(english[name]) and dutch[name] != english[name]


async def test_mails_sent_by_the_mailer_carry_a_signature_that_verifies(
    tmp_path: Path, database: None
) -> None:
    """The workers' path: composed, signed in a thread with the key parsed once, sent."""
    from domain.invitations import delivery
    from domain.mail.mailer import Mailer
    from tests.invitations_helpers import new_invitation, store_invitations
    from tests.mail_relay import ScriptedRelay, relay_settings, serve

    key_path = tmp_path / "dkim.pem"
    values, selector = dkim_settings(tmp_path)
    relay = ScriptedRelay()
    async with serve(relay) as port:
        settings = relay_settings(
            port, dkim_selector=selector, dkim_private_key_path=values["dkim_private_key_path"]
        )
        mailer = Mailer(settings)
        [record] = [r for r in mail_setup(settings).dns_records if "._domainkey." in r.name]
        key_path.unlink()  # read when the mailer was made, never again
        ids = await store_invitations(
            [new_invitation(f"signed{i}@example.org", send_email=True) for i in range(3)]
        )
        outcome = await delivery.send_invitations(ids, 1, mailer)
        await mailer.close()
    assert outcome.sent == 3

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name.decode().rstrip(".") == f"{selector}._domainkey.participate.example.org"
        return record.value.encode()

    for caught in relay.mails:
        assert caught.raw.startswith(b"DKIM-Signature:")
        assert dkim.verify(caught.raw, dnsfunc=dns)


class TxtServer(asyncio.DatagramProtocol):
    """A DNS server on loopback answering TXT questions from `records` (NXDOMAIN for any
    other name), as the DKIM check's resolver meets one."""

    def __init__(self, records: dict[str, list[str]]) -> None:
        self.records = records
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        [question] = query.question
        found = self.records.get(question.name.to_text().rstrip("."))
        if found is None or question.rdtype != dns.rdatatype.TXT:
            response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            # A DKIM record is longer than one TXT string (255 bytes): several, as zones hold it.
            rdatas = [
                " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))
                for value in found
            ]
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "TXT", *rdatas))
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


async def test_the_check_finds_the_published_dkim_record_and_names_a_wrong_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values, _ = dkim_settings(tmp_path)
    settings = load_settings(**values)
    [record] = [r for r in mail_setup(settings).dns_records if "._domainkey." in r.name]
    records: dict[str, list[str]] = {"mail.participate.example.org": ["v=spf1 -all"]}
    server = TxtServer(records)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: server, local_addr=("127.0.0.1", 0))
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = transport.get_extra_info("sockname")[1]
    monkeypatch.setattr(dns.asyncresolver, "default_resolver", resolver)
    try:
        missing = await checks.check_dkim(settings)
        assert not missing.ok and record.name in missing.detail and "NXDOMAIN" in missing.detail

        records[record.name] = ["v=spf1 -all", record.value]
        published = await checks.check_dkim(settings)
        assert published.ok, published.detail

        (tmp_path / "other").mkdir()
        other, _ = dkim_settings(tmp_path / "other")
        records[record.name] = [
            next(
                r.value
                for r in mail_setup(load_settings(**other)).dns_records
                if "._domainkey." in r.name
            )
        ]
        wrong = await checks.check_dkim(settings)
        assert not wrong.ok and "does not publish this key" in wrong.detail
    finally:
        transport.close()
