"""The mailer: one reused connection, reconnects, refusals as failures, TLS never optional."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from domain.mail.compose import Address, Mail
from domain.mail.mailer import DeliveryError, Mailer
from domain.settings import Settings, load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Recorder:
    def __init__(self) -> None:
        self.peers: list[Any] = []
        self.recipients: list[str] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.peers.append(session.peer)
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def server() -> Iterator[tuple[Recorder, Controller, int]]:
    port = free_port()
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield recorder, controller, port
    if controller.loop.is_running():
        controller.stop()


def settings_for(port: int, **extra: Any) -> Settings:
    return load_settings(
        env="test",
        secret_key="k" * 40,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_timeout_seconds=5,
        **extra,
    )


def mail(to: str) -> Mail:
    return Mail(to=Address(to, "Someone"), subject="Hello", text="Hi\n", html="<p>Hi</p>")


async def test_many_mails_go_over_one_reused_connection(
    server: tuple[Recorder, Controller, int],
) -> None:
    recorder, _, port = server
    mailer = Mailer(settings_for(port))
    for n in range(5):
        await mailer.send(mail(f"person{n}@example.org"))
    await mailer.close()
    assert len(recorder.recipients) == 5
    assert len(set(recorder.peers)) == 1


async def test_a_dropped_connection_is_reopened(server: tuple[Recorder, Controller, int]) -> None:
    recorder, controller, port = server
    mailer = Mailer(settings_for(port))
    await mailer.send(mail("first@example.org"))
    controller.stop()  # the server goes away (an idle timeout, a restart)
    restarted = Controller(recorder, hostname="127.0.0.1", port=port)
    restarted.start()
    try:
        await mailer.send(mail("second@example.org"))
        await mailer.close()
    finally:
        restarted.stop()
    assert recorder.recipients == ["first@example.org", "second@example.org"]
    assert len(set(recorder.peers)) == 2


async def test_refused_recipients_are_failures_permanent_or_not(
    server: tuple[Recorder, Controller, int],
) -> None:
    recorder, _, port = server
    recorder.refuse = {
        "gone@example.org": "550 5.1.1 mailbox unavailable",
        "full@example.org": "452 4.2.2 mailbox full",
        "over-quota@example.org": "552 5.2.2 Mailbox full",
        "too-big@example.org": "552 5.3.4 Message too big for system",
    }
    mailer = Mailer(settings_for(port))
    with pytest.raises(DeliveryError) as gone:
        await mailer.send(mail("gone@example.org"))
    assert gone.value.permanent and "550" in gone.value.reason
    with pytest.raises(DeliveryError) as full:
        await mailer.send(mail("full@example.org"))
    assert not full.value.permanent and "452" in full.value.reason
    with pytest.raises(DeliveryError) as over_quota:
        await mailer.send(mail("over-quota@example.org"))
    # 552 5.2.2: the mailbox is full for now, not gone: retried until the give-up period.
    assert not over_quota.value.permanent and not over_quota.value.relay
    assert "552" in over_quota.value.reason
    with pytest.raises(DeliveryError) as too_big:
        await mailer.send(mail("too-big@example.org"))
    assert too_big.value.permanent  # 552 for anything else (5.3.4: too big) stays permanent
    await mailer.send(mail("fine@example.org"))  # the connection is still usable
    await mailer.close()
    assert recorder.recipients == ["fine@example.org"]


async def test_starttls_is_required_when_asked_never_skipped(
    server: tuple[Recorder, Controller, int],
) -> None:
    recorder, _, port = server
    mailer = Mailer(settings_for(port, smtp_tls="starttls"))
    with pytest.raises(DeliveryError):
        await mailer.send(mail("secret@example.org"))
    await mailer.close()
    assert recorder.recipients == []  # nothing went out in plaintext


async def test_an_unreachable_server_is_a_temporary_failure() -> None:
    mailer = Mailer(settings_for(free_port()))
    with pytest.raises(DeliveryError) as error:
        await mailer.send(mail("anyone@example.org"))
    assert not error.value.permanent
    await mailer.close()


def test_encoded_words_typed_into_names_reach_readers_as_text_never_decoded() -> None:
    """A name typed as '=?utf-8?b?...?=' would otherwise be decoded by mail readers into a
    name of the typist's choosing (here 'Bank <security@bank.example>')."""
    import email
    import email.policy
    from email.header import decode_header, make_header

    from domain.mail.compose import Composer

    forged = "=?utf-8?b?QmFuayA8c2VjdXJpdHlAYmFuay5leGFtcGxlPg==?="
    composed = Composer(settings_for(2525)).compose(
        Mail(
            to=Address("jan@example.org", forged),
            subject=f"{forged} invites you",
            text="Hi\n",
            html="<p>Hi</p>",
            reply_to=Address("ada@example.org", f"Ada {forged}"),
        )
    )
    raw = email.message_from_bytes(composed.message, policy=email.policy.compat32)

    def shown(name: str) -> str:
        # As a mail reader shows it: encoded words decoded by RFC 2047's rules.
        return str(make_header(decode_header(str(raw[name]))))

    assert shown("To") == f"{forged} <jan@example.org>"
    assert shown("Reply-To") == f"Ada {forged} <ada@example.org>"
    assert shown("Subject") == f"{forged} invites you"
    parsed = email.message_from_bytes(composed.message, policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == "jan@example.org"
    headers = composed.message.split(b"\r\n\r\n", 1)[0]
    assert forged.encode() not in headers  # sent as an encoded word of its characters
    assert b"Bank" not in headers


def test_every_mail_says_it_is_sent_automatically_so_out_of_office_replies_stay_away() -> None:
    import email
    import email.policy

    from domain.mail.compose import Composer

    composer = Composer(settings_for(2525))
    for reply_to in (None, Address("ada@example.org", "Ada Admin")):
        composed = composer.compose(
            Mail(
                to=Address("jan@example.org"),
                subject="Hi",
                text="Hi\n",
                html="<p>Hi</p>",
                reply_to=reply_to,
            )
        )
        parsed = email.message_from_bytes(composed.message, policy=email.policy.default)
        assert parsed.get_all("Auto-Submitted") == ["auto-generated"]


def test_display_names_are_quoted_or_encoded_as_needed() -> None:
    from domain.mail.compose import address_header, display_name

    assert display_name("Jan Peeters") == "Jan Peeters"
    assert display_name('Jan "the man", Peeters') == '"Jan \\"the man\\", Peeters"'
    assert display_name("Zoë  Dupont") == "=?utf-8?q?Zo=C3=AB_Dupont?="
    assert address_header(Address("zoe@münchen.de", "Zoë"), smtputf8=False) == (
        "=?utf-8?q?Zo=C3=AB?= <zoe@xn--mnchen-3ya.de>"
    )


async def test_a_relay_without_pipelining_gets_one_command_at_a_time_and_auth_works() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Checked(Recorder):
        pass

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = data.login == b"relay-user" and data.password == b"relay secret"
        return AuthResult(success=ok, handled=False)

    recorder = Checked()
    port = free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        good = Mailer(settings_for(port, smtp_user="relay-user", smtp_password="relay secret"))
        await good.send(mail("authorized@example.org"))
        await good.close()
        bad = Mailer(settings_for(port, smtp_user="relay-user", smtp_password="wrong"))
        with pytest.raises(DeliveryError) as refused:
            await bad.send(mail("refused@example.org"))
        await bad.close()
    finally:
        controller.stop()
    assert recorder.recipients == ["authorized@example.org"]
    assert refused.value.relay and "535" in refused.value.reason


def _certificate(folder: Any) -> tuple[Any, Any]:
    """A self-signed certificate for 127.0.0.1 and its key, as files."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "relay.pem", folder / "relay.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_starttls_and_implicit_tls_check_the_relays_certificate(tmp_path: Any) -> None:
    import ssl

    cert_path, key_path = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    recorder = Recorder()
    starttls_port, tls_port = free_port(), free_port()
    starttls = Controller(
        recorder,
        hostname="127.0.0.1",
        port=starttls_port,
        tls_context=server_context,
        require_starttls=True,
    )
    implicit = Controller(recorder, hostname="127.0.0.1", port=tls_port, ssl_context=server_context)
    starttls.start()
    implicit.start()
    try:
        for port, mode in ((starttls_port, "starttls"), (tls_port, "tls")):
            mailer = Mailer(settings_for(port, smtp_tls=mode, smtp_ca_file=cert_path))
            await mailer.send(mail(f"{mode}@example.org"))
            await mailer.close()
        # A certificate the settings do not trust: nothing is sent.
        untrusted = Mailer(settings_for(starttls_port, smtp_tls="starttls"))
        with pytest.raises(DeliveryError) as refused:
            await untrusted.send(mail("untrusted@example.org"))
        await untrusted.close()
    finally:
        starttls.stop()
        implicit.stop()
    assert recorder.recipients == ["starttls@example.org", "tls@example.org"]
    assert "certificate" in refused.value.reason.lower()


async def test_the_relays_outages_are_logged_without_the_addresses_it_quotes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from domain.mail.relay import RelayGate

    gate = RelayGate(settings_for(2525, relay_pause_seconds=5))
    caplog.set_level("INFO")
    for _ in range(3):
        down = await gate.temporary_refusal("450 4.2.0 <jan.peeters@example.org>: greylisted")
    assert down and await gate.remaining() > 0
    await gate.accepted()
    assert await gate.remaining() == 0
    assert "mail relay down" in caplog.text and "sending resumed" in caplog.text
    assert "@" not in caplog.text


async def test_closing_while_a_mail_is_being_sent_closes_that_connection_without_a_quit(
    server: tuple[Recorder, Controller, int],
) -> None:
    """A worker shutting down mid-send: its QUIT would read over the sender's reply."""
    recorder, _, port = server
    entered, answer = threading.Event(), threading.Event()
    record = recorder.handle_DATA

    async def slow_data(server: Any, session: Any, envelope: Any) -> str:
        if "second@example.org" in envelope.rcpt_tos:
            entered.set()
            await asyncio.get_running_loop().run_in_executor(None, answer.wait, 10)
        return await record(server, session, envelope)

    recorder.handle_DATA = slow_data  # type: ignore[method-assign]
    mailer = Mailer(settings_for(port))
    await mailer.send(mail("first@example.org"))  # the connection is open
    sending = asyncio.create_task(mailer.send(mail("second@example.org")))
    try:
        assert await asyncio.to_thread(entered.wait, 10)
        await mailer.close()  # the sender is waiting for the relay's answer to its message
    finally:
        answer.set()
    with contextlib.suppress(DeliveryError):
        await sending
