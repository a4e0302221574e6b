"""Registrations waiting for their address: made by a sign-up or a letter's code, confirmed
from the mailbox, corrected, dropped.

An account belongs to whoever proves the mailbox (docs/security.md, "Accounts"). A sign-up, or
a letter's code used with an address, proves nothing: it is a claim (`Registration`) with no
roles, groups or sessions, and its address is nobody's "existing user". Confirming a claim
needs the code mailed to the address and one of: the claim's own token (the browser or app
that made it), the password chosen with it, or the password of the account the address already
has. The first claim confirmed creates the account, or signs in to the one there is, and every
other claim on the address is dropped: never merged. A letter's code is held by one claim at a
time, and the letter stays pending until that claim is confirmed: then it is accepted, once.

The code that confirmed an address is remembered (a keyed digest, until it would have expired):
its mail's link, opened again in another browser, says the address is already confirmed rather
than that the code is wrong. Only the code says so, and it takes as many wrong guesses as a
claim's code: to anyone without it, an address confirmed a moment ago looks like any other.

A letter's claim cancelled because the letter's code was typed again is remembered the same
way (its token's keyed digest, until the claim would have expired): the one confirming with its
token is told that the letter's code was used again, not that their code is wrong. Only the
token says so: to anyone else it is any wrong code.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from domain import outbox
from domain.clock import clock
from domain.crypto import Keyring, keyring
from domain.errors import DomainError, ErrorCode, Reason
from domain.invitations.grants import apply_grants
from domain.models import (
    Invitation,
    InvitationStatus,
    Registration,
    ReplacedRegistration,
    UsedRegistrationCode,
    User,
    WebhookEventType,
)
from domain.settings import get_settings
from domain.users import passwords
from domain.users.sessions import NewSession, open_session
from domain.validation import require_email, require_mailable_email
from domain.webhooks import events as webhook_events

CODE_MAX_ATTEMPTS = 5
# A code proving a mailbox: eight digits, 10^8 possible (codes of six digits mailed before
# still work until they expire: a code is checked by its digest, whatever its length).
CODE_DIGITS = 8
# Claims kept per address: more (someone signing up again and again) push the oldest out.
MAX_CLAIMS_PER_ADDRESS = 5
TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class PendingRegistration:
    """A claim just made (or moved to another address): its token is shown to its maker once,
    and authenticates only the confirmation step."""

    token: str
    email: str
    expires_at: datetime


def _ring() -> Keyring:
    return keyring("registration")


def _matches(digest: str, value: str) -> bool:
    return any(hmac.compare_digest(digest, d) for d in _ring().lookup_digests(value))


def new_code() -> str:
    """A code that proves a mailbox: CODE_DIGITS random digits."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def clean_code(code: str) -> str:
    """A typed code as it was mailed: the spaces and dashes of its grouping ("1234 5678")
    do not count."""
    return "".join(code.split()).replace("-", "")


def shown_code(code: str) -> str:
    """A code as a mail shows it: eight digits in two groups of four, easier to read and type
    (the space is ignored when typed)."""
    return f"{code[:4]} {code[4:]}" if len(code) == CODE_DIGITS else code


def _new_code(token_digest: str, now: datetime) -> dict[str, Any]:
    """A fresh code for a claim: its digest (bound to the claim), an encrypted copy for the
    mail job, its expiry; earlier codes of the claim stop working."""
    code = new_code()
    ring = _ring()
    return {
        "code_digest": ring.digest(f"{token_digest}:{code}"),
        "code_encrypted": ring.encrypt(code),
        "code_expires_at": now + timedelta(minutes=get_settings().confirmation_code_ttl_minutes),
        "failed_attempts": 0,
    }


def _mail_code(registration_id: int, send_no: int) -> None:
    outbox.enqueue(
        "send_registration_code",
        registration_id,
        send_no,
        job_id=f"registration-code:{registration_id}:{send_no}",
    )


