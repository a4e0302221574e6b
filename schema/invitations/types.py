"""GraphQL types of invitations."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.clock import clock
from domain.crypto import keyring
from domain.invitations import tokens
from domain.invitations.acceptance import Preview
from domain.invitations.delivery import invite_link
from domain.invitations.listing import Direction, OrderField
from domain.invitations.management import SKIP_MESSAGES, BulkResult, SkipReason
from domain.invitations.outcome import Outcome
from domain.invitations.status import status_of
from domain.models import BounceKind, DeliveryState, InvitationStatus
from domain.models import Invitation as InvitationModel
from schema.context import Info
from schema.errors import UserError
from schema.field_values import FieldValue
from schema.ids import parse_id
from schema.pages import PageInfo
from schema.platform.types import Group, Project, RegistrationField

if TYPE_CHECKING:
    from schema.accounts.types import PendingRegistration, Session, User
    from schema.imports.types import InvitationImport
    from schema.mail.types import MailSuppression

strawberry.enum(InvitationStatus, name="InvitationStatus")
strawberry.enum(DeliveryState, name="DeliveryState")
strawberry.enum(BounceKind, name="BounceKind")
strawberry.enum(OrderField, name="InvitationOrderField")
strawberry.enum(Direction, name="OrderDirection")
strawberry.enum(
    SkipReason,
    name="BulkSkipReason",
    description="Why a bulk action left an invitation alone.",
)


@strawberry.type(description="How the invitation's mail is doing.")
class Delivery:
    state: DeliveryState
    attempts: int = strawberry.field(description="Tries of the current send.")
    last_error: str | None = strawberry.field(
        description="Why the last try failed, why it was given up, or what the bounce said."
    )
    bounce_kind: BounceKind | None = strawberry.field(
        description="For BOUNCED: HARD (the address is suppressed) or SOFT."
    )
    feedback_at: datetime | None = strawberry.field(
        description="When the bounce or complaint was reported."
    )
    send_count: int = strawberry.field(
        description="Sends so far: 1, and one more for each resend (the reminders not counted)."
    )
    _email: strawberry.Private[str]

    @strawberry.field(
        description="Set while the address is sent nothing (a hard bounce or a complaint):"
        " liftMailSuppression lets mail go to it again."
    )
    async def suppression(
        self, info: Info
    ) -> Annotated[MailSuppression, strawberry.lazy("schema.mail.types")] | None:
        from schema.mail.types import MailSuppression

        if not self._email:
            return None
        found = await info.context.loaders.suppression.load(self._email)
        return MailSuppression.from_model(found) if found else None


@strawberry.type(description="The access the invitation gives once accepted.")
class Grants:
    admin: bool
    _invitation_id: strawberry.Private[int]
    _field_values: strawberry.Private[dict[str, object]]

    @strawberry.field(description="Projects the invitee will manage.")
    async def projects(self, info: Info) -> list[Project]:
        found = await info.context.loaders.projects_by_invitation.load(self._invitation_id)
        return [Project.from_model(p) for p in found]

    @strawberry.field
    async def groups(self, info: Info) -> list[Group]:
        found = await info.context.loaders.groups_by_invitation.load(self._invitation_id)
        return [Group.from_model(g) for g in found]

    @strawberry.field
    def registration_field_values(self) -> list[FieldValue]:
        return [
            FieldValue(key=k, value=json.dumps(v)) for k, v in sorted(self._field_values.items())
        ]


@strawberry.type(description="An invitation: its token, the access it gives, and how it is doing.")
class Invitation:
    id: strawberry.ID
    email: str | None = strawberry.field(description="Null for a code-only invitation (letters).")
    first_name: str
    last_name: str
    locale: str
    personal_message: str = strawberry.field(
        description="Plain text as stored: show it as text, its line breaks kept."
    )
    postal_address: str | None = strawberry.field(
        description="Where its letter is posted: lines separated by line breaks. Null when"
        " there is none, and once the invitation is accepted."
    )
    status: InvitationStatus
    delivery: Delivery
    send_email: bool
    created_at: datetime
    sent_at: datetime | None
    reminded_at: datetime | None
    expires_at: datetime
    accepted_at: datetime | None
    code_only: bool = strawberry.field(
        description="No address: a code for a letter; the person gives an address on accepting."
    )
    grants: Grants
    _model: strawberry.Private[InvitationModel]

    @strawberry.field(description="The Excel import it came from, if any.")
    async def invitation_import(
        self, info: Info
    ) -> Annotated[InvitationImport, strawberry.lazy("schema.imports.types")] | None:
        from schema.imports.types import InvitationImport

        import_id = self._model.invitation_import_id  # type: ignore[attr-defined]
        record = await info.context.loaders.invitation_import.load(import_id) if import_id else None
        return InvitationImport.from_model(record) if record else None

    @strawberry.field(description="The registration code, XXXXX-XXXXX-XXXXX (for letters).")
    def token(self) -> str:
        return tokens.display(keyring("invitation-token").decrypt(self._model.token_encrypted))

    @strawberry.field(description="The link the invitation mail carries.")
    def link(self) -> str:
        return invite_link(keyring("invitation-token").decrypt(self._model.token_encrypted))

    @strawberry.field
    async def inviter(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("schema.accounts.types")] | None:
        from schema.accounts.types import User

        inviter_id = self._model.inviter_id  # type: ignore[attr-defined]
        import_id = self._model.invitation_import_id  # type: ignore[attr-defined]
        if inviter_id is None and import_id is not None:  # imported: who uploaded the file
            inviter_id = await info.context.loaders.import_uploader.load(import_id)
        user = await info.context.loaders.user.load(inviter_id) if inviter_id else None
        return User.from_model(user) if user else None

    @strawberry.field(
        description="A code-only invitation whose code was used to register an address that"
        " is not confirmed yet: it stays pending (resend and delete still work; deleting it"
        " cancels that registration) and is accepted when the address is confirmed."
    )
    async def waiting_for_confirmation(self, info: Info) -> bool:
        if self._model.email or self._model.accepted_at is not None:
            return False
        loaded: bool = await info.context.loaders.waiting_for_confirmation.load(self._model.id)
        return loaded

    @strawberry.field
    async def accepted_user(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("schema.accounts.types")] | None:
        from schema.accounts.types import User

        user_id = self._model.accepted_user_id  # type: ignore[attr-defined]
        user = await info.context.loaders.user.load(user_id) if user_id else None
        return User.from_model(user) if user else None

    @classmethod
    def from_model(cls, invitation: InvitationModel) -> Invitation:
        return cls(
            id=strawberry.ID(str(invitation.id)),
            email=invitation.email or None,
            first_name=invitation.first_name,
            last_name=invitation.last_name,
            locale=invitation.locale,
            personal_message=invitation.personal_message,
            postal_address=invitation.postal_address or None,
            status=status_of(invitation, clock.local_now()),
            delivery=Delivery(
                state=invitation.delivery_state,
                attempts=invitation.send_attempts,
                last_error=invitation.last_error or None,
                bounce_kind=invitation.bounce_kind,
                feedback_at=invitation.feedback_at,
                send_count=invitation.send_no,
                _email=invitation.email,
            ),
            send_email=invitation.send_email,
            created_at=invitation.created_at,
            sent_at=invitation.sent_at,
            reminded_at=invitation.reminded_at,
            expires_at=invitation.expires_at,
            accepted_at=invitation.accepted_at,
            code_only=not invitation.email,
            grants=Grants(
                admin=invitation.is_admin,
                _invitation_id=invitation.id,
                _field_values=dict(invitation.registration_field_values),
            ),
            _model=invitation,
        )


@strawberry.type
class InvitationEdge:
    node: Invitation
    cursor: str


@strawberry.type
class InvitationConnection:
    edges: list[InvitationEdge]
    page_info: PageInfo
    _count: strawberry.Private[object]

    @strawberry.field(description="How many invitations match the filter (all pages).")
    async def total_count(self) -> int:
        return int(await self._count())  # type: ignore[operator]


@strawberry.type(
    description="What a batch of invitations does, or would do (a dry run): the same counts"
    " for a preview and for the real run."
)
class InvitationOutcome:
    invitations: int = strawberry.field(description="New invitations.")
    mails: int = strawberry.field(description="Of them, those mailed at once.")
    code_only: int = strawberry.field(
        description="Of them, code-only invitations (no address: for letters)."
    )
    existing_users: int = strawberry.field(
        description="Addresses that already have an account: given the groups and roles at"
        " once, without an invitation or a mail."
    )
    new_admins: int = strawberry.field(
        description="People who would become admins and are not today (seats): invitations"
        " that grant it, and accounts that get it now."
    )
    new_project_managers: int = strawberry.field(
        description="People who would become project managers and manage no project today."
    )

    @classmethod
    def from_domain(cls, outcome: Outcome) -> InvitationOutcome:
        return cls(
            invitations=outcome.invitations,
            mails=outcome.mails,
            code_only=outcome.code_only,
            existing_users=outcome.existing_users,
            new_admins=outcome.new_admins,
            new_project_managers=outcome.new_project_managers,
        )


@strawberry.type
class CreateInvitationsPayload:
    invitations: list[Invitation] = strawberry.field(
        description="The invitations created (at most the first 1,000 are listed; none for a"
        " dry run)."
    )
    invited_count: int
    existing_users_updated: list[Annotated[User, strawberry.lazy("schema.accounts.types")]] = (
        strawberry.field(
            description="Addresses that already had an account: they got the groups and roles now,"
            " and no invitation or mail."
        )
    )
    errors: list[UserError]
    outcome: InvitationOutcome | None = strawberry.field(
        default=None,
        description="What was done, or for a dry run what would be done (null when refused).",
    )


@strawberry.type
class InvitationPayload:
    invitation: Invitation | None
    errors: list[UserError]


@strawberry.type
class DeleteInvitationPayload:
    deleted_id: strawberry.ID | None
    errors: list[UserError]


@strawberry.type(description="How many invitations a bulk action left alone for one reason.")
class BulkSkipped:
    reason: SkipReason
    count: int
    message: str


@strawberry.type(description="What a bulk action did with one of the ids it was given.")
class BulkOutcome:
    id: strawberry.ID
    done: bool
    skip_reason: SkipReason | None
    message: str | None = strawberry.field(description="Why it was skipped, for people.")


def bulk_parts(
    action: str, result: BulkResult | None, given_ids: list[strawberry.ID] | None
) -> tuple[list[BulkSkipped], list[BulkOutcome]]:
    """The skipped counts and, for a selection by ids, each id's outcome, once, in the order
    first given."""
    if result is None:
        return [], []
    messages = SKIP_MESSAGES[action]
    skipped = [
        BulkSkipped(reason=reason, count=result.skipped[reason], message=messages[reason])
        for reason in SkipReason
        if result.skipped[reason]
    ]
    outcomes = []
    for given in dict.fromkeys(given_ids or []):
        reason = result.skipped_ids.get(parse_id(given))
        outcomes.append(
            BulkOutcome(
                id=given,
                done=reason is None,
                skip_reason=reason,
                message=messages[reason] if reason else None,
            )
        )
    return skipped, outcomes


@strawberry.type
class ResendInvitationsPayload:
    matched_count: int = strawberry.field(description="Invitations found in the selection.")
    resent_count: int = strawberry.field(
        description="Invitations sent: the ones not mailed yet, failed, bounced or expired (30"
        " days from now)."
    )
    mailed_count: int = strawberry.field(
        description="Of those, the ones mailed again (code-only invitations get only the new"
        " expiry: their letters keep working)."
    )
    skipped: list[BulkSkipped] = strawberry.field(description="The others, counted by reason.")
    outcomes: list[BulkOutcome] = strawberry.field(
        description="For a selection by ids: each id's outcome, once, in the order first given"
        " (an id given twice has one outcome; empty for a filter)."
    )
    errors: list[UserError]


@strawberry.type
class DeleteInvitationsPayload:
    matched_count: int = strawberry.field(description="Invitations found in the selection.")
    deleted_count: int = strawberry.field(
        description="Invitations deleted: their tokens stop working and their grants are gone."
    )
    skipped: list[BulkSkipped] = strawberry.field(description="The others, counted by reason.")
    outcomes: list[BulkOutcome] = strawberry.field(
        description="For a selection by ids: each id's outcome, once, in the order first given"
        " (an id given twice has one outcome; empty for a filter)."
    )
    errors: list[UserError]


@strawberry.type(description="What the /invite form shows for a usable token.")
class InvitationPreview:
    email: str | None = strawberry.field(
        description="The invited address (fixed); null for a code-only invitation: ask for one."
    )
    first_name: str
    last_name: str
    locale: str
    code_only: bool
    required_fields: list[RegistrationField] = strawberry.field(
        description="Required registration fields the invitation does not fill in already."
    )
    has_account: bool = strawberry.field(
        description="The invited address has an account already (made after the invitation "
        "was sent): its owner accepts signed in to it (`signIn`, then `acceptInvitation` with "
        "that session), and the grants are added to the account; names, password and fields "
        "are not asked."
    )
    waiting_address: str | None = strawberry.field(
        default=None,
        description="A code-only invitation whose code was used to register an address that "
        "is not confirmed yet: that address, masked (p***@example.org). Accepting again with "
        "the code cancels that registration; confirming it (the mail sent there) accepts the "
        "invitation.",
    )

    @classmethod
    def from_preview(cls, preview: Preview) -> InvitationPreview:
        return cls(
            email=preview.email,
            first_name=preview.first_name,
            last_name=preview.last_name,
            locale=preview.locale,
            code_only=preview.email is None,
            required_fields=[RegistrationField.from_model(f) for f in preview.missing_fields],
            has_account=preview.has_account,
            waiting_address=preview.waiting_address,
        )


@strawberry.type
class InvitationByTokenPayload:
    valid: bool
    invitation: InvitationPreview | None
    errors: list[UserError]


@strawberry.type
class AcceptInvitationPayload:
    session: Annotated[Session, strawberry.lazy("schema.accounts.types")] | None
    email_confirmation_sent: bool = strawberry.field(
        description="True for a code-only invitation: confirm the address with the mailed code."
    )
    registration: (
        Annotated[PendingRegistration, strawberry.lazy("schema.accounts.types")] | None
    ) = strawberry.field(
        description="A code-only invitation: the registration waiting for the address (its "
        "token confirms it with confirmEmail). The same answer whatever the address."
    )
    errors: list[UserError]
