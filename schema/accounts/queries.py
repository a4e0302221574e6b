"""Account queries."""

from __future__ import annotations

import strawberry

from schema.accounts.types import User
from schema.context import Info


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in user, or null.")
    async def me(self, info: Info) -> User | None:
        viewer = await info.context.viewer()
        return User.from_model(viewer) if viewer else None