async def start(
    *,
    email: str,
    password_hash: str,
    first_name: str = "",
    last_name: str = "",
    locale: str,
    field_values: dict[str, Any] | None = None,
    invitation_id: int | None = None,
) -> PendingRegistration:
    """A new claim on `email` (normalized); its code is mailed once the caller commits."""
    now = await clock.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    token_digest = _ring().digest(token)
    async with in_transaction():
        registration = await Registration.create(
            email=email,
            password_hash=password_hash,
            first_name=first_name,
            last_name=last_name,
            locale=locale,
            registration_field_values=field_values or {},
            invitation_id=invitation_id,
            token_digest=token_digest,
            expires_at=now + timedelta(days=get_settings().registration_ttl_days),
            **_new_code(token_digest, now),
        )
        older = (
            await Registration.filter(email=email)
            .order_by("-id")
            .offset(MAX_CLAIMS_PER_ADDRESS)
            .values_list("id", flat=True)
        )
        await drop(older)  # type: ignore[arg-type]
    _mail_code(registration.id, registration.code_send_no)
    return PendingRegistration(token=token, email=email, expires_at=registration.expires_at)


async def drop(registration_ids: Iterable[int]) -> None:
    """Delete claims. A letter a claim held stays pending (one marked accepted when its code was
    typed, before letters waited for the confirmation, is pending again)."""
    ids = list(registration_ids)
    if not ids:
        return
    letters = await Registration.filter(id__in=ids, invitation_id__isnull=False).values_list(
        "invitation_id", flat=True
    )
    await Registration.filter(id__in=ids).delete()
    if letters:
        await Invitation.filter(
            id__in=list(letters),
            status=InvitationStatus.ACCEPTED,
            accepted_user_id__isnull=True,
        ).update(status=InvitationStatus.PENDING, accepted_at=None)


async def drop_replaced(registration_ids: Iterable[int]) -> None:
    """Drop a letter's claims because its code was typed again (one claim per letter at a
    time): their tokens' digests are kept until the claims would have expired, so that their
    makers are told why their codes no longer work (confirm)."""
    ids = list(registration_ids)
    if not ids:
        return
    now = await clock.now()
    dropped = await Registration.filter(id__in=ids, expires_at__gt=now).values_list(
        "token_digest", "expires_at"
    )
    if dropped:
        await ReplacedRegistration.bulk_create(
            [
                ReplacedRegistration(token_digest=digest, expires_at=until)
                for digest, until in dropped
            ]
        )
    await drop(ids)


async def _replaced(token: str | None, now: datetime) -> bool:
    """Was the claim this token was given for cancelled by its letter's code typed again?"""
    if not token or len(token) > 256:
        return False
    return await ReplacedRegistration.filter(
        token_digest__in=_ring().lookup_digests(token), expires_at__gt=now
    ).exists()


async def drop_address(email: str) -> None:
    """The address is proven: every claim on it is dropped."""
    await drop(await Registration.filter(email=email).values_list("id", flat=True))  # type: ignore[arg-type]


async def by_token(token: str | None) -> Registration | None:
    """The live claim a bearer token was given for."""
    if not token or len(token) > 256:
        return None
    return await Registration.filter(
        token_digest__in=_ring().lookup_digests(token), expires_at__gt=await clock.now()
    ).first()


async def live_claims(email: str) -> list[Registration]:
    """The address's live claims, newest first."""
    return (
        await Registration.filter(email=email, expires_at__gt=await clock.now())
        .order_by("-id")
        .limit(MAX_CLAIMS_PER_ADDRESS)
    )


def _invalid_code() -> DomainError:
    return DomainError.single(
        ErrorCode.INVALID_CODE, "This code is not valid. Check it, or ask for a new one.", "code"
    )


