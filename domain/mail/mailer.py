"""SMTP delivery over reused connections (one per worker by default), TLS always explicit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiosmtplib

from domain.mail.compose import Composer, Mail
from domain.settings import Settings, SmtpTls


class DeliveryError(Exception):
    """The mail was not accepted. `permanent` when retrying cannot help (5xx refusals)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(slots=True)
class _Connection:
    client: aiosmtplib.SMTP


class Mailer:
    """Sends composed mails. Connections are opened lazily, reused, and reopened after a
    disconnect; a connection serializes its sends, so `connections` sets the parallelism."""

    def __init__(self, settings: Settings, *, connections: int | None = None) -> None:
        self.settings = settings
        self.composer = Composer(settings)
        count = connections or settings.smtp_connections
        self._connections = [_Connection(self._client()) for _ in range(count)]
        self._pool: asyncio.Queue[_Connection] = asyncio.Queue()
        for connection in self._connections:
            self._pool.put_nowait(connection)

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user or None,
            password=s.smtp_password.get_secret_value() or None,
            use_tls=s.smtp_tls is SmtpTls.TLS,
            start_tls=s.smtp_tls is SmtpTls.STARTTLS,
            timeout=s.smtp_timeout_seconds,
        )

    async def send(self, mail: Mail) -> None:
        await self.send_raw(self.composer.compose(mail), mail.to.email)

    async def send_raw(self, message: bytes, recipient: str) -> None:
        connection = await self._pool.get()
        try:
            await self._send_on(connection, message, recipient)
        finally:
            self._pool.put_nowait(connection)

    async def _send_on(self, connection: _Connection, message: bytes, recipient: str) -> None:
        for attempt in (1, 2):
            client = connection.client
            try:
                if not client.is_connected:
                    await client.connect()
                errors, _ = await client.sendmail(
                    self.composer.envelope_sender, [recipient], message
                )
            except aiosmtplib.SMTPServerDisconnected as error:
                # A reused connection may have been closed by the server while idle: reconnect
                # once; a second disconnect is a real failure.
                connection.client = self._client()
                if attempt == 2:
                    raise DeliveryError(f"SMTP server disconnected: {error}") from error
                continue
            except aiosmtplib.SMTPRecipientsRefused as error:
                raise DeliveryError(
                    _refusal(error.recipients), permanent=_permanent(error.recipients)
                ) from error
            except aiosmtplib.SMTPResponseException as error:
                await self._reset(connection)
                raise DeliveryError(
                    f"SMTP {error.code}: {error.message}", permanent=500 <= error.code < 600
                ) from error
            except (aiosmtplib.SMTPException, OSError) as error:
                connection.client = self._client()
                raise DeliveryError(f"SMTP error: {error}") from error
            if errors:
                # Partial refusals do not raise in aiosmtplib: one recipient, so it is a failure.
                refusals = [
                    aiosmtplib.SMTPRecipientRefused(r.code, r.message, addr)
                    for addr, r in errors.items()
                ]
                raise DeliveryError(_refusal(refusals), permanent=_permanent(refusals))
            return

    async def _reset(self, connection: _Connection) -> None:
        try:
            await connection.client.rset()
        except aiosmtplib.SMTPException:
            connection.client = self._client()

    async def close(self) -> None:
        for connection in self._connections:
            if connection.client.is_connected:
                try:
                    await connection.client.quit()
                except aiosmtplib.SMTPException:
                    connection.client.close()


def _refusal(refusals: list[aiosmtplib.SMTPRecipientRefused]) -> str:
    return "; ".join(f"recipient refused ({r.code}): {r.message}" for r in refusals)


def _permanent(refusals: list[aiosmtplib.SMTPRecipientRefused]) -> bool:
    return all(500 <= r.code < 600 for r in refusals)
