"""Invitation queries: the admins' list and detail, and the public token check."""

from __future__ import annotations

import strawberry

from domain.errors import DomainError, ErrorCode
from domain.invitations import acceptance
from domain.invitations.listing import (
    Direction,
    InvitationFilter,
    OrderField,
    count_invitations,
    list_invitations,
)
from domain.models import DeliveryState, InvitationStatus, RoleKind
from domain.models import Invitation as InvitationModel
from schema.context import Context, Info
from schema.errors import user_errors
from schema.ids import parse_id
from schema.invitations.types import (
    Invitation,
    InvitationByTokenPayload,
    InvitationConnection,
    InvitationEdge,
    InvitationPreview,
)
from schema.pages import PageInfo
from schema.permissions import IsAdmin


@strawberry.input
class InvitationFilterInput:
    status: InvitationStatus | None = None
    delivery: DeliveryState | None = None
    search: str | None = strawberry.field(
        default=None,
        description="The beginning of the address, first or last name (any case), of the"
        " invitation or of the account that accepted it; a full name; a whole code (with or"
        " without dashes); a letter's number ('12', 'no. 12').",
    )
    group_id: strawberry.ID | None = None
    role: RoleKind | None = None
    import_id: strawberry.ID | None = None


@strawberry.input
class InvitationOrderInput:
    field: OrderField = OrderField.CREATED_AT
    direction: Direction = Direction.DESC


def to_filter(value: InvitationFilterInput | None) -> InvitationFilter:
    if value is None:
        return InvitationFilter()
    return InvitationFilter(
        status=value.status,
        delivery=value.delivery,
        search=value.search,
        group_id=parse_id(value.group_id) if value.group_id is not None else None,
        role=value.role,
        import_id=parse_id(value.import_id) if value.import_id is not None else None,
    )


@strawberry.type
class InvitationQueries:
    @strawberry.field(
        permission_classes=[IsAdmin], description="Invitations, newest first by default."
    )
    async def invitations(
        self,
        info: Info,
        filter: InvitationFilterInput | None = None,
        order_by: InvitationOrderInput | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> InvitationConnection:
        query = to_filter(filter)
        order = order_by or InvitationOrderInput()
        page = await list_invitations(
            query, order=order.field, direction=order.direction, first=first, after=after
        )
        edges = [
            InvitationEdge(node=Invitation.from_model(invitation), cursor=cursor)
            for invitation, cursor in zip(page.invitations, page.cursors, strict=True)
        ]
        return InvitationConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            _count=lambda: count_invitations(query),
        )

    @strawberry.field(
        permission_classes=[IsAdmin], description="One invitation by its id (null if none)."
    )
    async def invitation(self, info: Info, id: strawberry.ID) -> Invitation | None:
        found = await InvitationModel.get_or_none(id=parse_id(id))
        return Invitation.from_model(found) if found else None

    @strawberry.field(
        description="Public: can this token be used, and what does the /invite form need. "
        "Unknown, expired, used and withdrawn tokens all get the same answer."
    )
    async def invitation_by_token(self, info: Info, token: str) -> InvitationByTokenPayload:
        return await invitation_by_token(info.context, token)


async def invitation_by_token(context: Context, token: str) -> InvitationByTokenPayload:
    """The answer to invitationByToken (also given by schema.prepared, for /invite's document)."""
    try:
        parsed = acceptance.parse_token(token)  # a mistyped code is answered before counting
        try:
            preview = await acceptance.preview_of_token(parsed)
        except DomainError as error:
            failed = error.code is ErrorCode.INVALID_TOKEN and error.counts_as_failure
            await context.limiter.token_looked_up(context.client_ip, failed=failed)
            raise
        await context.limiter.token_looked_up(context.client_ip, failed=False)
    except DomainError as error:
        context.refused = True
        return InvitationByTokenPayload(valid=False, invitation=None, errors=user_errors(error))
    return InvitationByTokenPayload(
        valid=True, invitation=InvitationPreview.from_preview(preview), errors=[]
    )
