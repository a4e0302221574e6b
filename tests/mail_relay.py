"""A test relay served on the test's own event loop (aiosmtpd's protocol, no thread), so its
hooks can look at and change the database while a mail is being sent, in a known order."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP

from domain.settings import Settings, load_settings
from tests.fixtures import CaughtMail


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ScriptedRelay:
    """Keeps every accepted mail; refuses, waits or drops as a test asks."""

    pipelining: bool = True
    mails: list[CaughtMail] = field(default_factory=list)
    # Every message received, accepted or not (a refused try keeps its Message-ID too).
    received: list[bytes] = field(default_factory=list)
    # Replies for RCPT TO of an address, used one by one, then 250.
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    # Replies for the next messages (end of DATA), used one by one, then 250.
    data_replies: list[str] = field(default_factory=list)
    # Addresses whose message is received and then answered by closing the connection.
    drop_after_data: set[str] = field(default_factory=set)
    # While set, the reply to every MAIL FROM (a relay that refuses all mail: no AUTH given).
    mail_refusal: str | None = None
    on_rcpt: Callable[[str], Awaitable[None]] | None = None
    on_data: Callable[[str], Awaitable[None]] | None = None
    transactions: int = 0  # MAIL FROM commands seen

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.transactions += 1
        if self.mail_refusal is not None:
            return self.mail_refusal
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.on_rcpt is not None:
            await self.on_rcpt(address)
        replies = self.rcpt_replies.get(address)
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.received.append(raw)
        recipient = envelope.rcpt_tos[0]
        if self.on_data is not None:
            await self.on_data(recipient)
        if recipient in self.drop_after_data:
            self.drop_after_data.discard(recipient)
            server.transport.close()
            return "250 never sent"
        if self.data_replies:
            return self.data_replies.pop(0)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.mails.append(
            CaughtMail(envelope.mail_from, list(envelope.rcpt_tos), raw, message)  # type: ignore[arg-type]
        )
        return "250 OK"

    def to(self, address: str) -> list[CaughtMail]:
        return [mail for mail in self.mails if address in mail.recipients]


@asynccontextmanager
async def serve(
    relay: ScriptedRelay, port: int | None = None, **options: Any
) -> AsyncIterator[int]:
    """Serve the relay on 127.0.0.1 until the block ends; yields its port."""
    loop = asyncio.get_running_loop()
    port = port or free_port()
    server = await loop.create_server(
        lambda: SMTP(relay, hostname="relay.test", loop=loop, **options), "127.0.0.1", port
    )
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()


def relay_settings(port: int, **extra: Any) -> Settings:
    """The test settings, with mail going to this port."""
    from domain.settings import get_settings

    values = get_settings().model_dump()
    values.update(smtp_port=port, smtp_timeout_seconds=5, **extra)
    return load_settings(**values)
