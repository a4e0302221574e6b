"""Accounts: sign up, sign in and out, admins made from the command line.

An account exists only once its address is proven (domain.users.registrations): a sign-up is a
claim on the address until the code mailed to it comes back.
"""

from __future__ import annotations

from collections.abc import Callable

from tortoise.transactions import in_transaction

from domain.clock import clock
from domain.errors import DomainError, ErrorCode, Problem
from domain.models import Role, RoleKind, User, WebhookEventType
from domain.users import passwords, registrations
from domain.users.registrations import PendingRegistration
from domain.users.sessions import (
    NewSession,
    end_sessions,
    open_session,
    sign_out,
    user_for_session_token,
)
from domain.validation import clean_locale, clean_name, require_email, require_mailable_email
from domain.webhooks import events as webhook_events

__all__ = [
    "NewSession",
    "PendingRegistration",
    "authenticate",
    "create_admin",
    "end_sessions",
    "find_user_by_email",
    "open_session",
    "sign_in",
    "sign_out",
    "sign_up",
    "user_for_session_token",
]


async def find_user_by_email(email: str) -> User | None:
    """The account of a (normalized) address. Every account's address is proven."""
    return await User.get_or_none(email=email, email_confirmed_at__isnull=False)


async def sign_up(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    locale: str | None = None,
) -> PendingRegistration:
    """A claim on the address, its code on its way. The same answer and the same work whether
    or not the address has an account: the mail tells its owner which (a code to confirm, or a
    code to sign in to the account they have)."""
    problems: list[Problem] = []

    def checked(check: Callable[[], str], fallback: str) -> str:
        # Every input is checked, and every problem told at once (as acceptInvitation does).
        try:
            return check()
        except DomainError as error:
            problems.extend(error.problems)
            return fallback

    email = checked(lambda: require_mailable_email(email), "")
    first_name = checked(lambda: clean_name(first_name, "firstName"), "")
    last_name = checked(lambda: clean_name(last_name, "lastName"), "")
    locale = checked(lambda: clean_locale(locale), "")
    password = checked(
        lambda: passwords.check_strength(password, hints=[email, first_name, last_name]), ""
    )
    if problems:
        raise DomainError(*problems)
    return await registrations.start(
        email=email,
        password_hash=await passwords.hash_password(password),
        first_name=first_name,
        last_name=last_name,
        locale=locale,
    )


async def sign_in(*, email: str, password: str) -> NewSession:
    """A session for the right email and password."""
    return await open_session(await authenticate(email=email, password=password))


async def authenticate(*, email: str, password: str) -> User:
    """The user with this email and password. Wrong password and unknown email get the same
    answer, in the same time (one password check either way). Opens no session: the admin
    console opens one for admins only.

    An address with only a claim answers EMAIL_NOT_CONFIRMED when the claim's password is
    given (the one who made it learns what is left to do; nobody else learns anything)."""
    invalid = DomainError.single(
        ErrorCode.INVALID_CREDENTIALS, "The email or the password is not right."
    )
    normalized = require_email(email)
    user = await find_user_by_email(normalized)
    if user is not None:
        if not await passwords.verify_password(user.password_hash, password):
            raise invalid
        return user
    claims = await registrations.live_claims(normalized)
    if not await passwords.verify_password(claims[0].password_hash if claims else None, password):
        raise invalid
    raise DomainError.single(
        ErrorCode.EMAIL_NOT_CONFIRMED,
        "Confirm your email address first: use the code we mailed you, or ask for a new one.",
        "email",
    )


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
        await registrations.drop_address(email)
        await webhook_events.record(WebhookEventType.USER_REGISTERED, None, user_id=user.id)
    return user
