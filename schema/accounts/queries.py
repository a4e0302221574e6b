"""Account queries."""

from __future__ import annotations

import strawberry

from domain.errors import DomainError, ErrorCode
from domain.users import resets
from schema.accounts.types import User
from schema.context import Info


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in user, or null.")
    async def me(self, info: Info) -> User | None:
        viewer = await info.context.viewer()
        return User.from_model(viewer) if viewer else None

    @strawberry.field(
        description="Whether a password reset link's token still works (unused, in time), "
        "without using it: /reset-password says so before a new password is typed. Links "
        "that do not work count against the client's address, as with resetPassword."
    )
    async def password_reset_link_usable(self, info: Info, token: str) -> bool:
        try:
            async with info.context.limiter.password_reset_attempt(info.context.client_ip):
                await resets.check_link(token)
        except DomainError as error:
            if error.problems[0].code is ErrorCode.INVALID_RESET_TOKEN:
                return False
            raise
        return True
