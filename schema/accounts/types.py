"""GraphQL types of accounts: users, their roles, sessions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.models import Role as RoleModel
from domain.models import RoleKind
from domain.models import User as UserModel
from domain.users import registrations
from schema.context import Info
from schema.errors import UserError
from schema.field_values import FieldValue, field_value_list

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

    @strawberry.field(description="The values of the platform's registration fields.")
    def registration_field_values(self) -> list[FieldValue]:
        return field_value_list(self._model.registration_field_values)

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


@strawberry.type(
    description="A registration waiting for its address: the code mailed there confirms it "
    "(confirmEmail). Its token, sent as `Authorization: Bearer <token>`, authenticates only "
    "confirmEmail, requestEmailConfirmation and changeRegistrationEmail: it is not a session. "
    "Until the address is confirmed there is no account: no roles, no groups."
)
class PendingRegistration:
    token: str
    email: str
    expires_at: datetime

    @classmethod
    def from_domain(
        cls, pending: registrations.PendingRegistration | None
    ) -> PendingRegistration | None:
        if pending is None:
            return None
        return cls(token=pending.token, email=pending.email, expires_at=pending.expires_at)


@strawberry.type
class SignUpPayload:
    ok: bool = strawberry.field(
        description="True when the input was accepted: a code is on its way to the address "
        "(the same answer whether or not the address has an account; its owner's mail says)."
    )
    registration: PendingRegistration | None
    errors: list[UserError]


@strawberry.type
class ConfirmEmailPayload:
    ok: bool
    session: Session | None = strawberry.field(
        description="Signed in: the account made by (or, for an address that had one, the "
        "account of) the confirmed registration."
    )
    errors: list[UserError]


@strawberry.type
class RegistrationPayload:
    registration: PendingRegistration | None
    errors: list[UserError]


@strawberry.type
class RequestPasswordResetPayload:
    ok: bool = strawberry.field(
        description="True when the address was readable: if it has an account (or an "
        "unconfirmed registration), a link to choose a new password is on its way. The same "
        "answer for every address."
    )
    errors: list[UserError]


@strawberry.type
class SessionPayload:
    session: Session | None
    errors: list[UserError]


@strawberry.type
class SignOutPayload:
    ok: bool


@strawberry.type
class ProfilePayload:
    user: User | None
    errors: list[UserError]


@strawberry.type
class OkPayload:
    ok: bool
    errors: list[UserError]
