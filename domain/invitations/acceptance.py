"""Using a token: looking at the invitation behind it, and accepting it exactly once.

Unknown, expired, accepted and deleted tokens get one and the same answer. A mistyped code
(wrong check symbol, wrong length) is answered before any lookup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain import db
from domain.batching import Batch
from domain.clock import clock
from domain.crypto import keyring
from domain.errors import DomainError, ErrorCode, Problem
from domain.groups import service as groups_service
from domain.invitations import tokens
from domain.invitations.grants import apply_grants
from domain.models import (
    FieldType,
    Invitation,
    InvitationStatus,
    Registration,
    RegistrationField,
    User,
    WebhookEventType,
)
from domain.registration_fields.service import check_values
from domain.users import passwords, registrations
from domain.users import service as users
from domain.users.registrations import PendingRegistration
from domain.validation import (
    clean_locale,
    clean_name,
    normalize_email,
    require_mailable_email,
)
from domain.webhooks import events as webhook_events

UNUSABLE_MESSAGE = (
    "This invitation cannot be used: it may have expired, been used already or been withdrawn."
    " Ask the administrator who invited you for a new one."
)
# A used token tried again within this long is a repeat of its acceptance, not a guess.
JUST_ACCEPTED = timedelta(minutes=2)
CHECK_MESSAGE = (
    "Check the code: it has 15 characters, like ABCDE-FGHJK-MNPQR, and one seems mistyped."
)


def unusable() -> DomainError:
    return DomainError.single(ErrorCode.INVALID_TOKEN, UNUSABLE_MESSAGE, "token")


def parse_token(raw: str) -> str:
    """The canonical token, or TOKEN_CHECK_FAILED without touching the database."""
    parsed = tokens.parse(raw)
    if isinstance(parsed, tokens.TokenProblem):
        raise DomainError.single(ErrorCode.TOKEN_CHECK_FAILED, CHECK_MESSAGE, "token")
    return parsed


async def _usable(token: str) -> Invitation:
    digests = keyring("invitation-token").lookup_short_digests(token)
    now = await clock.now()
    invitation = await Invitation.filter(
        token_digest__in=digests,
        status=InvitationStatus.PENDING,
        accepted_at=None,
        expires_at__gt=now,
    ).first()
    if invitation is None:
        error = unusable()
        if await Invitation.filter(
            token_digest__in=digests, accepted_at__gt=now - JUST_ACCEPTED
        ).exists():
            # Valid a moment ago, used by a parallel request (a double submit, a family behind
            # one router): no guess, so the token limits do not count it. Same answer.
            error.not_counted()
        raise error
    return invitation


@dataclass(frozen=True, slots=True)
class Preview:
    """What the /invite form needs to show before acceptance."""

    email: str | None
    first_name: str
    last_name: str
    locale: str
    missing_fields: list[RegistrationField]  # required fields the invitation does not preset
    # The invited address has an account already: it accepts by signing in to it (accept()).
    has_account: bool = False
    # A letter whose code was typed with an address not confirmed yet: that address, masked
    # (whoever holds the letter may see which one it was, not read it). Using the code again
    # cancels that registration.
    waiting_address: str | None = None


# The invitations behind usable tokens and every required registration field, in one round
# trip for every token asked at about the same time (what /invite asks first, the service's
# busiest public question): per invitation, one row per required field, or one row with the
# field's columns empty; no row for a token that cannot be used.
_PREVIEWS = """
SELECT i.token_digest, i.email, i.first_name, i.last_name, i.locale,
       i.registration_field_values, f.id AS field_id, f.key AS field_key,
       f.title AS field_title, f.title_multiloc AS field_title_multiloc,
       f.type AS field_type, f.options AS field_options,
       EXISTS (SELECT 1 FROM users u WHERE u.email = i.email AND i.email <> ''
               AND u.email_confirmed_at IS NOT NULL) AS has_account,
       (SELECT r.email FROM registrations r WHERE r.invitation_id = i.id
        AND r.expires_at > {now} ORDER BY r.id DESC LIMIT 1) AS waiting_email
