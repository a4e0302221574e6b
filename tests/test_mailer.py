"""The mailer: one reused connection, reconnects, refusals as failures, TLS never optional."""

from __future__ import annotations

import socket
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
    }
    mailer = Mailer(settings_for(port))
    with pytest.raises(DeliveryError) as gone:
        await mailer.send(mail("gone@example.org"))
    assert gone.value.permanent and "550" in gone.value.reason
    with pytest.raises(DeliveryError) as full:
        await mailer.send(mail("full@example.org"))
    assert not full.value.permanent and "452" in full.value.reason
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
