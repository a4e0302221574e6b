"""SMTP delivery over a few reused connections, each kept busy by whoever needs it.

A worker process has `smtp_connections` connections (8 by default, chosen by `python -m bench
mail`). A sender takes one (`connection()`), sends on it and gives it back: jobs, however they
are split, share the same connections. Failures come back as a DeliveryError that says what to
do: `permanent` (5xx but a full mailbox: give up), `relay` (the relay is down: pause every
worker, `relay.py`) or neither (this mail refused for now: try it again later). A mail is
never sent again at once after its whole message was written: the relay may have taken it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from domain import metrics
from domain.mail.compose import ComposeError, Composer, Mail
from domain.mail.events import mailbox_full
from domain.mail.relay import RelayGate
from domain.mail.smtp import Relay, SmtpConnection, SmtpFailure, Stage
from domain.settings import Settings


class DeliveryError(Exception):
    """The mail was not accepted.

    `permanent`: retrying cannot help (a 5xx refusal, a mail that cannot be written).
    `relay`: the relay itself is down (sending pauses); the mail was not refused for itself.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        relay: bool = False,
        unwritable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.relay = relay
        self.unwritable = unwritable  # the mail could not be composed (never reached the relay)
        self.counted = False  # in the metrics already (a connection that could not be opened)


def failure_reason(error: DeliveryError) -> str:
    """The metrics' `reason` label of a failed delivery (a fixed word, never the relay's text)."""
    if error.unwritable:
        return "unwritable"
    if error.relay:
        return "relay_unreachable"
    return "permanent" if error.permanent else "temporary"


def relay_of(settings: Settings) -> Relay:
    return Relay(
        host=settings.smtp_host,
        port=settings.smtp_port,
        tls=settings.smtp_tls.value,
        user=settings.smtp_user,
        password=settings.smtp_password.get_secret_value(),
        timeout=settings.smtp_timeout_seconds,
        ca_file=settings.smtp_ca_file,
    )


class Mailer:
    def __init__(
        self,
        settings: Settings,
        *,
        connections: int | None = None,
        gate: RelayGate | None = None,
    ) -> None:
        self.settings = settings
        self.composer = Composer(settings)
        self.gate = gate or RelayGate(settings)
        self.connections = connections or settings.smtp_connections
        # DKIM signing in threads: OpenSSL's RSA runs without the GIL, on another core.
        self._signing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dkim")
        relay = relay_of(settings)
        self._all = [SmtpConnection(relay) for _ in range(self.connections)]
        # Last in, first out: a sender gets the connection used last (open already), so a
        # light load stays on one connection and only a heavy one opens them all.
        self._idle: asyncio.LifoQueue[SmtpConnection] = asyncio.LifoQueue()
        for connection in self._all:
            self._idle.put_nowait(connection)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[SmtpConnection]:
        """An open connection, this sender's until the block ends. DeliveryError(relay=True)
        when the relay cannot be reached."""
        connection = await self._idle.get()
        try:
            if not connection.is_open:
                await self._open(connection)
            yield connection
        finally:
            self._idle.put_nowait(connection)

    async def _open(self, connection: SmtpConnection) -> None:
        if self.gate.paused_here():
            raise DeliveryError("sending is paused: the mail relay is down", relay=True)
        try:
            await connection.open()
        except SmtpFailure as failure:
            await self.gate.down(failure.reason)
            error = DeliveryError(failure.reason, relay=True)
            # Counted here, once an attempt: a sender whose connection cannot be opened never
            # reaches deliver(), and an outage must show in the metrics.
            metrics.mails_failed.labels(failure_reason(error)).inc()
            error.counted = True
            raise error from failure

    async def send(
        self, mail: Mail, *, still_wanted: Callable[[], Awaitable[bool]] | None = None
    ) -> None:
        """Send one mail on whichever connection is free first (see `deliver`)."""
        async with self.connection() as connection:
            await self.deliver(connection, mail, still_wanted=still_wanted)

    async def deliver(
        self,
        connection: SmtpConnection,
        mail: Mail,
        *,
        still_wanted: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Send one mail on a connection from `connection()`. Raises DeliveryError, or
        smtp.Withdrawn when `still_wanted` (asked once the relay accepted the envelope, just
        before the message goes) says no."""
        started = time.perf_counter()
        try:
            await self._deliver(connection, mail, still_wanted=still_wanted)
        except DeliveryError as error:
            if not error.counted:
                metrics.mails_failed.labels(failure_reason(error)).inc()
            raise
        else:
            metrics.mails_sent.inc()
        finally:
            metrics.mail_send_duration.observe(time.perf_counter() - started)

    async def _deliver(
        self,
        connection: SmtpConnection,
        mail: Mail,
        *,
        still_wanted: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        try:
            composed = self.composer.compose(mail, smtputf8=connection.smtputf8, sign=False)
        except ComposeError as error:
            raise DeliveryError(error.reason, permanent=True, unwritable=True) from error
        if self.composer.signs:
            composed = await asyncio.get_running_loop().run_in_executor(
                self._signing, self.composer.sign, composed
            )
        for attempt in (1, 2):
            if not connection.is_open:
                await self._open(connection)
            try:
                await connection.send(
                    composed.sender,
                    composed.recipient,
                    composed.message,
                    utf8=composed.utf8,
                    still_wanted=still_wanted,
                )
            except SmtpFailure as failure:
                if failure.code == 0 and not failure.delivered_maybe and attempt == 1:
                    # The relay closed the connection before this mail's message was written
                    # (an idle timeout, a restart): nothing was delivered, try a new one once.
                    continue
                raise await self._judged(failure) from failure
            await self.gate.accepted()
            return

    async def _judged(self, failure: SmtpFailure) -> DeliveryError:
        reason = failure.reason
        if failure.stage in (Stage.CONNECT, Stage.MAIL) or failure.connection_lost:
            if failure.delivered_maybe:
                reason = f"{reason} (after the whole message was sent: it may have arrived)"
                await self.gate.temporary_refusal(reason)
                return DeliveryError(reason)
            await self.gate.down(reason)
            return DeliveryError(reason, relay=True)
        if failure.code == 552 and mailbox_full(reason):
            # Its owner may make room: retried as a 4xx is, until the give-up period. Not the
            # relay's trouble, so it never counts towards pausing the relay.
            return DeliveryError(reason)
        if 500 <= failure.code < 600:
            return DeliveryError(reason, permanent=True)
        relay_down = await self.gate.temporary_refusal(reason)
        return DeliveryError(reason, relay=relay_down)

    async def close(self) -> None:
        # Idle connections say goodbye; one still in use (a send the shutdown interrupts) is
        # only closed: its lane is reading its replies, and QUIT would read over it.
        idle = []
        while not self._idle.empty():
            idle.append(self._idle.get_nowait())
        for connection in self._all:
            if connection not in idle:
                connection.close()
        for connection in reversed(idle):  # back in the same order once each has quit
            await connection.quit()
            self._idle.put_nowait(connection)
        self._signing.shutdown(wait=False)
