"""Forgotten passwords: a single-use link mailed to the address, and the new password.

The owner of the mailbox always wins: a reset from the mailbox also takes over an address that
only has claims (unconfirmed sign-ups or letter codes used with it): the account is created
there with the new password, and the claims are dropped, never merged.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from domain import outbox
from domain.clock import clock
from domain.crypto import Keyring, keyring
from domain.errors import DomainError, ErrorCode
from domain.models import PasswordReset, Registration, User, WebhookEventType
from domain.settings import get_settings
from domain.users import passwords, registrations
from domain.users.sessions import NewSession, end_sessions, open_session
from domain.validation import require_email
from domain.webhooks import events as webhook_events

TOKEN_BYTES = 32


def _ring() -> Keyring:
    return keyring("password-reset")


def invalid_link() -> DomainError:
    return DomainError.single(
        ErrorCode.INVALID_RESET_TOKEN,
        "This link to choose a new password has expired or was used already. Ask for a new one.",
        "token",
    )


async def request_reset(email: str) -> None:
    """Mail a reset link to the address if it has an account or a claim.

    The same answer and the same work for every address: two lookups, one row written, one
    job; for an address with neither the row names nobody and the job mails nothing."""
    normalized = require_email(email)
    now = await clock.now()
    user_ids = await User.filter(email=normalized, email_confirmed_at__isnull=False).values_list(
        "id", flat=True
    )
    claimed = await Registration.filter(email=normalized, expires_at__gt=now).exists()
    user_id = int(user_ids[0]) if user_ids else None  # type: ignore[call-overload]
    token = secrets.token_urlsafe(TOKEN_BYTES)
    ring = _ring()
    reset = await PasswordReset.create(
        user_id=user_id,
        email=normalized if user_id is None and claimed else "",
        token_digest=ring.digest(token),
        token_encrypted=ring.encrypt(token),
        expires_at=now + timedelta(minutes=get_settings().password_reset_ttl_minutes),
    )
    outbox.enqueue("send_password_reset", reset.id, job_id=f"password-reset:{reset.id}")


async def _usable(token: str, now: datetime) -> PasswordReset:
    """The link's reset, unused and in time, or INVALID_RESET_TOKEN."""
    if not token or len(token) > 256:
        raise invalid_link()
    digests = _ring().lookup_digests(token)
    reset = await PasswordReset.filter(
        token_digest__in=digests, used_at=None, expires_at__gt=now
    ).first()
    if reset is None or not any(hmac.compare_digest(reset.token_digest, d) for d in digests):
        raise invalid_link()
    return reset


async def check_link(token: str) -> None:
    """Whether a mailed link still works, without using it (INVALID_RESET_TOKEN if not): the
    page says so before a new password is typed for nothing."""
    await _usable(token, await clock.now())


async def reset_password(*, token: str, password: str) -> NewSession:
    """Set a new password with a mailed link: every earlier session ends, every other link of
    the address stops working, and the one who reset is signed in."""
    now = await clock.now()
    reset = await _usable(token, now)
    user = await User.get_or_none(id=reset.user_id) if reset.user_id else None  # type: ignore[attr-defined]
    email = user.email if user is not None else reset.email
    if not email:
        raise invalid_link()
    hints = [email, user.first_name, user.last_name] if user is not None else [email]
    password_hash = await passwords.hash_password(passwords.check_strength(password, hints=hints))
    async with in_transaction():
        # The single winner: a link works once.
        if await PasswordReset.filter(id=reset.id, used_at=None).update(used_at=now) != 1:
            raise invalid_link().not_counted()
        if user is None:
            user = await _take_over(email, password_hash, now)
        else:
            user.password_hash = password_hash
            await user.save(update_fields=["password_hash"])
            await end_sessions(user.id)
        await PasswordReset.filter(Q(user_id=user.id) | Q(email=email), used_at=None).update(
            used_at=now
        )
        await registrations.drop_address(email)
    return await open_session(user)


async def _take_over(email: str, password_hash: str, now: datetime) -> User:
    """The address had only claims: the account is made here, from nothing of theirs but
    the language (names and values are the claims', and someone else may have typed them)."""
    existing = await User.get_or_none(email=email)
    if existing is not None:  # an invitation to the address was accepted since the link left
        existing.password_hash = password_hash
        await existing.save(update_fields=["password_hash"])
        await end_sessions(existing.id)
        return existing
    claims = await registrations.live_claims(email)
    locale = claims[0].locale if claims else get_settings().default_locale
    user = await User.create(
        email=email, locale=locale, password_hash=password_hash, email_confirmed_at=now
    )
    await webhook_events.record(WebhookEventType.USER_REGISTERED, None, user_id=user.id)
    await webhook_events.record(WebhookEventType.USER_EMAIL_CONFIRMED, None, user_id=user.id)
    return user


async def drop_expired() -> int:
    """Links past their time (and used ones) are deleted after a day."""
    return await PasswordReset.filter(
        Q(expires_at__lte=await clock.now() - timedelta(days=1))
    ).delete()
