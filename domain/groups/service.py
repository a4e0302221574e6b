"""Groups: create, rename, edit and delete them, manage manual memberships, and tell which
groups a person is in (domain.groups.members counts and lists a group's members)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.errors import DomainError, ErrorCode, Problem, Reason
from domain.groups.rules import Facts, Rule, first_failing_rule, parse_rules
from domain.models import (
    Group,
    GroupKind,
    InvitationGroup,
    InvitationStatus,
    Membership,
    RegistrationField,
    Role,
    RoleKind,
    User,
)
from domain.titles import merge_titles
from domain.validation import clean_name, email_problem, normalize_email


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
    titles: Mapping[str, str] | None = None,
) -> Group:
    """A new group; `title` in the platform's default locale, `titles` in others."""
    title = clean_name(title, "title")
    if not title:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT, "Give the group a title.", "title", reason=Reason.TITLE_MISSING
        )
    title, multiloc = merge_titles(title, "", {}, titles, field="title")
    stored_rules: list[dict[str, Any]] = []
    if kind is GroupKind.SMART:
        parsed = parse_rules(list(rules), await registration_fields_by_key())
        stored_rules = [rule.to_dict() for rule in parsed]
    elif rules:
        raise DomainError.single(
            ErrorCode.INVALID_RULE,
            "Only smart groups have rules.",
            "rules",
            reason=Reason.RULES_NOT_ALLOWED,
        )
    else:
        match_all = True  # means nothing for a manual group: store the default
    if await Group.filter(title__iexact=title).exists():
        raise _duplicate_title(title)
    try:
        async with in_transaction():
            return await Group.create(
                title=title,
                title_multiloc=multiloc,
                kind=kind,
                rules=stored_rules,
                match_all=match_all,
            )
    except IntegrityError:
        raise _duplicate_title(title) from None


def _duplicate_title(title: str) -> DomainError:
    return DomainError.single(
        ErrorCode.DUPLICATE_TITLE,
        f"There is already a group called {title!r}.",
        "title",
        value=title,
        reason=Reason.GROUP_TITLE_TAKEN,
    )


async def _group(group_id: int) -> Group:
    group = await Group.get_or_none(id=group_id)
    if group is None:
        raise DomainError.single(ErrorCode.UNKNOWN_GROUP, "There is no such group.", "id")
    return group


async def update_group(
    group_id: int,
    *,
    title: str | None = None,
    titles: Mapping[str, str] | None = None,
    rules: Sequence[Mapping[str, Any]] | None = None,
    match_all: bool | None = None,
) -> Group:
    """Rename a group (`title` in the default locale, `titles` in others: a blank one
    removes that locale's title), or change a smart group's rules (its members follow the new
    rules at once; pending invitations naming it are checked against them when accepted). A
    group's kind never changes: make a new group instead."""
    group = await _group(group_id)
    changed: list[str] = []
    if title is not None or titles is not None:
        new_title, multiloc = merge_titles(
            title, group.title, group.title_multiloc, titles, field="title"
        )
        if (
            new_title.lower() != group.title.lower()
            and await Group.filter(title__iexact=new_title).exclude(id=group.id).exists()
        ):
            raise _duplicate_title(new_title)
        group.title, group.title_multiloc = new_title, multiloc
        changed += ["title", "title_multiloc"]
    if group.kind is GroupKind.MANUAL:
        if rules or match_all is False:
            raise DomainError.single(
                ErrorCode.INVALID_RULE,
                f"{group.title!r} is a manual group: only smart groups have rules.",
                "rules",
                reason=Reason.RULES_NOT_ALLOWED,
            )
    else:
        if rules is not None:
            parsed = parse_rules(list(rules), await registration_fields_by_key())
            group.rules = [rule.to_dict() for rule in parsed]
            changed.append("rules")
        if match_all is not None:
            group.match_all = match_all
            changed.append("match_all")
    if changed:
        try:
            async with in_transaction():
                await group.save(update_fields=changed)
        except IntegrityError:
            raise _duplicate_title(group.title) from None
    return group


@dataclass(frozen=True, slots=True)
class DeletedGroup:
    group_id: int
    memberships: int  # manual groups: the members it had
    pending_invitations: int  # pending invitations that would have put people in it


async def delete_group(group_id: int) -> DeletedGroup:
    """Delete a group: its memberships go, and so does the group from every invitation that
    names it (pending ones will not put anyone in it; accepted ones did already). Smart groups
    are only their rules: nobody's data changes."""
    async with in_transaction():
        group = await Group.filter(id=group_id).select_for_update().first()
        if group is None:
            raise DomainError.single(ErrorCode.UNKNOWN_GROUP, "There is no such group.", "id")
        memberships = await Membership.filter(group_id=group.id).count()
        pending = await InvitationGroup.filter(
            group_id=group.id,
            invitation__status__not=InvitationStatus.ACCEPTED,
            invitation__accepted_at=None,
        ).count()
        # Memberships by their foreign key; invitations' grants by a statement trigger
        # (PostgreSQL, migration 0008) or the foreign key (SQLite).
        await Group.filter(id=group.id).delete()
    return DeletedGroup(group_id=group.id, memberships=memberships, pending_invitations=pending)


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


async def _user_ids_by_email(emails: Sequence[str]) -> set[int]:
    """The confirmed accounts of these addresses (any case); every address that is not one
    (INVALID_EMAIL), or has none (UNKNOWN_USER), is a problem at its position."""
    wanted = [(position, normalize_email(raw), raw) for position, raw in enumerate(emails)]
    known = [email for _, email, _ in wanted if email]
    found: dict[str, int] = {
        email: user_id
        for user_id, email in await User.filter(
            email__in=known,
            email_confirmed_at__isnull=False,
        ).values_list("id", "email")
    }
    problems = [
        email_problem(raw, field="emails", position=position)
        if email is None
        else Problem(
            ErrorCode.UNKNOWN_USER,
            f"No one has an account with the address {raw.strip()!r}: invite them instead.",
            "emails",
            position=position,
            value=raw,
            reason=Reason.NO_ACCOUNT,
        )
        for position, email, raw in wanted
        if email is None or email not in found
    ]
    if problems:
        raise DomainError(*problems)
    return {found[email] for _, email, _ in wanted if email}


async def add_members(group_id: int, user_ids: Iterable[int], emails: Sequence[str] = ()) -> Group:
    """Put accounts in a manual group, named by id or by address (all or none of them)."""
    group = await _manual_group(group_id)
    ids = await _existing_user_ids(user_ids) | await _user_ids_by_email(emails)
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


async def groups_of_user(user: User) -> list[Group]:
    """The manual groups the user was put in, and the smart groups whose rules they meet;
    none for an account whose address is not confirmed (domain.groups.members counts the
    same way)."""
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