async def confirm(
    *, email: str, code: str, token: str | None = None, password: str | None = None
) -> NewSession:
    """Prove the mailbox with its code and finish the claim: the account is created (or, if the
    address has one, signed in to), a letter's grants apply, and the claim's maker is signed in.
    """
    normalized = require_email(email)
    code = clean_code(code)
    now = await clock.now()
    claims = await live_claims(normalized)
    match = next(
        (
            claim
            for claim in claims
            if claim.failed_attempts < CODE_MAX_ATTEMPTS
            and claim.code_expires_at > now
            and _matches(claim.code_digest, f"{claim.token_digest}:{code}")
        ),
        None,
    )
    if match is None:
        if await _confirmed_with(normalized, code, now):
            raise DomainError.single(
                ErrorCode.EMAIL_ALREADY_CONFIRMED,
                "This code has already confirmed the address: sign in with it.",
                "code",
            )
        # A code of digits allows only a few guesses: a wrong one costs every claim on the
        # address, and the code that confirmed it.
        if claims:
            await Registration.filter(id__in=[c.id for c in claims]).update(
                failed_attempts=F("failed_attempts") + 1
            )
        await UsedRegistrationCode.filter(email=normalized, expires_at__gt=now).update(
            failed_attempts=F("failed_attempts") + 1
        )
        if await _replaced(token, now):
            # Said only to the claim's maker (its token): no code of it works any more.
            raise DomainError.single(
                ErrorCode.INVALID_CODE,
                "This registration was cancelled: the letter's code was used again since, for"
                " another registration. To register, type the letter's code again.",
                "code",
                reason=Reason.LETTER_CODE_USED_AGAIN,
            )
        raise _invalid_code()
    account = await User.get_or_none(email=normalized, email_confirmed_at__isnull=False)
    if not await _made_by_asker(match, account, token, password):
        if password:
            raise DomainError.single(
                ErrorCode.INVALID_CREDENTIALS,
                "This is not the password chosen when registering with this address.",
                "password",
            )
        raise DomainError.single(
            ErrorCode.PASSWORD_REQUIRED,
            "Type the password you chose when you registered, to finish.",
            "password",
        )
    return await _complete(match, account, now, code)


def _used_code_value(email: str, code: str) -> str:
    return f"confirmed:{email}:{code}"


async def _confirmed_with(email: str, code: str, now: datetime) -> bool:
    """Did this code confirm the address (which is still an account's), while it was valid?"""
    used = await UsedRegistrationCode.filter(
        email=email, expires_at__gt=now, failed_attempts__lt=CODE_MAX_ATTEMPTS
    )
    value = _used_code_value(email, code)
    if not any(_matches(row.code_digest, value) for row in used):
        return False
    return await User.filter(email=email, email_confirmed_at__isnull=False).exists()


async def _made_by_asker(
    claim: Registration, account: User | None, token: str | None, password: str | None
) -> bool:
    """Is the one confirming the one who made the claim (or the account's owner)? The mailbox
    alone does not say: someone may click a link in a mail they did not ask for."""
    if token and _matches(claim.token_digest, token):
        return True
    if not password:
        return False
    if await passwords.verify_password(claim.password_hash, password):
        return True
    return account is not None and await passwords.verify_password(account.password_hash, password)


async def _complete(
    claim: Registration, account: User | None, now: datetime, code: str
) -> NewSession:
    async with in_transaction():
        # The single winner: only one request deletes the claim.
        if await Registration.filter(id=claim.id).delete() != 1:
            raise _invalid_code().not_counted()
        await UsedRegistrationCode.filter(email=claim.email, expires_at__lte=now).delete()
        await UsedRegistrationCode.create(
            email=claim.email,
            code_digest=_ring().digest(_used_code_value(claim.email, code)),
            expires_at=claim.code_expires_at,
        )
        user = account or await _create_account(claim, now)
        if account is not None and claim.registration_field_values:
            missing = {
                key: value
                for key, value in claim.registration_field_values.items()
                if key not in account.registration_field_values
            }
            if missing:
                account.registration_field_values = {**account.registration_field_values, **missing}
                await account.save(update_fields=["registration_field_values"])
        letter_id: int | None = claim.invitation_id  # type: ignore[attr-defined]
        if letter_id is not None:
            await _accept_letter(letter_id, user, now)
        if account is None:
            letter = [letter_id] if letter_id is not None else None
            await webhook_events.record(WebhookEventType.USER_REGISTERED, letter, user_id=user.id)
            await webhook_events.record(
                WebhookEventType.USER_EMAIL_CONFIRMED, None, user_id=user.id
            )
        await drop_address(claim.email)
    return await open_session(user)


async def _create_account(claim: Registration, now: datetime) -> User:
    try:
        async with in_transaction():  # a savepoint: the address may have been taken meanwhile
            return await User.create(
                email=claim.email,
                first_name=claim.first_name,
                last_name=claim.last_name,
                locale=claim.locale,
                password_hash=claim.password_hash,
                email_confirmed_at=now,
                registration_field_values=claim.registration_field_values,
            )
    except IntegrityError:
        # An invitation to the address was accepted a moment ago: that is the account now.
        return await User.get(email=claim.email)


