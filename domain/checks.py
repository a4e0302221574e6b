"""`invitations check`: is this deployment able to work? Each part says OK or what is wrong."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

from redis.asyncio import Redis

from domain import db
from domain.mail.mailer import relay_of
from domain.mail.setup import dkim_public_value
from domain.mail.smtp import SmtpConnection, SmtpFailure
from domain.settings import Settings

TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str  # what was found, or what is wrong and where to look
    skipped: bool = False


async def run_checks(settings: Settings) -> list[Check]:
    """Settings were read already (the caller reports their errors). The database, its
    migrations, Redis, the SMTP relay and the DKIM record, each within TIMEOUT seconds."""
    results = [Check("settings", True, f"environment {settings.env.value}")]
    results.extend(await _database(settings))
    results.append(await _redis(settings))
    results.append(await _smtp(settings))
    results.append(await check_dkim(settings))
    return results


def database_location(settings: Settings) -> str:
    """Where the database is (host:port/name, or the SQLite file), without the password."""
    return settings.resolved_database_url.split("@")[-1].split("://")[-1]


def redis_location(settings: Settings) -> str:
    """Where Redis is (host:port/db), without the password."""
    return settings.redis_url.split("@")[-1].split("://")[-1]


def failure_reason(error: BaseException) -> str:
    """Why a connection failed, in a few words (never the URL: it may hold a password)."""
    text = str(error).lower()
    if isinstance(error, ConnectionRefusedError) or any(
        sign in text for sign in ("refused", "connect call failed", "error 111 ")
    ):
        return "connection refused"
    if isinstance(error, TimeoutError) or "timeout" in type(error).__name__.lower():
        return f"no answer within {TIMEOUT:g} s"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    return f"{type(error).__name__}: {error}"


def is_unanswered(reason: str) -> bool:
    """Whether a failure_reason() says nothing answered (rather than an answer refusing)."""
    return reason in ("connection refused", "unknown host") or reason.startswith("no answer")


async def _database(settings: Settings) -> list[Check]:
    where = database_location(settings)
    try:
        async with asyncio.timeout(TIMEOUT):
            await db.init(settings)
            try:
                await db.database_now()
                pending = await db.pending_migrations()
            finally:
                await db.close()
    except Exception as error:
        return [
            Check("database", False, f"{where}: {type(error).__name__}: {error}"),
            Check("migrations", False, "not checked: no database", skipped=True),
        ]
    migrations = (
        Check("migrations", True, f"all {len(db.migration_names())} applied")
        if not pending
        else Check(
            "migrations",
            False,
            f"{len(pending)} not applied ({', '.join(pending)}): run `invitations migrate`",
        )
    )
    return [Check("database", True, where), migrations]


async def _redis(settings: Settings) -> Check:
    where = redis_location(settings)
    client = Redis.from_url(settings.redis_url, socket_timeout=TIMEOUT)
    try:
        async with asyncio.timeout(TIMEOUT):
            await client.ping()
    except Exception as error:
        return Check("redis", False, f"{where}: {type(error).__name__}: {error}")
    finally:
        await client.aclose()
    return Check("redis", True, where)


async def _smtp(settings: Settings) -> Check:
    relay = relay_of(settings)
    where = f"{relay.host}:{relay.port} ({settings.smtp_tls.value})"
    connection = SmtpConnection(relay)
    try:
        async with asyncio.timeout(TIMEOUT):
            await connection.open()
            await connection.quit()
    except SmtpFailure as failure:
        connection.close()
        return Check("smtp", False, f"{where}: {failure.reason}")
    except Exception as error:
        connection.close()
        return Check("smtp", False, f"{where}: {type(error).__name__}: {error}")
    login = f", signed in as {settings.smtp_user}" if settings.smtp_user else ""
    return Check("smtp", True, f"{where}{login}")


async def check_dkim(settings: Settings) -> Check:
    """Whether the DKIM record in DNS publishes the key mails are signed with."""
    if not settings.dkim_selector:
        return Check("dkim", True, "not signing (INVITES_DKIM_SELECTOR is empty)", skipped=True)
    domain = settings.dkim_domain or settings.mail_domain
    name = f"{settings.dkim_selector}._domainkey.{domain}"
    try:
        expected = dkim_public_value(settings)
    except Exception as error:
        return Check("dkim", False, f"the private key cannot be read: {type(error).__name__}")
    try:
        published = await txt_records(name)
    except Exception as error:
        return Check("dkim", False, f"{name}: no TXT record ({type(error).__name__})")
    if expected is None or not any(_key_of(record) == _key_of(expected) for record in published):
        return Check(
            "dkim",
            False,
            f"{name} does not publish this key: publish the record of `invitations mail-setup`",
        )
    return Check("dkim", True, f"{name} publishes the signing key")


async def txt_records(name: str) -> list[str]:
    import dns.asyncresolver

    answer = await dns.asyncresolver.resolve(name, "TXT", lifetime=TIMEOUT)
    return [b"".join(record.strings).decode("ascii", "replace") for record in answer]


def _key_of(record: str) -> str:
    """The p= value of a DKIM record, whitespace removed."""
    for part in record.split(";"):
        name, _, value = part.strip().partition("=")
        if name.strip() == "p":
            return "".join(value.split())
    return ""