FROM invitations i LEFT JOIN registration_fields f ON f.required
WHERE i.token_digest {digests} AND i.status = 'pending' AND i.accepted_at IS NULL
  AND i.expires_at > {now}
ORDER BY i.id, f.id
"""


async def _preview_of(invitation: Invitation) -> Preview:
    preset = set(invitation.registration_field_values)
    required = await RegistrationField.filter(required=True).order_by("id")
    return Preview(
        email=invitation.email or None,
        first_name=invitation.first_name,
        last_name=invitation.last_name,
        locale=invitation.locale,
        missing_fields=[f for f in required if f.key not in preset],
        has_account=bool(invitation.email)
        and await users.find_user_by_email(invitation.email) is not None,
        waiting_address=await _waiting_address(invitation),
    )


async def _waiting_address(invitation: Invitation) -> str | None:
    waiting = (
        await Registration.filter(invitation_id=invitation.id, expires_at__gt=await clock.now())
        .order_by("-id")
        .first()
    )
    return mask_address(waiting.email) if waiting is not None else None


def mask_address(email: str) -> str:
    """p***@gmial.com: enough for its owner to recognize it (or the slip in its domain),
    not to read it."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _json(value: Any) -> Any:
    """A JSON column read by raw SQL: asyncpg and SQLite both give its text."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _preview_from(rows: list[dict[str, Any]]) -> Preview:
    first = rows[0]
    preset = set(_json(first["registration_field_values"]))
    return Preview(
        email=first["email"] or None,
        first_name=first["first_name"],
        last_name=first["last_name"],
        locale=first["locale"],
        missing_fields=[
            RegistrationField(
                id=row["field_id"],
                key=row["field_key"],
                title=row["field_title"],
                title_multiloc=_json(row["field_title_multiloc"]),
                type=FieldType(row["field_type"]),
                options=_json(row["field_options"]),
                required=True,
            )
            for row in rows
            if row["field_id"] is not None and row["field_key"] not in preset
        ],
        has_account=bool(first["has_account"]),
        waiting_address=mask_address(first["waiting_email"]) if first["waiting_email"] else None,
    )


async def _find_previews(tokens: list[str]) -> list[Preview | None]:
    """The preview of each token's invitation, None where the token cannot be used."""
    keys = keyring("invitation-token")
    wanted = [keys.lookup_short_digests(token) for token in tokens]
    digests = sorted({digest for each in wanted for digest in each})
    now = await clock.now()
    if db.dialect() == "postgres":
        statement = _PREVIEWS.format(digests="= ANY($1::uuid[])", now="$2")
        values: list[Any] = [digests, now]
    else:
        marks = db.placeholders(len(digests))
        statement = _PREVIEWS.format(digests=f"IN ({marks})", now=f"${len(digests) + 1}")
        values = [*digests, now]
    rows_by_digest: dict[str, list[dict[str, Any]]] = {}
    for row in await db.connection().execute_query_dict(db.sql(statement), values):
        rows_by_digest.setdefault(str(row["token_digest"]), []).append(row)
    previews: list[Preview | None] = []
    for each in wanted:
        rows = next((rows_by_digest[d] for d in each if d in rows_by_digest), None)
        previews.append(_preview_from(rows) if rows else None)
    return previews


_previews: Batch[str, Preview | None] = Batch(_find_previews)


async def preview(raw_token: str) -> Preview:
    return await preview_of_token(parse_token(raw_token))


async def preview_of_token(token: str) -> Preview:
    """preview() of a token parse_token() gave."""
    found = await _previews(token)
    if found is None:
        # The one answer for every unusable token (or, written in between, the invitation).
        return await _preview_of(await _usable(token))
    return found