async def _accept_letter(invitation_id: int, user: User, now: datetime) -> None:
    """The letter is accepted now, by the confirmed address, and its grants apply: once, as
    only the claim holding its code gets here. It was pending until now (the claim was made
    while it could be used, so its expiry since does not count); its postal address goes: the
    letter has arrived."""
    won = await Invitation.filter(
        id=invitation_id, status=InvitationStatus.PENDING, accepted_at=None
    ).update(
        status=InvitationStatus.ACCEPTED,
        accepted_at=now,
        accepted_user_id=user.id,
        postal_address="",
    )
    if won == 1:
        await webhook_events.record(
            WebhookEventType.INVITATION_ACCEPTED, [invitation_id], user_id=user.id
        )
    else:
        # A claim made before letters stayed pending until confirmed: its letter was marked
        # accepted (and announced) when the code was typed.
        won = await Invitation.filter(
            id=invitation_id, status=InvitationStatus.ACCEPTED, accepted_user_id__isnull=True
        ).update(accepted_user_id=user.id)
    if won == 1:
        await apply_grants(await Invitation.get(id=invitation_id), user)


async def code_address(*, email: str, token: str | None = None) -> str:
    """The address request_code would mail: the token's claim's, or else the one given."""
    claim = await by_token(token) if token else None
    return claim.email if claim is not None else email


async def request_code(*, email: str | None = None, token: str | None = None) -> None:
    """Mail a new code for a claim: the one the token names, or the newest on the address.

    The same work whatever the address (no claim, an account, nothing at all): one lookup, one
    update, one job; only the job finds out whether there is anything to mail.
    """
    claim = await by_token(token) if token else None
    if claim is None:
        newest = await live_claims(require_email(email or ""))
        claim = newest[0] if newest else None
    now = await clock.now()
    target = claim.id if claim is not None else 0
    send_no = claim.code_send_no + 1 if claim is not None else 1 + secrets.randbelow(2**30)
    code = _new_code(claim.token_digest if claim is not None else "-", now)
    await Registration.filter(id=target).update(**code, code_send_no=send_no)
    _mail_code(target, send_no)


async def correct_address(
    *,
    new_email: str,
    token: str | None = None,
    email: str | None = None,
    password: str | None = None,
) -> PendingRegistration:
    """Move a claim to another address (a mistyped one): a new code goes there, the old one
    stops working. Only the claim's maker may: its token, or the old address and password."""
    claim = await by_token(token) if token else None
    rotate = claim is None
    if claim is None and email and password:
        newest = await live_claims(require_email(email))
        if newest and await passwords.verify_password(newest[0].password_hash, password):
            claim = newest[0]
    if claim is None:
        raise DomainError.single(
            ErrorCode.INVALID_CREDENTIALS,
            "Continue from the confirmation step, or give the address and the password you"
            " registered with.",
            "password" if password else None,
        )
    normalized = require_mailable_email(new_email)
    now = await clock.now()
    if rotate:
        # Authorized by password: a new token for this browser (the old one stops working).
        token = secrets.token_urlsafe(TOKEN_BYTES)
    assert token is not None
    token_digest = _ring().digest(token) if rotate else claim.token_digest
    send_no = claim.code_send_no + 1
    await Registration.filter(id=claim.id).update(
        email=normalized,
        token_digest=token_digest,
        code_send_no=send_no,
        **_new_code(token_digest, now),
    )
    _mail_code(claim.id, send_no)
    return PendingRegistration(token=token, email=normalized, expires_at=claim.expires_at)


async def drop_expired() -> int:
    """Claims past their time go (letters they held can be used again)."""
    now = await clock.now()
    ids = await Registration.filter(expires_at__lte=now).values_list("id", flat=True)
    await drop(ids)  # type: ignore[arg-type]
    await UsedRegistrationCode.filter(expires_at__lte=now).delete()
    await ReplacedRegistration.filter(expires_at__lte=now).delete()
    return len(ids)
