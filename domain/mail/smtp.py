"""An SMTP client for sending many mails over a few long-lived connections.

aiosmtplib waits for each reply before the next command: four round trips a mail (MAIL, RCPT,
DATA, the message). Where the relay offers PIPELINING (RFC 2920) this client writes MAIL, RCPT
and DATA together and reads their three replies: two round trips a mail, which is what a relay
tens of milliseconds away costs. It also speaks SMTPUTF8 (RFC 6531) when the relay offers it,
STARTTLS and implicit TLS (never a silent fallback to plaintext), and AUTH PLAIN or LOGIN.

Built on asyncio streams; a connection serializes its transactions (the caller holds it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

_LINE_START_DOT = re.compile(rb"(?m)^\.")


class Stage(StrEnum):
    """Where in the conversation a failure happened."""

    CONNECT = "connect"  # connecting, the greeting, EHLO, STARTTLS, AUTH: the relay itself
    MAIL = "mail"  # MAIL FROM: the sender, so the relay too
    RCPT = "rcpt"  # the recipient
    DATA = "data"  # the DATA command
    MESSAGE = "message"  # the reply to the message itself


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class SmtpFailure(Exception):
    """The relay refused (`code` is its reply) or the connection failed (`code` 0).

    `delivered_maybe`: the connection failed after the whole message was written, so the relay
    may have accepted it; sending it again at once could deliver it twice.
    """

    def __init__(
        self, reason: str, *, stage: Stage, code: int = 0, delivered_maybe: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage
        self.code = code
        self.delivered_maybe = delivered_maybe

    @property
    def connection_lost(self) -> bool:
        return self.code == 0 or self.code == 421


class Withdrawn(Exception):
    """The caller withdrew the mail before its content was sent (the connection was closed to
    abandon the transaction: SMTP has no way to cancel after DATA was accepted)."""


@lru_cache(maxsize=1)
def local_hostname() -> str:
    name = socket.getfqdn()
    return name if name and name.isascii() and "." in name else "localhost"


@dataclass(frozen=True, slots=True)
class Relay:
    host: str
    port: int
    tls: str = "none"  # none, starttls, tls
    user: str = ""
    password: str = ""
    timeout: float = 30.0
    ca_file: Path | None = None

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)


class SmtpConnection:
    """One connection to the relay, opened on demand and reused for many transactions."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.extensions: dict[str, str] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @property
    def is_open(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    @property
    def pipelining(self) -> bool:
        return "PIPELINING" in self.extensions

    @property
    def smtputf8(self) -> bool:
        return "SMTPUTF8" in self.extensions

    async def open(self) -> None:
        """Connect, greet, secure and authenticate as configured. Raises SmtpFailure."""
        relay = self.relay
        self.close()
        try:
            async with asyncio.timeout(relay.timeout):
                self._reader, self._writer = await asyncio.open_connection(
                    relay.host,
                    relay.port,
                    ssl=relay.ssl_context() if relay.tls == "tls" else None,
                    server_hostname=relay.host if relay.tls == "tls" else None,
                )
            await self._expect(Stage.CONNECT, 220)
            await self._ehlo()
            if relay.tls == "starttls":
                if "STARTTLS" not in self.extensions:
                    raise SmtpFailure(
                        "the relay does not offer STARTTLS, which the settings require",
                        stage=Stage.CONNECT,
                    )
                await self._command(Stage.CONNECT, "STARTTLS", 220)
                assert self._writer is not None
                async with asyncio.timeout(relay.timeout):
                    await self._writer.start_tls(relay.ssl_context(), server_hostname=relay.host)
                await self._ehlo()
            if relay.user:
                await self._authenticate()
        except SmtpFailure:
            self.close()
            raise
        except (OSError, TimeoutError, ssl.SSLError, EOFError) as error:
            self.close()
            raise SmtpFailure(
                f"cannot connect to {relay.host}:{relay.port}: {_describe(error)}",
                stage=Stage.CONNECT,
            ) from error

    async def send(
        self,
        sender: str,
        recipient: str,
        message: bytes,
        *,
        utf8: bool = False,
        still_wanted: Callable[[], Awaitable[bool]] | None = None,
    ) -> Reply:
        """One transaction: the relay's reply to the message, or SmtpFailure / Withdrawn.

        `still_wanted` is asked once the relay has accepted the envelope, just before the
        message goes; when it says no, the message is not sent. A failure before the message
        was written leaves the connection usable, unless the connection itself failed.
        """
        params = ""
        if utf8:
            params = " SMTPUTF8" + (" BODY=8BITMIME" if "8BITMIME" in self.extensions else "")
        commands = [f"MAIL FROM:<{sender}>{params}", f"RCPT TO:<{recipient}>", "DATA"]
        stages = (Stage.MAIL, Stage.RCPT, Stage.DATA)
        expected = (250, 250, 354)
        encoding = "utf-8" if utf8 else "ascii"
        replies: list[Reply] = []
        try:
            if self.pipelining:
                self._write(b"".join(f"{c}\r\n".encode(encoding) for c in commands))
                await self._drain()
                for _ in commands:
                    replies.append(await self._reply())
            else:
                for command, want in zip(commands, expected, strict=True):
                    self._write(f"{command}\r\n".encode(encoding))
                    await self._drain()
                    reply = await self._reply()
                    replies.append(reply)
                    if reply.code not in (want, 251):
                        break
        except SmtpFailure as failure:
            self.close()
            failure.stage = stages[len(replies)] if len(replies) < 3 else Stage.MESSAGE
            raise
        for stage, want, reply in zip(stages, expected, replies, strict=False):
            if reply.code != want and not (stage is Stage.RCPT and reply.code == 251):
                await self._abandon(replies)
                raise SmtpFailure(str(reply), stage=stage, code=reply.code)
        if still_wanted is not None:
            try:
                wanted = await still_wanted()
            except BaseException:
                self.close()
                raise
            if not wanted:
                # After 354 only the message's end ends the transaction, and that would send it.
                self.close()
                raise Withdrawn()
        end = b".\r\n" if message.endswith(b"\r\n") else b"\r\n.\r\n"
        self._write(_LINE_START_DOT.sub(b"..", message) + end)  # one write: one syscall
        try:
            await self._drain()
            reply = await self._reply()
        except SmtpFailure as failure:
            self.close()
            failure.stage = Stage.MESSAGE
            failure.delivered_maybe = True
            raise
        if reply.code != 250:
            raise SmtpFailure(str(reply), stage=Stage.MESSAGE, code=reply.code)
        return reply

    async def _abandon(self, replies: list[Reply]) -> None:
        """After a refusal: end a DATA the relay accepted anyway (RFC 2920 3.1) and reset."""
        try:
            if len(replies) == 3 and replies[2].code == 354:
                self._write(b".\r\n")
                await self._drain()
                await self._reply()
            if replies and replies[0].code == 250:
                await self._command(Stage.MAIL, "RSET", 250)
        except SmtpFailure:
            self.close()

    async def noop(self) -> None:
        await self._command(Stage.CONNECT, "NOOP", 250)

    async def quit(self) -> None:
        if self.is_open:
            with contextlib.suppress(SmtpFailure):
                await self._command(Stage.CONNECT, "QUIT", 221)
        self.close()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
        self.extensions = {}

    # The conversation

    async def _ehlo(self) -> None:
        reply = await self._command(Stage.CONNECT, f"EHLO {local_hostname()}", 250)
        extensions = {}
        for line in reply.text.split("\n")[1:]:
            keyword, _, value = line.strip().partition(" ")
            extensions[keyword.upper()] = value
        self.extensions = extensions

    async def _authenticate(self) -> None:
        relay = self.relay
        methods = self.extensions.get("AUTH", "").upper().split()
        if "PLAIN" in methods:
            secret = f"\0{relay.user}\0{relay.password}".encode()
            await self._command(
                Stage.CONNECT, f"AUTH PLAIN {base64.b64encode(secret).decode()}", 235
            )
        elif "LOGIN" in methods:
            await self._command(Stage.CONNECT, "AUTH LOGIN", 334)
            await self._command(Stage.CONNECT, base64.b64encode(relay.user.encode()).decode(), 334)
            await self._command(
                Stage.CONNECT, base64.b64encode(relay.password.encode()).decode(), 235
            )
        else:
            raise SmtpFailure(
                "the relay offers no AUTH PLAIN or LOGIN, and the settings give a user",
                stage=Stage.CONNECT,
            )

    async def _command(self, stage: Stage, command: str, want: int) -> Reply:
        self._write(f"{command}\r\n".encode())
        await self._drain()
        return await self._expect(stage, want)

    async def _expect(self, stage: Stage, want: int) -> Reply:
        reply = await self._reply()
        if reply.code != want:
            raise SmtpFailure(str(reply), stage=stage, code=reply.code)
        return reply

    def _write(self, data: bytes) -> None:
        if self._writer is None:
            raise SmtpFailure("the connection is closed", stage=Stage.CONNECT)
        self._writer.write(data)

    async def _drain(self) -> None:
        assert self._writer is not None
        try:
            async with asyncio.timeout(self.relay.timeout):
                await self._writer.drain()
        except (OSError, TimeoutError) as error:
            raise SmtpFailure(
                f"connection lost: {_describe(error)}", stage=Stage.CONNECT
            ) from error

    async def _reply(self) -> Reply:
        """One reply, all its lines (`250-...` continues, `250 ...` ends)."""
        if self._reader is None:
            raise SmtpFailure("the connection is closed", stage=Stage.CONNECT)
        lines: list[str] = []
        try:
            async with asyncio.timeout(self.relay.timeout):
                while True:
                    line = await self._reader.readline()
                    if not line.endswith(b"\n"):
                        raise EOFError("the relay closed the connection")
                    code = line[:3]
                    if len(line) < 5 or not code.isdigit() or line[3:4] not in (b" ", b"-"):
                        if len(line.rstrip()) == 3 and code.isdigit():  # "250" alone
                            lines.append("")
                            break
                        raise EOFError(f"not an SMTP reply: {line[:80]!r}")
                    lines.append(line[4:].rstrip(b"\r\n").decode("utf-8", "replace"))
                    if line[3:4] == b" ":
                        break
        except (OSError, TimeoutError, EOFError, ValueError) as error:
            raise SmtpFailure(
                f"connection lost: {_describe(error)}", stage=Stage.CONNECT
            ) from error
        return Reply(int(code), "\n".join(lines))


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return str(error) or type(error).__name__
