"""GraphQL types of accounts: users, their roles, sessions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.models import Role as RoleModel
from domain.models import RoleKind
from domain.models import User as UserModel
from schema.context import Info
from schema.errors import UserError

if TYPE_CHECKING:
    from schema.platform.types import Group, Project

strawberry.enum(RoleKind, name="RoleKind")


@strawberry.type(description="A role a user holds.")
class Role:
    kind: RoleKind
    project_id: strawberry.ID | None

    @strawberry.field(description="The project managed (project managers only).")
    async def project(
        self, info: Info
    ) -> Annotated[Project, strawberry.lazy("schema.platform.types")] | None:
        from schema.platform.types import Project

        if self.project_id is None:
            return None
        project = await info.context.loaders.project.load(int(self.project_id))
        return Project.from_model(project) if project else None

    @classmethod
    def from_model(cls, role: RoleModel) -> Role:
        project_id = role.project_id  # type: ignore[attr-defined]
        return cls(
            kind=role.kind,
            project_id=strawberry.ID(str(project_id)) if project_id is not None else None,
        )


@strawberry.type(description="A person with an account.")
class User:
    id: strawberry.ID
    email: str
    first_name: str
    last_name: str
    locale: str
    email_confirmed: bool
    registered_at: datetime
    _model: strawberry.Private[UserModel]

    @strawberry.field
    async def roles(self, info: Info) -> list[Role]:
        roles = await info.context.loaders.roles_by_user.load(self._model.id)
        return [Role.from_model(role) for role in roles]

    @strawberry.field(
        description="Manual groups the user was put in, and smart groups whose rules they meet."
    )
    async def groups(
        self, info: Info
    ) -> list[Annotated[Group, strawberry.lazy("schema.platform.types")]]:
        from schema.platform.types import Group, groups_of_user

        return [Group.from_model(group) for group in await groups_of_user(info, self._model)]

    @classmethod
    def from_model(cls, user: UserModel) -> User:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            locale=user.locale,
            email_confirmed=user.email_confirmed_at is not None,
            registered_at=user.registered_at,
            _model=user,
        )


@strawberry.type(
    description="A signed-in session. Send the token as `Authorization: Bearer <token>`."
)
class Session:
    token: str
    expires_at: datetime
    user: User


@strawberry.type
class SignUpPayload:
    ok: bool = strawberry.field(
        description="True when the input was accepted: a confirmation code is on its way."
    )
    errors: list[UserError]


@strawberry.type
class ConfirmEmailPayload:
    ok: bool
    errors: list[UserError]


@strawberry.type
class SessionPayload:
    session: Session | None
    errors: list[UserError]


@strawberry.type
class SignOutPayload:
    ok: bool
