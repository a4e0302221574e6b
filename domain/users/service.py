"""Accounts: sign up, confirm the email, sign in and out, sessions."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain import outbox
from domain.clock import clock
from domain.crypto import keyring
from domain.errors import DomainError, ErrorCode
from domain.models import EmailConfirmation, Role, RoleKind, Session, User
from domain.settings import get_settings
from domain.users import passwords
from domain.validation import clean_locale, clean_name, require_email

CONFIRMATION_MAX_ATTEMPTS = 5
SESSION_TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just opened: the token is shown to the client once and never stored."""

    token: str
    expires_at: datetime
    user: User


async def find_user_by_email(email: str) -> User | None:
    return await User.get_or_none(email=email)


async def sign_up(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    locale: str | None = None,
) -> None:
    """Create an unconfirmed account and mail it a confirmation code.

    The answer is the same whether or not the address already has an account (no account
    enumeration); an existing account gets a mail saying so instead of a code.
    """
    email = require_email(email)
    first_name = clean_name(first_name, "firstName")
    last_name = clean_name(last_name, "lastName")
    locale = clean_locale(locale)
    password = passwords.check_strength(password, hints=[email, first_name, last_name])
    password_hash = await passwords.hash_password(password)

    existing = await find_user_by_email(email)
    if existing is not None:
        outbox.enqueue(
            "send_account_exists_notice",
            existing.id,
            job_id=f"account-exists:{existing.id}:{int(clock.local_now().timestamp()) // 600}",
        )
        return
    try:
        async with in_transaction():
            user = await User.create(
                email=email,
                first_name=first_name,
                last_name=last_name,
                locale=locale,
                password_hash=password_hash,
            )
            await start_email_confirmation(user)
    except IntegrityError:
        # Lost a race with a concurrent sign-up of the same address: same answer as above.
        return


async def start_email_confirmation(user: User) -> None:
    settings = get_settings()
    code = f"{secrets.randbelow(1_000_000):06d}"
    ring = keyring("email-confirmation")
    now = await clock.now()
    await EmailConfirmation.filter(user_id=user.id, used_at=None).update(used_at=now)
    confirmation = await EmailConfirmation.create(
        user=user,
        code_digest=ring.digest(f"{user.id}:{code}"),
        code_encrypted=ring.encrypt(code),
        expires_at=now + timedelta(minutes=settings.confirmation_code_ttl_minutes),
    )
    outbox.enqueue(
        "send_email_confirmation",
        confirmation.id,
        job_id=f"confirm:{confirmation.id}",
    )


async def request_email_confirmation(email: str) -> None:
    """Mail a fresh code to an unconfirmed account. Silent for unknown or confirmed addresses."""
    normalized = require_email(email)
    user = await find_user_by_email(normalized)
    if user is None or user.email_confirmed_at is not None:
        return
    async with in_transaction():
        await start_email_confirmation(user)


async def confirm_email(*, email: str, code: str) -> User:
    """Mark the address confirmed when the code matches the latest one mailed to it."""
    invalid = DomainError.single(
        ErrorCode.INVALID_CODE,
        "This code is not valid. Check it, or ask for a new one.",
        "code",
    )
    normalized = require_email(email)
    user = await find_user_by_email(normalized)
    if user is None:
        raise invalid
    code = "".join(code.split())
    now = await clock.now()
    async with in_transaction():
        confirmation = (
            await EmailConfirmation.filter(user_id=user.id, used_at=None, expires_at__gt=now)
            .order_by("-id")
            .select_for_update()
            .first()
        )
        if confirmation is None or confirmation.failed_attempts >= CONFIRMATION_MAX_ATTEMPTS:
            raise invalid
        ring = keyring("email-confirmation")
        if not any(
            hmac.compare_digest(confirmation.code_digest, digest)
            for digest in ring.lookup_digests(f"{user.id}:{code}")
        ):
            await EmailConfirmation.filter(id=confirmation.id).update(
                failed_attempts=confirmation.failed_attempts + 1
            )
            # The failed attempt must be counted even though we refuse: commit, then raise.
            failed = True
        else:
            failed = False
            await EmailConfirmation.filter(id=confirmation.id).update(used_at=now)
            if user.email_confirmed_at is None:
                user.email_confirmed_at = now
                await user.save(update_fields=["email_confirmed_at"])
    if failed:
        raise invalid
    return user


async def sign_in(*, email: str, password: str) -> NewSession:
    """A session for the right email and password."""
    return await open_session(await authenticate(email=email, password=password))


async def authenticate(*, email: str, password: str) -> User:
    """The user with this email and password. Wrong password and unknown email get the same
    answer, in the same time. Opens no session: the admin console opens one for admins only."""
    invalid = DomainError.single(
        ErrorCode.INVALID_CREDENTIALS, "The email or the password is not right."
    )
    normalized = require_email(email)
    user = await find_user_by_email(normalized)
    ok = await passwords.verify_password(user.password_hash if user else None, password)
    if not ok or user is None:
        raise invalid
    if user.email_confirmed_at is None:
        raise DomainError.single(
            ErrorCode.EMAIL_NOT_CONFIRMED,
            "Confirm your email address first: use the code we mailed you, or ask for a new one.",
            "email",
        )
    return user


async def open_session(user: User) -> NewSession:
    settings = get_settings()
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    expires_at = await clock.now() + timedelta(days=settings.session_ttl_days)
    await Session.create(
        user=user, token_digest=keyring("session").digest(token), expires_at=expires_at
    )
    return NewSession(token=token, expires_at=expires_at, user=user)


async def user_for_session_token(token: str) -> User | None:
    """The user a bearer token belongs to, if the session is live."""
    if not token or len(token) > 256:
        return None
    digests = keyring("session").lookup_digests(token)
    session = (
        await Session.filter(token_digest__in=digests, expires_at__gt=await clock.now())
        .select_related("user")
        .first()
    )
    return session.user if session else None


async def sign_out(token: str) -> None:
    await Session.filter(token_digest__in=keyring("session").lookup_digests(token)).delete()


async def create_admin(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    locale: str | None = None,
) -> User:
    """An admin with a confirmed email (CLI and first run). Refuses an address already in use."""
    email = require_email(email)
    password = passwords.check_strength(password, hints=[email, first_name, last_name])
    password_hash = await passwords.hash_password(password)
    async with in_transaction():
        if await find_user_by_email(email) is not None:
            raise DomainError.single(
                ErrorCode.EMAIL_TAKEN, f"{email} already has an account.", "email"
            )
        now = await clock.now()
        user = await User.create(
            email=email,
            first_name=clean_name(first_name, "firstName"),
            last_name=clean_name(last_name, "lastName"),
            locale=clean_locale(locale),
            password_hash=password_hash,
            email_confirmed_at=now,
        )
        await Role.create(user=user, kind=RoleKind.ADMIN)
    return user
