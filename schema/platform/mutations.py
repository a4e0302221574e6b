"""Platform data mutations (admins): groups, memberships, projects, fields, roles."""

from __future__ import annotations

import strawberry

from domain.groups import service as groups
from domain.groups.rules import Attribute, Operator
from domain.models import FieldType, GroupKind, RoleKind
from domain.models import User as UserModel
from domain.projects.service import create_project
from domain.registration_fields.service import create_registration_field
from domain.roles import service as roles
from schema.accounts.types import User
from schema.boundary import perform
from schema.context import Info
from schema.permissions import IsAdmin
from schema.platform.types import (
    DeleteGroupPayload,
    Group,
    GroupPayload,
    Project,
    ProjectPayload,
    RegistrationField,
    RegistrationFieldPayload,
    RolePayload,
)


@strawberry.input(description="A smart group rule. `value` is text, `values` a list (is_one_of).")
class GroupRuleInput:
    attribute: Attribute
    operator: Operator
    field_key: str | None = strawberry.field(
        default=None, description="The registration field's key (attribute FIELD)."
    )
    value: str | None = strawberry.field(
        default=None,
        description="Read as the type of what is tested: a domain (example.org), a locale"
        " (nl-BE), admin or project_manager, a number, a date (2026-05-31), true or false,"
        " a select option's key or title. is_one_of also takes a comma-separated list.",
    )
    values: list[str] | None = strawberry.field(
        default=None, description="The values of an is_one_of rule (instead of `value`)."
    )


@strawberry.input
class CreateGroupInput:
    title: str
    kind: GroupKind
    rules: list[GroupRuleInput] = strawberry.field(default_factory=list)
    match_all: bool = True


@strawberry.input(description="What to change; what is left out stays as it is.")
class UpdateGroupInput:
    title: str | None = None
    rules: list[GroupRuleInput] | None = strawberry.field(
        default=None, description="Smart groups: the new rules (all of them)."
    )
    match_all: bool | None = strawberry.field(
        default=None, description="Smart groups: all rules must hold (or any one)."
    )


@strawberry.input
class RegistrationFieldOptionInput:
    key: str
    title: str | None = None


@strawberry.input
class CreateRegistrationFieldInput:
    key: str
    title: str
    type: FieldType
    options: list[RegistrationFieldOptionInput] = strawberry.field(default_factory=list)
    required: bool = False


def _rule_value(rule: GroupRuleInput) -> object:
    # Text as typed: the domain converts it to the type of what the rule tests ("12", "true").
    return list(rule.values) if rule.values is not None else rule.value


def _rules(rules: list[GroupRuleInput]) -> list[dict[str, object]]:
    return [
        {
            "attribute": rule.attribute.value,
            "operator": rule.operator.value,
            "field_key": rule.field_key,
            "value": _rule_value(rule),
        }
        for rule in rules
    ]


async def _user_after(user_id: int) -> User | None:
    user = await UserModel.get_or_none(id=user_id)
    return User.from_model(user) if user else None


@strawberry.type
class PlatformMutations:
    @strawberry.mutation(permission_classes=[IsAdmin])
    async def create_group(self, info: Info, input: CreateGroupInput) -> GroupPayload:
        group, errors = await perform(
            info,
            groups.create_group(
                title=input.title,
                kind=input.kind,
                rules=_rules(input.rules),
                match_all=input.match_all,
            ),
        )
        return GroupPayload(group=Group.from_model(group) if group else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Rename a group, or change a smart group's rules: its members follow the"
        " new rules at once. A group's kind never changes.",
    )
    async def update_group(
        self, info: Info, id: strawberry.ID, input: UpdateGroupInput
    ) -> GroupPayload:
        group, errors = await perform(
            info,
            groups.update_group(
                _int(id),
                title=input.title,
                rules=_rules(input.rules) if input.rules is not None else None,
                match_all=input.match_all,
            ),
        )
        return GroupPayload(group=Group.from_model(group) if group else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Delete a group: its memberships go, and pending invitations that name it"
        " no longer put anyone in it (invitations(filter: {groupId, status: PENDING}) counts"
        " them beforehand).",
    )
    async def delete_group(self, info: Info, id: strawberry.ID) -> DeleteGroupPayload:
        deleted, errors = await perform(info, groups.delete_group(_int(id)))
        return DeleteGroupPayload(
            deleted_id=id if deleted else None,
            memberships_removed_count=deleted.memberships if deleted else 0,
            pending_invitations_changed_count=deleted.pending_invitations if deleted else 0,
            errors=errors,
        )

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def add_group_members(
        self, info: Info, group_id: strawberry.ID, user_ids: list[strawberry.ID]
    ) -> GroupPayload:
        group, errors = await perform(
            info, groups.add_members(_int(group_id), [_int(i) for i in user_ids])
        )
        return GroupPayload(group=Group.from_model(group) if group else None, errors=errors)

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def remove_group_members(
        self, info: Info, group_id: strawberry.ID, user_ids: list[strawberry.ID]
    ) -> GroupPayload:
        group, errors = await perform(
            info, groups.remove_members(_int(group_id), [_int(i) for i in user_ids])
        )
        return GroupPayload(group=Group.from_model(group) if group else None, errors=errors)

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def create_project(self, info: Info, title: str) -> ProjectPayload:
        project, errors = await perform(info, create_project(title=title))
        return ProjectPayload(
            project=Project.from_model(project) if project else None, errors=errors
        )

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def create_registration_field(
        self, info: Info, input: CreateRegistrationFieldInput
    ) -> RegistrationFieldPayload:
        field, errors = await perform(
            info,
            create_registration_field(
                key=input.key,
                title=input.title,
                type=input.type,
                options=[{"key": o.key, "title": o.title or o.key} for o in input.options],
                required=input.required,
            ),
        )
        return RegistrationFieldPayload(
            registration_field=RegistrationField.from_model(field) if field else None,
            errors=errors,
        )

    @strawberry.mutation(permission_classes=[IsAdmin], description="Give a user a role.")
    async def set_role(
        self,
        info: Info,
        user_id: strawberry.ID,
        kind: RoleKind,
        project_id: strawberry.ID | None = None,
    ) -> RolePayload:
        _, errors = await perform(
            info, roles.set_role(_int(user_id), kind, _int(project_id) if project_id else None)
        )
        return RolePayload(user=None if errors else await _user_after(_int(user_id)), errors=errors)

    @strawberry.mutation(permission_classes=[IsAdmin], description="Take a role away.")
    async def remove_role(
        self,
        info: Info,
        user_id: strawberry.ID,
        kind: RoleKind,
        project_id: strawberry.ID | None = None,
    ) -> RolePayload:
        _, errors = await perform(
            info,
            roles.remove_role(_int(user_id), kind, _int(project_id) if project_id else None),
        )
        return RolePayload(user=None if errors else await _user_after(_int(user_id)), errors=errors)


def _int(value: strawberry.ID | str) -> int:
    """Ids are integers; anything else matches nothing (-1) instead of failing with a 500."""
    try:
        number = int(str(value))
    except ValueError:
        return -1
    return number if 0 < number < 2**31 else -1
