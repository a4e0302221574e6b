"""A signed-in person's own account: names, language and registration field values, the
password, and the address (confirmed at the new address before it changes).

Smart-group membership follows the values: a person who updates a field joins the smart groups
whose rules now hold, and leaves those whose rules no longer do (the product's "update their
info manually to meet project access conditions").
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain import outbox
from domain.clock import clock
from domain.crypto import Keyring, keyring
from domain.errors import DomainError, ErrorCode, Problem
from domain.groups import service as groups_service
from domain.models import EmailConfirmation, FieldType, Session, User, WebhookEventType
from domain.registration_fields.service import check_values
from domain.settings import get_settings
from domain.users import passwords, registrations
from domain.users.sessions import NewSession, open_session
from domain.validation import clean_locale, clean_name, require_mailable_email
from domain.webhooks import events as webhook_events

CODE_MAX_ATTEMPTS = 5


def _ring() -> Keyring:
    return keyring("email-change")


async def update_profile(
    user: User,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    locale: str | None = None,
    field_values: Mapping[str, Any] | None = None,
) -> User:
    """Change what is given (None leaves a part as it is). A blank value clears an optional
    registration field; a required one cannot be cleared. All or nothing."""
    problems: list[Problem] = []
    changes: dict[str, Any] = {}
    for name, value, field in (
        ("first_name", first_name, "firstName"),
        ("last_name", last_name, "lastName"),
    ):
        if value is None:
            continue
        try:
            cleaned = clean_name(value, field)
        except DomainError as error:
            problems.extend(error.problems)
            continue
        if not cleaned:
            problems.append(Problem(ErrorCode.INVALID_NAME, "Fill this in.", field))
        changes[name] = cleaned
    if locale is not None:
        try:
            changes["locale"] = clean_locale(locale)
        except DomainError as error:
            problems.extend(error.problems)
    if field_values is not None:
        fields = await groups_service.registration_fields_by_key()
        given, value_problems = check_values(field_values, fields)
        problems.extend(value_problems)
        cleared = {key for key in field_values if key in fields and key not in given}
        unchecked = {
            key
            for key, value in given.items()
            if fields[key].type is FieldType.CHECKBOX and value is not True
        }
        for key in sorted(cleared | unchecked):
            if fields[key].required:
                problems.append(
                    Problem(
                        ErrorCode.REQUIRED_FIELD_MISSING,
                        f"{fields[key].title} is required.",
                        f"registrationFieldValues.{key}",
                    )
                )
        changes["registration_field_values"] = {
            **{k: v for k, v in user.registration_field_values.items() if k not in cleared},
            **given,
        }
    if problems:
        raise DomainError(*problems)
    if changes:
        for name, value in changes.items():
            setattr(user, name, value)
        await user.save(update_fields=list(changes))
    return user


async def change_password(
    user: User, *, current_password: str, new_password: str, session_token: str | None
) -> None:
    """A new password, given the current one; every other session of the account ends (the
    one asking stays signed in)."""
    if not await passwords.verify_password(user.password_hash, current_password):
        raise DomainError.single(
            ErrorCode.INVALID_CREDENTIALS, "This is not your current password.", "currentPassword"
        )
    new_password = passwords.check_strength(
        new_password,
        field="newPassword",
        hints=[user.email, user.first_name, user.last_name],
    )
    password_hash = await passwords.hash_password(new_password)
    keep = keyring("session").lookup_digests(session_token) if session_token else []
    async with in_transaction():
        user.password_hash = password_hash
        await user.save(update_fields=["password_hash"])
        await Session.filter(user_id=user.id).exclude(token_digest__in=keep).delete()


async def request_email_change(user: User, *, new_email: str, password: str) -> None:
    """Mail a code to the new address; the address changes when it comes back. The same
    answer whatever the new address is (whether it has an account shows only to whoever
    reads its mail, when the change is confirmed)."""
    if not await passwords.verify_password(user.password_hash, password):
        raise DomainError.single(
            ErrorCode.INVALID_CREDENTIALS, "This is not your current password.", "password"
        )
    normalized = require_mailable_email(new_email, field="email")
    if normalized == user.email:
        raise DomainError.single(ErrorCode.INVALID_INPUT, "This is already your address.", "email")
    now = await clock.now()
    code = registrations.new_code()
    ring = _ring()
    async with in_transaction():
        await EmailConfirmation.filter(user_id=user.id, used_at=None).update(used_at=now)
        change = await EmailConfirmation.create(
            user=user,
            new_email=normalized,
            code_digest=ring.digest(f"{user.id}:{normalized}:{code}"),
            code_encrypted=ring.encrypt(code),
            expires_at=now + timedelta(minutes=get_settings().confirmation_code_ttl_minutes),
        )
    outbox.enqueue("send_email_change_code", change.id, job_id=f"email-change:{change.id}")


async def confirm_email_change(user: User, *, code: str) -> NewSession:
    """Prove the new mailbox: the address changes, every earlier session ends (this one
    included), and the answer is a new session."""
    invalid = DomainError.single(
        ErrorCode.INVALID_CODE, "This code is not valid. Check it, or ask for a new one.", "code"
    )
    code = registrations.clean_code(code)
    now = await clock.now()
    change = (
        await EmailConfirmation.filter(user_id=user.id, used_at=None, expires_at__gt=now)
        .exclude(new_email="")
        .order_by("-id")
        .first()
    )
    if change is None or change.failed_attempts >= CODE_MAX_ATTEMPTS:
        raise invalid
    if not any(
        hmac.compare_digest(change.code_digest, digest)
        for digest in _ring().lookup_digests(f"{user.id}:{change.new_email}:{code}")
    ):
        await EmailConfirmation.filter(id=change.id).update(
            failed_attempts=change.failed_attempts + 1
        )
        raise invalid
    if await User.filter(email=change.new_email).exclude(id=user.id).exists():
        # Whoever reads this address's mail may know it has an account: they own it.
        raise DomainError.single(
            ErrorCode.EMAIL_TAKEN,
            f"{change.new_email} already has an account: sign in with it instead.",
            "email",
        )
    try:
        async with in_transaction():
            won = await EmailConfirmation.filter(id=change.id, used_at=None).update(
                used_at=now, old_email=user.email
            )
            if won != 1:
                raise invalid.not_counted()
            user.email = change.new_email
            user.email_confirmed_at = now
            await user.save(update_fields=["email", "email_confirmed_at"])
            await Session.filter(user_id=user.id).delete()
            # The new address is proven: registrations waiting on it are dropped.
            await registrations.drop_address(change.new_email)
            await webhook_events.record(
                WebhookEventType.USER_EMAIL_CONFIRMED, None, user_id=user.id
            )
    except IntegrityError:
        # Taken by another account a moment ago (the unique index): nothing was changed.
        raise DomainError.single(
            ErrorCode.EMAIL_TAKEN,
            f"{change.new_email} already has an account: sign in with it instead.",
            "email",
        ) from None
    # The old address hears of it: if it was not its owner, they can act.
    outbox.enqueue("send_email_changed_notice", change.id, job_id=f"email-changed:{change.id}")
    return await open_session(user)
