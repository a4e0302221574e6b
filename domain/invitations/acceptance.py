"""Using a token: looking at the invitation behind it, and accepting it exactly once.

Unknown, expired, accepted and deleted tokens get one and the same answer. A mistyped code
(wrong check symbol, wrong length) is answered before any lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.clock import clock
from domain.crypto import keyring
from domain.errors import DomainError, ErrorCode, Problem
from domain.groups import service as groups_service
from domain.invitations import tokens
from domain.models import (
    Group,
    GroupKind,
    Invitation,
    InvitationGroup,
    InvitationProject,
    InvitationStatus,
    RegistrationField,
    RoleKind,
    User,
)
from domain.registration_fields.service import check_values
from domain.roles.service import grant
from domain.users import passwords
from domain.users import service as users
from domain.validation import clean_locale, clean_name, require_email

UNUSABLE_MESSAGE = (
    "This invitation cannot be used: it may have expired, been used already or been withdrawn."
    " Ask the administrator who invited you for a new one."
)
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
    invitation = await Invitation.filter(
        token_digest__in=digests,
        status=InvitationStatus.PENDING,
        accepted_at=None,
        expires_at__gt=await clock.now(),
    ).first()
    if invitation is None:
        raise unusable()
    return invitation


@dataclass(frozen=True, slots=True)
class Preview:
    """What the /invite form needs to show before acceptance."""

    email: str | None
    first_name: str
    last_name: str
    locale: str
    missing_fields: list[RegistrationField]  # required fields the invitation does not preset


async def preview(raw_token: str) -> Preview:
    invitation = await _usable(parse_token(raw_token))
    preset = set(invitation.registration_field_values)
    required = await RegistrationField.filter(required=True).order_by("id")
    return Preview(
        email=invitation.email or None,
        first_name=invitation.first_name,
        last_name=invitation.last_name,
        locale=invitation.locale,
        missing_fields=[f for f in required if f.key not in preset],
    )


def _sign_in_instead(email: str) -> DomainError:
    return DomainError.single(
        ErrorCode.ALREADY_REGISTERED,
        f"{email} already has an account: sign in with it instead. Ask an administrator for "
        "the access this invitation would have given.",
        "email",
    )


async def accept(
    *,
    raw_token: str,
    first_name: str,
    last_name: str,
    password: str,
    locale: str | None = None,
    registration_field_values: dict[str, Any] | None = None,
    email: str | None = None,
) -> users.NewSession:
    """Create the account, apply the invitation's grants, and sign the person in — once."""
    token = parse_token(raw_token)
    invitation = await _usable(token)

    problems: list[Problem] = []
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
            address = require_email(email or "")
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
    if await users.find_user_by_email(address) is not None:
        raise _sign_in_instead(address)

    password_hash = await passwords.hash_password(password)
    try:
        async with in_transaction():
            now = await clock.now()
            # The single winner: only one UPDATE can move this row out of 'pending'. The
            # postal address was only needed to post the letter: it goes now.
            won = await Invitation.filter(
                id=invitation.id,
                status=InvitationStatus.PENDING,
                accepted_at=None,
                expires_at__gt=now,
            ).update(status=InvitationStatus.ACCEPTED, accepted_at=now, postal_address="")
            if won != 1:
                raise unusable()
            user = await User.create(
                email=address,
                first_name=first_name,
                last_name=last_name,
                locale=chosen_locale,
                password_hash=password_hash,
                # A mailed link proves the mailbox; a code on paper does not.
                email_confirmed_at=now if invitation.email else None,
                registration_field_values=clean,
            )
            await Invitation.filter(id=invitation.id).update(accepted_user_id=user.id)
            await _apply_grants(invitation, user)
            if not invitation.email:
                await users.start_email_confirmation(user)
    except IntegrityError:
        # Someone registered this address a moment ago: nothing of ours was written.
        raise _sign_in_instead(address) from None
    return await users.open_session(user)


async def _apply_grants(invitation: Invitation, user: User) -> None:
    if invitation.is_admin:
        await grant(user.id, RoleKind.ADMIN)
    for project_id in await InvitationProject.filter(invitation_id=invitation.id).values_list(
        "project_id", flat=True
    ):
        await grant(user.id, RoleKind.PROJECT_MANAGER, int(project_id))  # type: ignore[call-overload]
    group_ids = await InvitationGroup.filter(invitation_id=invitation.id).values_list(
        "group_id", flat=True
    )
    # Smart groups follow their rules (the preset field values make them match); manual
    # groups get a membership.
    manual = await Group.filter(id__in=list(group_ids), kind=GroupKind.MANUAL).values_list(
        "id", flat=True
    )
    for group_id in manual:
        await groups_service.add_memberships(int(group_id), [user.id])  # type: ignore[call-overload]
