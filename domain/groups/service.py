"""Groups: create them, manage manual memberships, compute who is in a smart group."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.errors import DomainError, ErrorCode
from domain.groups.rules import Facts, Rule, first_failing_rule, parse_rules
from domain.models import Group, GroupKind, Membership, RegistrationField, Role, RoleKind, User
from domain.validation import clean_name


def rules_of(group: Group) -> list[Rule]:
    return [Rule.from_dict(item) for item in group.rules]


async def registration_fields_by_key() -> dict[str, RegistrationField]:
    return {f.key: f for f in await RegistrationField.all()}


async def create_group(
    *,
    title: str,
    kind: GroupKind,
    rules: Sequence[Mapping[str, Any]] = (),
    match_all: bool = True,
) -> Group:
    title = clean_name(title, "title")
    if not title:
        raise DomainError.single(ErrorCode.INVALID_INPUT, "Give the group a title.", "title")
    stored_rules: list[dict[str, Any]] = []
    if kind is GroupKind.SMART:
        parsed = parse_rules(list(rules), await registration_fields_by_key())
        stored_rules = [rule.to_dict() for rule in parsed]
    elif rules:
        raise DomainError.single(ErrorCode.INVALID_RULE, "Only smart groups have rules.", "rules")
    else:
        match_all = True  # means nothing for a manual group: store the default
    if await Group.filter(title__iexact=title).exists():
        raise DomainError.single(
            ErrorCode.DUPLICATE_TITLE, f"There is already a group called {title!r}.", "title"
        )
    try:
        async with in_transaction():
            return await Group.create(
                title=title, kind=kind, rules=stored_rules, match_all=match_all
            )
    except IntegrityError:
        raise DomainError.single(
            ErrorCode.DUPLICATE_TITLE, f"There is already a group called {title!r}.", "title"
        ) from None


async def _manual_group(group_id: int) -> Group:
    group = await Group.get_or_none(id=group_id)
    if group is None:
        raise DomainError.single(ErrorCode.UNKNOWN_GROUP, "There is no such group.", "groupId")
    if group.kind is not GroupKind.MANUAL:
        raise DomainError.single(
            ErrorCode.NOT_A_MANUAL_GROUP,
            f"{group.title!r} is a smart group: its members follow its rules.",
            "groupId",
        )
    return group


async def _existing_user_ids(user_ids: Iterable[int]) -> set[int]:
    wanted = set(user_ids)
    if not wanted:
        return set()
    found: set[int] = set(
        await User.filter(id__in=wanted, email_confirmed_at__isnull=False).values_list(  # type: ignore[arg-type]
            "id", flat=True
        )
    )
    missing = wanted - found
    if missing:
        # Ids that are not numbers arrive as -1: name only the ones a person could recognize.
        named = sorted(i for i in missing if i > 0)
        raise DomainError.single(
            ErrorCode.UNKNOWN_USER,
            f"There is no user with id {', '.join(map(str, named))}."
            if named
            else "There is no such user.",
            "userIds",
        )
    return found


async def add_members(group_id: int, user_ids: Iterable[int]) -> Group:
    group = await _manual_group(group_id)
    ids = await _existing_user_ids(user_ids)
    async with in_transaction():
        await add_memberships(group.id, ids)
    return group


async def add_memberships(group_id: int, user_ids: Iterable[int]) -> int:
    """Put users in a manual group, skipping those already in it. Returns how many joined."""
    ids = set(user_ids)
    if not ids:
        return 0
    already = set(
        await Membership.filter(group_id=group_id, user_id__in=ids).values_list(
            "user_id", flat=True
        )
    )
    new = [Membership(group_id=group_id, user_id=user_id) for user_id in sorted(ids - already)]
    if new:
        # A concurrent request may have added the same member meanwhile: that is no error.
        await Membership.bulk_create(new, ignore_conflicts=True)
    return len(new)


async def remove_members(group_id: int, user_ids: Iterable[int]) -> Group:
    group = await _manual_group(group_id)
    ids = await _existing_user_ids(user_ids)
    if ids:
        await Membership.filter(group_id=group.id, user_id__in=ids).delete()
    return group


async def facts_of_users(users: Sequence[User]) -> dict[int, Facts]:
    roles: dict[int, set[str]] = {user.id: set() for user in users}
    for user_id, kind in await Role.filter(user_id__in=list(roles)).values_list("user_id", "kind"):
        roles[user_id].add(RoleKind(kind).value)
    return _facts(users, roles)


def _facts(users: Sequence[User], roles: Mapping[int, set[str]]) -> dict[int, Facts]:
    return {
        user.id: Facts(
            email=user.email,
            locale=user.locale,
            roles=frozenset(roles.get(user.id, ())),
            fields=user.registration_field_values,
        )
        for user in users
    }


async def members(group: Group) -> list[User]:
    """A manual group's members, or the users a smart group's rules select."""
    if group.kind is GroupKind.MANUAL:
        return await User.filter(memberships__group_id=group.id).order_by("last_name", "id")
    rules = rules_of(group)
    users = await User.filter(email_confirmed_at__isnull=False).order_by("last_name", "id")
    # Every user is tested: load all roles at once rather than naming every user in the query.
    roles: dict[int, set[str]] = {}
    for user_id, kind in await Role.all().values_list("user_id", "kind"):
        roles.setdefault(user_id, set()).add(RoleKind(kind).value)
    facts = _facts(users, roles)
    return [u for u in users if first_failing_rule(rules, group.match_all, facts[u.id]) is None]


async def groups_of_user(user: User) -> list[Group]:
    if user.email_confirmed_at is None:
        return []  # an unproven address belongs to no group, manual or smart
    manual_ids = set(await Membership.filter(user_id=user.id).values_list("group_id", flat=True))
    facts = (await facts_of_users([user]))[user.id]
    result = []
    for group in await Group.all().order_by("title"):
        if group.kind is GroupKind.MANUAL:
            if group.id in manual_ids:
                result.append(group)
        elif first_failing_rule(rules_of(group), group.match_all, facts) is None:
            result.append(group)
    return result