def _sign_in_instead(email: str) -> DomainError:
    return DomainError.single(
        ErrorCode.ALREADY_REGISTERED,
        f"{email} already has an account: sign in to it, then accept the invitation again to "
        "add its access to that account.",
        "email",
    )


Accepted = users.NewSession | PendingRegistration


async def accept(
    *,
    raw_token: str,
    first_name: str | None,
    last_name: str | None,
    password: str | None,
    locale: str | None = None,
    registration_field_values: dict[str, Any] | None = None,
    email: str | None = None,
    signed_in: User | None = None,
) -> Accepted:
    """Use an invitation, once.

    A mailed invitation proves the mailbox: the account is created with the grants and the
    person signed in (`NewSession`). If the address has an account already (made after the
    invitation was sent), the invitation is accepted by that account's owner, signed in to it
    (`signed_in`): its grants are added to the account, whose names and password stay; anyone
    else is told to sign in to it (ALREADY_REGISTERED). A letter's code proves nothing about
    the address typed with it: the answer is a registration waiting for that address
    (`PendingRegistration`), whatever the address is, and it holds the code (an earlier
    unconfirmed one is cancelled); the invitation is accepted, and its grants apply, when the
    address is confirmed.
    """
    token = parse_token(raw_token)
    invitation = await _usable(token)
    problems: list[Problem] = []
    # The invited address is the one registered; another one given is a mistake to say.
    typed = email.strip() if email else ""
    if invitation.email and typed and normalize_email(typed) != invitation.email:
        problems.append(
            Problem(
                ErrorCode.EMAIL_MISMATCH,
                f"This invitation is for {invitation.email}: it registers that address,"
                " not another one.",
                "email",
                value=email,
            )
        )
    if invitation.email:
        account = await users.find_user_by_email(invitation.email)
        if account is not None:
            if signed_in is None or signed_in.id != account.id:
                raise _sign_in_instead(invitation.email)
            if problems:
                raise DomainError(*problems)
            return await _accept_into(invitation, account)

    # Required to make an account: left out (null) as blank, each then said in its own problem.
    first_name, last_name, password = first_name or "", last_name or "", password or ""
    clean: dict[str, Any] = {}
    try:
        first_name = clean_name(first_name, "firstName")
        if not first_name:
            problems.append(
                Problem(ErrorCode.INVALID_NAME, "Fill in your first name.", "firstName")
            )
    except DomainError as error:
        problems.extend(error.problems)
    try:
        last_name = clean_name(last_name, "lastName")
        if not last_name:
            problems.append(Problem(ErrorCode.INVALID_NAME, "Fill in your last name.", "lastName"))
    except DomainError as error:
        problems.extend(error.problems)
    try:
        chosen_locale = clean_locale(locale or invitation.locale)
    except DomainError as error:
        problems.extend(error.problems)
        chosen_locale = invitation.locale
    if invitation.email:
        address = invitation.email  # the invited address: it cannot be changed here
    else:
        try:
            address = require_mailable_email(email or "")
        except DomainError as error:
            problems.extend(error.problems)
            address = ""
    fields = await groups_service.registration_fields_by_key()
    given, value_problems = check_values(registration_field_values or {}, fields)
    # The invitation's preset values are grants (smart groups test them): they win.
    clean = {**given, **invitation.registration_field_values}
    _, missing = check_values(clean, fields, require=True)
    problems.extend(value_problems)
    problems.extend(p for p in missing if p.code is ErrorCode.REQUIRED_FIELD_MISSING)
    try:
        password = passwords.check_strength(password, hints=[address, first_name, last_name])
    except DomainError as error:
        problems.extend(error.problems)
    if problems:
        raise DomainError(*problems)

    password_hash = await passwords.hash_password(password)
    if not invitation.email:
        return await _accept_letter(
            invitation,
            address=address,
            password_hash=password_hash,
            first_name=first_name,
            last_name=last_name,
            locale=chosen_locale,
            field_values=clean,
        )
    try:
        async with in_transaction():
            now = await _use_up(invitation)
            user = await User.create(
                email=address,
                first_name=first_name,
                last_name=last_name,
                locale=chosen_locale,
                password_hash=password_hash,
                # A mailed link proves the mailbox.
                email_confirmed_at=now,
                registration_field_values=clean,
            )
            await Invitation.filter(id=invitation.id).update(accepted_user_id=user.id)
            await apply_grants(invitation, user)
            await webhook_events.record(
                WebhookEventType.INVITATION_ACCEPTED, [invitation.id], user_id=user.id
            )
            await webhook_events.record(
                WebhookEventType.USER_REGISTERED, [invitation.id], user_id=user.id
            )
            # Unconfirmed claims on the address (someone's sign-up, a letter's code used with
            # it) are dropped: never merged into the account the mailbox's owner made.
            await registrations.drop_address(address)
    except IntegrityError:
        # Someone registered this address a moment ago: nothing of ours was written.
        raise _sign_in_instead(address) from None
    return await users.open_session(user)


