"""GraphQL types of the platform data invitations refer to: groups, projects, fields."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.groups import members
from domain.groups import service as groups
from domain.groups.rules import Attribute, Operator, Rule
from domain.models import FieldType, GroupKind
from domain.models import Group as GroupModel
from domain.models import Project as ProjectModel
from domain.models import RegistrationField as RegistrationFieldModel
from domain.models import User as UserModel
from domain.registration_fields import service as fields
from domain.titles import title_in, titles_of
from schema.context import Info
from schema.errors import UserError
from schema.pages import PageInfo
from schema.permissions import IsAdmin

if TYPE_CHECKING:
    from schema.accounts.types import User

strawberry.enum(GroupKind, name="GroupKind")
strawberry.enum(Attribute, name="GroupRuleAttribute")
strawberry.enum(Operator, name="GroupRuleOperator")
strawberry.enum(FieldType, name="RegistrationFieldType")


@strawberry.type(description="One rule of a smart group.")
class GroupRule:
    attribute: Attribute
    operator: Operator
    field_key: str | None
    value: str = strawberry.field(description="The value compared with, as JSON.")
    description: str

    @classmethod
    def from_rule(cls, rule: Rule) -> GroupRule:
        return cls(
            attribute=rule.attribute,
            operator=rule.operator,
            field_key=rule.field_key,
            value=json.dumps(rule.value),
            description=rule.describe(),
        )


@strawberry.type(description="A text in one of the platform's languages.")
class LocalizedText:
    locale: str
    text: str


def localized(title: str, multiloc: dict[str, str]) -> list[LocalizedText]:
    return [LocalizedText(locale=locale, text=text) for locale, text in titles_of(title, multiloc)]


TITLE_IN = (
    "In `locale`: a platform locale, or the closest one ('nl' is nl-BE); the default locale's"
    " title when that locale has none of its own, or without `locale`."
)
TITLES = "The title in the default locale, then in each other locale that has one of its own."


@strawberry.type(description="A manual group (explicit members) or a smart group (rules).")
class Group:
    id: strawberry.ID
    kind: GroupKind
    match_all: bool = strawberry.field(description="Smart groups: all rules must hold (or any).")
    rules: list[GroupRule]
    created_at: datetime
    _model: strawberry.Private[GroupModel]

    @strawberry.field(description=TITLE_IN)
    def title(self, locale: str | None = None) -> str:
        return title_in(self._model.title, self._model.title_multiloc, locale)

    @strawberry.field(description=TITLES)
    def titles(self) -> list[LocalizedText]:
        return localized(self._model.title, self._model.title_multiloc)

    @strawberry.field(
        description="Manual: the members; smart: the confirmed accounts whose data meet the"
        " rules. All of them: memberPage lists them a page at a time.",
        permission_classes=[IsAdmin],
    )
    async def members(
        self, info: Info
    ) -> list[Annotated[User, strawberry.lazy("schema.accounts.types")]]:
        from schema.accounts.types import User

        return [User.from_model(user) for user in await members.members(self._model)]

    @strawberry.field(
        description="How many members: manual groups' memberships, or the confirmed accounts"
        " that meet a smart group's rules.",
        permission_classes=[IsAdmin],
    )
    async def member_count(self, info: Info) -> int:
        return await info.context.loaders.member_count.load(self._model)

    @strawberry.field(
        description="The members a page at a time, by last name: `after` is the `endCursor` of"
        " the page before. `search`: a prefix of the email, first or last name (any case).",
        permission_classes=[IsAdmin],
    )
    async def member_page(
        self, info: Info, first: int = 50, after: str | None = None, search: str | None = None
    ) -> UserConnection:
        from schema.accounts.types import User

        page = await members.member_page(self._model, first=first, after=after, search=search)
        group = self._model
        return UserConnection(
            edges=[
                UserEdge(node=User.from_model(user), cursor=cursor)
                for user, cursor in zip(page.users, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page.cursors, has_next_page=page.has_next_page, after=after),
            _count=lambda: members.count_members(group, search),
        )

    @classmethod
    def from_model(cls, group: GroupModel) -> Group:
        return cls(
            id=strawberry.ID(str(group.id)),
            kind=group.kind,
            match_all=group.match_all,
            rules=[GroupRule.from_rule(rule) for rule in groups.rules_of(group)],
            created_at=group.created_at,
            _model=group,
        )


@strawberry.type
class UserEdge:
    node: Annotated[User, strawberry.lazy("schema.accounts.types")]
    cursor: str


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many there are (all pages).")
    async def total_count(self) -> int:
        return await self._count()


@strawberry.type
class Project:
    id: strawberry.ID
    title: str
    created_at: datetime

    @classmethod
    def from_model(cls, project: ProjectModel) -> Project:
        return cls(
            id=strawberry.ID(str(project.id)), title=project.title, created_at=project.created_at
        )


@strawberry.type(description="One choice of a select field: its key is what values store.")
class RegistrationFieldOption:
    key: str
    _title: strawberry.Private[str]
    _multiloc: strawberry.Private[dict[str, str]]

    @strawberry.field(description=TITLE_IN)
    def title(self, locale: str | None = None) -> str:
        return title_in(self._title, self._multiloc, locale)

    @strawberry.field(description=TITLES)
    def titles(self) -> list[LocalizedText]:
        return localized(self._title, self._multiloc)


@strawberry.type(description="A custom field people fill in when they register.")
class RegistrationField:
    id: strawberry.ID
    key: str
    type: FieldType
    options: list[RegistrationFieldOption]
    required: bool
    _model: strawberry.Private[RegistrationFieldModel]

    @strawberry.field(description=TITLE_IN)
    def title(self, locale: str | None = None) -> str:
        return title_in(self._model.title, self._model.title_multiloc, locale)

    @strawberry.field(description=TITLES)
    def titles(self) -> list[LocalizedText]:
        return localized(self._model.title, self._model.title_multiloc)

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="The people and invitations that hold a value for this field: what"
        " deleting it would clear (admins only).",
    )
    async def held_values(self) -> ClearedValues:
        held = await fields.held_values(self._model.key)
        return ClearedValues(users_count=held.users, invitations_count=held.invitations)

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="The smart groups whose rules test this field, by title: while there is"
        " one, the field cannot be deleted (admins only).",
    )
    async def groups_testing(self) -> list[Group]:
        return [Group.from_model(group) for group in await fields.groups_testing(self._model.key)]

    @classmethod
    def from_model(cls, field: RegistrationFieldModel) -> RegistrationField:
        return cls(
            id=strawberry.ID(str(field.id)),
            key=field.key,
            type=field.type,
            options=[
                RegistrationFieldOption(
                    key=o["key"], _title=o["title"], _multiloc=o.get("title_multiloc") or {}
                )
                for o in field.options
            ],
            required=field.required,
            _model=field,
        )


@strawberry.type
class GroupPayload:
    group: Group | None
    errors: list[UserError]


@strawberry.type
class DeleteGroupPayload:
    deleted_id: strawberry.ID | None
    memberships_removed_count: int = strawberry.field(
        description="Manual groups: the members it had (their accounts stay)."
    )
    pending_invitations_changed_count: int = strawberry.field(
        description="Pending invitations that named it: they no longer put anyone in it."
    )
    errors: list[UserError]


@strawberry.type
class ProjectPayload:
    project: Project | None
    errors: list[UserError]


@strawberry.type
class RegistrationFieldPayload:
    registration_field: RegistrationField | None
    errors: list[UserError]


@strawberry.type(description="Values removed with a field or with options of it.")
class ClearedValues:
    users_count: int = strawberry.field(description="People who had a value.")
    invitations_count: int = strawberry.field(description="Invitations that carried a value.")


@strawberry.type
class UpdateRegistrationFieldPayload:
    registration_field: RegistrationField | None
    cleared_values: ClearedValues | None = strawberry.field(
        description="The values of removed options, cleared from people and invitations."
    )
    errors: list[UserError]


@strawberry.type
class DeleteRegistrationFieldPayload:
    deleted_id: strawberry.ID | None
    cleared_values: ClearedValues | None = strawberry.field(
        description="The field's values, cleared from people and invitations."
    )
    errors: list[UserError]


@strawberry.type
class RolePayload:
    user: Annotated[User, strawberry.lazy("schema.accounts.types")] | None
    errors: list[UserError]


async def groups_of_user(info: Info, user: UserModel) -> list[GroupModel]:
    return await groups.groups_of_user(user)
