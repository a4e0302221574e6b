"""Platform data mutations (admins): groups, memberships, projects, fields, roles."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.groups import service as groups
from domain.groups.rules import Attribute, Operator
from domain.models import FieldType, GroupKind, RoleKind
from domain.models import User as UserModel
from domain.projects.service import create_project
from domain.registration_fields import service as fields
from domain.roles import service as roles
from schema.accounts.types import User
from schema.boundary import perform
from schema.context import Info
from schema.permissions import IsAdmin
from schema.platform.types import (
    ClearedValues,
    DeleteGroupPayload,
    DeleteRegistrationFieldPayload,
    Group,
    GroupPayload,
    Project,
    ProjectPayload,
    RegistrationField,
    RegistrationFieldPayload,
    RolePayload,
    UpdateRegistrationFieldPayload,
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
        " (nl-BE, or nl for the platform's first Dutch one), admin or project_manager, a"
        " number, a date (2026-05-31), true or false, a select option's key or its title in"
        " any locale. is_one_of also takes a comma-separated list.",
    )
    values: list[str] | None = strawberry.field(
        default=None, description="The values of an is_one_of rule (instead of `value`)."
    )


@strawberry.input(description="A title in one of the platform's languages.")
class LocalizedTextInput:
    locale: str
    text: str = strawberry.field(
        description="Blank: no title of its own in that language (the default one shows)."
    )


PROBLEM_LOCALE = (
    "The language a refusal names the field and its smart groups in (FIELD_IN_USE: `value`"
    " and `groups`): a platform locale, or the closest one; the default locale's titles"
    " without it."
)


def _titles(titles: list[LocalizedTextInput] | None) -> dict[str, str] | None:
    return None if titles is None else {title.locale: title.text for title in titles}


TITLES_INPUT = "Titles in the platform's other languages (`title` is the default language's)."


@strawberry.input
class CreateGroupInput:
    title: str = strawberry.field(description="In the platform's default language.")
    kind: GroupKind
    rules: list[GroupRuleInput] = strawberry.field(default_factory=list)
    match_all: bool = True
    titles: list[LocalizedTextInput] = strawberry.field(
        default_factory=list, description=TITLES_INPUT
    )


@strawberry.input(description="What to change; what is left out stays as it is.")
class UpdateGroupInput:
    title: str | None = strawberry.field(
        default=None, description="In the platform's default language."
    )
    titles: list[LocalizedTextInput] | None = strawberry.field(
        default=None, description=TITLES_INPUT + " Only the languages given change."
    )
    rules: list[GroupRuleInput] | None = strawberry.field(
        default=None, description="Smart groups: the new rules (all of them)."
    )
    match_all: bool | None = strawberry.field(
        default=None, description="Smart groups: all rules must hold (or any one)."
    )


@strawberry.input
class RegistrationFieldOptionInput:
    key: str = strawberry.field(description="What values store: it never changes.")
    title: str | None = strawberry.field(
        default=None,
        description="In the default language; a new option without one is titled by its key.",
    )
    titles: list[LocalizedTextInput] | None = strawberry.field(
        default=None, description=TITLES_INPUT
    )


def _options(options: list[RegistrationFieldOptionInput]) -> list[dict[str, object]]:
    return [{"key": o.key, "title": o.title, "titles": _titles(o.titles)} for o in options]


@strawberry.input
class CreateRegistrationFieldInput:
    key: str
    title: str = strawberry.field(description="In the platform's default language.")
    type: FieldType
    options: list[RegistrationFieldOptionInput] = strawberry.field(default_factory=list)
    required: bool = False
    titles: list[LocalizedTextInput] = strawberry.field(
        default_factory=list, description=TITLES_INPUT
    )


@strawberry.input(description="What to change; what is left out stays as it is.")
class UpdateRegistrationFieldInput:
    title: str | None = strawberry.field(
        default=None, description="In the platform's default language."
    )
    titles: list[LocalizedTextInput] | None = strawberry.field(
        default=None, description=TITLES_INPUT + " Only the languages given change."
    )
    options: list[RegistrationFieldOptionInput] | None = strawberry.field(
        default=None,
        description="Select fields: every option, in order. Existing keys keep their values;"
        " new keys are new options; an option left out is removed and its values cleared"
        " (refused while a smart group's rule tests it).",
    )
    required: bool | None = None


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
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Make a group: a manual one (admins add its members) or a smart one, whose "
        "members are the confirmed accounts that meet its rules. Rules on registration fields "
        "test answers the members give themselves and can change on their account at any "
        "time: a smart group proves nothing about its members, so do not use one to give "
        "access to anything confidential.",
    )
    async def create_group(self, info: Info, input: CreateGroupInput) -> GroupPayload:
        group, errors = await perform(
            info,
            groups.create_group(
                title=input.title,
                kind=input.kind,
                rules=_rules(input.rules),
                match_all=input.match_all,
                titles=_titles(input.titles),
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
                titles=_titles(input.titles),
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

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Put people in a manual group, by account id or by address (`emails`, any"
        " case): all of them, or none when one has no account (UNKNOWN_USER at its position).",
    )
    async def add_group_members(
        self,
        info: Info,
        group_id: strawberry.ID,
        user_ids: list[strawberry.ID] | None = None,
        emails: list[str] | None = None,
    ) -> GroupPayload:
        group, errors = await perform(
            info,
            groups.add_members(
                _int(group_id), [_int(i) for i in user_ids or []], list(emails or [])
            ),
        )
        return GroupPayload(group=Group.from_model(group) if group else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Take people (by their user ids) out of a manual group; a smart group's"
        " members follow its rules.",
    )
    async def remove_group_members(
        self, info: Info, group_id: strawberry.ID, user_ids: list[strawberry.ID]
    ) -> GroupPayload:
        group, errors = await perform(
            info, groups.remove_members(_int(group_id), [_int(i) for i in user_ids])
        )
        return GroupPayload(group=Group.from_model(group) if group else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Make a project, whose managers invitations can name. A title already"
        " used makes a second project: retrying a request that did arrive makes a copy.",
    )
    async def create_project(self, info: Info, title: str) -> ProjectPayload:
        project, errors = await perform(info, create_project(title=title))
        return ProjectPayload(
            project=Project.from_model(project) if project else None, errors=errors
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Add a question people answer when they register (and on their account"
        " page): its key, type, titles, options and whether it is required. A key already"
        " used is refused, so a retry is safe.",
    )
    async def create_registration_field(
        self, info: Info, input: CreateRegistrationFieldInput
    ) -> RegistrationFieldPayload:
        field, errors = await perform(
            info,
            fields.create_registration_field(
                key=input.key,
                title=input.title,
                type=input.type,
                options=_options(input.options),
                required=input.required,
                titles=_titles(input.titles),
            ),
        )
        return RegistrationFieldPayload(
            registration_field=RegistrationField.from_model(field) if field else None,
            errors=errors,
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Change a registration field's titles, options or whether it is required;"
        " its key and type never change.",
    )
    async def update_registration_field(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateRegistrationFieldInput,
        locale: Annotated[str | None, strawberry.argument(description=PROBLEM_LOCALE)] = None,
    ) -> UpdateRegistrationFieldPayload:
        updated, errors = await perform(
            info,
            fields.update_registration_field(
                _int(id),
                title=input.title,
                titles=_titles(input.titles),
                options=_options(input.options) if input.options is not None else None,
                required=input.required,
                locale=locale,
            ),
        )
        if updated is None:
            return UpdateRegistrationFieldPayload(
                registration_field=None, cleared_values=None, errors=errors
            )
        field, cleared = updated
        return UpdateRegistrationFieldPayload(
            registration_field=RegistrationField.from_model(field),
            cleared_values=ClearedValues(
                users_count=cleared.users, invitations_count=cleared.invitations
            ),
            errors=[],
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Delete a registration field and the values people and invitations hold"
        " for it. Refused (FIELD_IN_USE) while a smart group's rule tests it.",
    )
    async def delete_registration_field(
        self,
        info: Info,
        id: strawberry.ID,
        locale: Annotated[str | None, strawberry.argument(description=PROBLEM_LOCALE)] = None,
    ) -> DeleteRegistrationFieldPayload:
        cleared, errors = await perform(info, fields.delete_registration_field(_int(id), locale))
        return DeleteRegistrationFieldPayload(
            deleted_id=id if cleared else None,
            cleared_values=ClearedValues(
                users_count=cleared.users, invitations_count=cleared.invitations
            )
            if cleared
            else None,
            errors=errors,
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Give a user a role: ADMIN for the whole platform (a projectId is not"
        " used), PROJECT_MANAGER of the project that projectId names (required then).",
    )
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