async def _accept_into(invitation: Invitation, account: User) -> users.NewSession:
    """A mailed invitation accepted by the owner of the account its address has: the grants
    are added to the account, and the registration values it preset where the account has
    none (smart groups test them)."""
    async with in_transaction():
        await _use_up(invitation)
        await Invitation.filter(id=invitation.id).update(accepted_user_id=account.id)
        await apply_grants(invitation, account)
        missing = {
            key: value
            for key, value in invitation.registration_field_values.items()
            if key not in account.registration_field_values
        }
        if missing:
            account.registration_field_values = {**account.registration_field_values, **missing}
            await account.save(update_fields=["registration_field_values"])
        await webhook_events.record(
            WebhookEventType.INVITATION_ACCEPTED, [invitation.id], user_id=account.id
        )
    return await users.open_session(account)


async def _use_up(invitation: Invitation) -> datetime:
    """Move the invitation out of 'pending': only one UPDATE can (the single winner). Its
    postal address goes: it was only needed to post the letter, which has arrived once its
    code is used (a letter usable again after a dropped claim needs no posting)."""
    now = await clock.now()
    won = await Invitation.filter(
        id=invitation.id,
        status=InvitationStatus.PENDING,
        accepted_at=None,
        expires_at__gt=now,
    ).update(status=InvitationStatus.ACCEPTED, accepted_at=now, postal_address="")
    if won != 1:
        # It was usable a moment ago: a parallel request (a double submit) used it. That is
        # no guess, so the token limits do not count it.
        raise unusable().not_counted()
    return now


async def _accept_letter(
    invitation: Invitation,
    *,
    address: str,
    password_hash: str,
    first_name: str,
    last_name: str,
    locale: str,
    field_values: dict[str, Any],
) -> PendingRegistration:
    """A registration waits for the address, the same way whether or not the address has an
    account (its owner is mailed either way): the answer says nothing about who is registered.

    The letter stays pending until an address is confirmed: a code proves no mailbox, so it is
    only held by one registration at a time. Typing it again (a mistyped address, a lost tab)
    starts over and cancels the registration that held it. Its grants, its acceptance and the
    invitation.accepted event come with the confirmation (registrations.confirm)."""
    async with in_transaction():
        # One registration per letter: whoever holds the row lock replaces the previous one.
        held = await Invitation.filter(
            id=invitation.id, status=InvitationStatus.PENDING, accepted_at=None
        ).select_for_update()
        if not held:
            raise unusable().not_counted()
        await registrations.drop_replaced(
            await Registration.filter(invitation_id=invitation.id).values_list("id", flat=True)  # type: ignore[arg-type]
        )
        # Its postal address goes: it was only needed to post the letter, which has arrived.
        await Invitation.filter(id=invitation.id).update(postal_address="")
        return await registrations.start(
            email=address,
            password_hash=password_hash,
            first_name=first_name,
            last_name=last_name,
            locale=locale,
            field_values=field_values,
            invitation_id=invitation.id,
        )
