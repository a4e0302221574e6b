"""Invitation mutations: invite, resend, delete (admins); accept (public)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Annotated

import strawberry

from domain.errors import DomainError, ErrorCode, Problem
from domain.invitations import acceptance, management
from domain.invitations import service as invitations
from domain.invitations.management import BulkResult, Selection
from domain.invitations.service import CreationResult, InvitationOptions, split_entries
from domain.models import Invitation as InvitationModel
from domain.security.ratelimit import Attempt
from domain.users.registrations import PendingRegistration
from domain.users.service import NewSession
from schema.accounts.mutations import session_of
from schema.accounts.types import PendingRegistration as PendingRegistrationType
from schema.accounts.types import User
from schema.boundary import perform
from schema.context import Info
from schema.field_values import FieldValueInput, field_values
from schema.ids import parse_id
from schema.invitations.queries import InvitationFilterInput, to_filter
from schema.invitations.types import (
    AcceptInvitationPayload,
    CreateInvitationsPayload,
    DeleteInvitationPayload,
    DeleteInvitationsPayload,
    Invitation,
    InvitationOutcome,
    InvitationPayload,
    ResendInvitationsPayload,
    bulk_parts,
)
from schema.permissions import IsAdmin


@strawberry.input(description="What every invitation of the batch carries.")
class InvitationOptionsInput:
    admin: bool = False
    project_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Projects the invitees will manage."
    )
    group_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    registration_field_values: list[FieldValueInput] = strawberry.field(default_factory=list)
    locale: str | None = strawberry.field(
        default=None, description="Default: the platform's first locale."
    )
    personal_message: str = strawberry.field(
        default="",
        description="Plain text, shown to the invitee as typed (nothing in it is read as HTML),"
        " its line breaks kept; at most the platform's limit of characters (2000 unless set"
        " otherwise; MESSAGE_TOO_LONG). Control characters other than line breaks and tabs"
        " are dropped.",
    )
    send_email: bool = True


@strawberry.input
class CreateInvitationsInput(InvitationOptionsInput):
    emails: list[str] = strawberry.field(
        description="Addresses, as a list or as comma-separated strings"
        " (spaces and blank entries are fine). 'Jan Peeters <jan@example.org>' invites"
        " the address with its name (first name Jan, last name Peeters), as does"
        " 'Peeters, Jan <jan@example.org>'."
    )


@strawberry.input(
    description="Names and password make the account: required (INVALID_NAME, WEAK_PASSWORD)"
    " unless the invited address has an account already (`hasAccount`), whose owner, signed"
    " in, sends only the token."
)
class AcceptInvitationInput:
    token: str
    first_name: str | None = None
    last_name: str | None = None
    password: str | None = None
    locale: str | None = None
    registration_field_values: list[FieldValueInput] = strawberry.field(default_factory=list)
    email: str | None = strawberry.field(
        default=None,
        description="For a code-only invitation: the address to register. A mailed invitation"
        " registers its own address: another one given here is refused (EMAIL_MISMATCH).",
    )


@strawberry.input(
    description="Invitations to act on: the ids of ticked rows (at most 1,000), or a filter:"
    " all that match it, as the invitations query lists them (an empty filter: all). Give one."
)
class InvitationSelectionInput:
    ids: list[strawberry.ID] | None = None
    filter: InvitationFilterInput | None = None

    def selection(self) -> Selection:
        return Selection.of(
            [parse_id(i) for i in self.ids] if self.ids is not None else None,
            to_filter(self.filter) if self.filter is not None else None,
        )


def options_of(value: InvitationOptionsInput) -> InvitationOptions:
    return InvitationOptions(
        is_admin=value.admin,
        project_ids=[parse_id(i) for i in value.project_ids],
        group_ids=[parse_id(i) for i in value.group_ids],
        registration_field_values=field_values(value.registration_field_values),
        locale=value.locale,
        personal_message=value.personal_message,
        send_email=value.send_email,
    )


@strawberry.type
class InvitationMutations:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Invite addresses. All-or-nothing: any problem means nothing is created.",
    )
    async def create_invitations(
        self,
        info: Info,
        input: CreateInvitationsInput,
        dry_run: Annotated[
            bool,
            strawberry.argument(
                description="Check everything as for real and write nothing, mail nobody:"
                " `outcome` says what would happen."
            ),
        ] = False,
    ) -> CreateInvitationsPayload:
        inviter = await info.context.viewer()
        assert inviter is not None

        async def invite() -> CreationResult:
            count = len(split_entries(input.emails))
            if dry_run:
                await info.context.limiter.invitations_allowed(inviter.id, count)
            else:
                await info.context.limiter.invitations_created(inviter.id, count)
            return await invitations.create_invitations(
                inviter=inviter, emails=input.emails, options=options_of(input), dry_run=dry_run
            )

        result, errors = await perform(info, invite())
        if result is None:
            return CreateInvitationsPayload(
                invitations=[], invited_count=0, existing_users_updated=[], errors=errors
            )
        return CreateInvitationsPayload(
            invitations=[Invitation.from_model(i) for i in result.invitations],
            invited_count=result.invited_count,
            existing_users_updated=[User.from_model(u) for u in result.existing_users],
            errors=[],
            outcome=InvitationOutcome.from_domain(result.outcome),
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Make `count` code-only invitations (for letters); export them for the codes.",
    )
    async def generate_invitation_codes(
        self, info: Info, count: int, options: InvitationOptionsInput | None = None
    ) -> CreateInvitationsPayload:
        inviter = await info.context.viewer()
        assert inviter is not None

        async def generate() -> CreationResult:
            invitations.check_code_count(count)
            await info.context.limiter.invitations_created(inviter.id, count, field="count")
            return await invitations.generate_invitation_codes(
                inviter=inviter,
                count=count,
                options=options_of(options or InvitationOptionsInput()),
            )

        result, errors = await perform(info, generate())
        if result is None:
            return CreateInvitationsPayload(
                invitations=[], invited_count=0, existing_users_updated=[], errors=errors
            )
        return CreateInvitationsPayload(
            invitations=[Invitation.from_model(i) for i in result.invitations],
            invited_count=result.invited_count,
            existing_users_updated=[],
            errors=[],
            outcome=InvitationOutcome.from_domain(result.outcome),
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Send the invitation again: same token, expiry reset to 30 days,"
        " reminder cycle reset (a code-only one gets only the new expiry: no mail). Refused"
        " (ALREADY_INVITED) when another invitation to the address is pending, and"
        " (ALREADY_REGISTERED) when the address has an account now, as createInvitations"
        " invites neither.",
    )
    async def resend_invitation(self, info: Info, id: strawberry.ID) -> InvitationPayload:
        async def resend() -> InvitationModel:
            await info.context.limiter.resend(parse_id(id))
            return await management.resend_invitation(parse_id(id))

        invitation, errors = await perform(info, resend())
        return InvitationPayload(
            invitation=Invitation.from_model(invitation) if invitation else None, errors=errors
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Withdraw a pending or expired invitation: its token stops working.",
    )
    async def delete_invitation(self, info: Info, id: strawberry.ID) -> DeleteInvitationPayload:
        _, errors = await perform(info, management.delete_invitation(parse_id(id)))
        return DeleteInvitationPayload(deleted_id=None if errors else id, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Send the invitations among the selection not mailed yet (created without"
        " their mail), and resend the failed, bounced and expired ones (same token, 30 days"
        " from now, reminder cycle reset; never to a suppressed address, an address with an"
        " account or one with another pending invitation: one per address) and say what was"
        " skipped and why. Their mails count towards the admin's daily invitations allowance.",
    )
    async def resend_invitations(
        self, info: Info, input: InvitationSelectionInput
    ) -> ResendInvitationsPayload:
        admin = await info.context.viewer()
        assert admin is not None

        async def allow_mails(count: int) -> None:
            if count == 0:
                return
            try:
                await info.context.limiter.invitations_created(admin.id, count)
            except DomainError as error:
                raise DomainError(
                    Problem(
                        ErrorCode.RATE_LIMITED,
                        f"This would mail {count:,} invitations, and resends count towards the"
                        f" daily allowance: {error.problems[0].message} Narrow the selection.",
                        "filter" if input.filter is not None else "ids",
                    )
                ) from None

        async def resend() -> BulkResult:
            return await management.resend_invitations(input.selection(), allow_mails=allow_mails)

        result, errors = await perform(info, resend())
        skipped, outcomes = bulk_parts("resend", result, input.ids)
        return ResendInvitationsPayload(
            matched_count=result.matched if result else 0,
            resent_count=result.done if result else 0,
            mailed_count=result.mailed if result else 0,
            skipped=skipped,
            outcomes=outcomes,
            errors=errors,
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Delete the pending and expired invitations among the selection: their"
        " tokens stop working and the roles and groups they carried are never applied."
        " Accepted ones are skipped (they stay as the record).",
    )
    async def delete_invitations(
        self, info: Info, input: InvitationSelectionInput
    ) -> DeleteInvitationsPayload:
        async def delete() -> BulkResult:
            return await management.delete_invitations(input.selection())

        result, errors = await perform(info, delete())
        skipped, outcomes = bulk_parts("delete", result, input.ids)
        return DeleteInvitationsPayload(
            matched_count=result.matched if result else 0,
            deleted_count=result.done if result else 0,
            skipped=skipped,
            outcomes=outcomes,
            errors=errors,
        )

    @strawberry.mutation(
        description="Public: accept an invitation. A mailed invitation signs in at once "
        "(`session`); if its address has an account already (`hasAccount`), only that "
        "account's owner, signed in, accepts it: the grants are added to the account (names "
        "and password are ignored; anyone else gets ALREADY_REGISTERED). A letter's code gives "
        "a registration waiting for the address typed with it (`registration`): the grants "
        "apply once that address is confirmed."
    )
    async def accept_invitation(
        self, info: Info, input: AcceptInvitationInput
    ) -> AcceptInvitationPayload:
        async def accept() -> acceptance.Accepted:
            acceptance.parse_token(input.token)  # a mistyped code is answered, not counted
            limiter = info.context.limiter
            # A letter's code typed with an address mails that address a code: it counts
            # against the codes the address may be sent a day (kept only if one is mailed).
            mail_to = input.email.strip() if input.email else ""
            mail_limit = (
                limiter.code_mail_attempt(mail_to, count_success=False)
                if mail_to
                else nullcontext(Attempt())
            )
            async with (
                limiter.token_attempt(info.context.client_ip) as attempt,
                mail_limit as mailed,
            ):
                accepted = await acceptance.accept(
                    raw_token=input.token,
                    first_name=input.first_name,
                    last_name=input.last_name,
                    password=input.password,
                    locale=input.locale,
                    registration_field_values=field_values(input.registration_field_values),
                    email=input.email,
                    signed_in=await info.context.viewer(),
                )
                if isinstance(accepted, PendingRegistration):
                    # A letter's code that does not (yet) make an account counts against the
                    # limits like a failed one: typing codes with addresses must stay slow.
                    attempt.keep()
                    mailed.keep()
                return accepted

        accepted, errors = await perform(info, accept())
        pending = accepted if isinstance(accepted, PendingRegistration) else None
        return AcceptInvitationPayload(
            session=session_of(accepted if isinstance(accepted, NewSession) else None),
            email_confirmation_sent=pending is not None,
            registration=PendingRegistrationType.from_domain(pending),
            errors=errors,
        )
