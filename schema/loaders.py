"""Per-request dataloaders: one query per kind of related object, however many are asked."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from domain.clock import clock
from domain.groups.members import member_counts
from domain.models import (
    Group,
    InvitationGroup,
    InvitationImport,
    InvitationProject,
    MailSuppression,
    Membership,
    Project,
    Registration,
    Role,
    User,
)


async def _users(ids: Sequence[int]) -> list[User | None]:
    found = {user.id: user for user in await User.filter(id__in=ids)}
    return [found.get(i) for i in ids]


async def _projects(ids: Sequence[int]) -> list[Project | None]:
    found = {project.id: project for project in await Project.filter(id__in=ids)}
    return [found.get(i) for i in ids]


async def _groups(ids: Sequence[int]) -> list[Group | None]:
    found = {group.id: group for group in await Group.filter(id__in=ids)}
    return [found.get(i) for i in ids]


async def _roles_by_user(user_ids: Sequence[int]) -> list[list[Role]]:
    by_user: dict[int, list[Role]] = defaultdict(list)
    for role in await Role.filter(user_id__in=user_ids).order_by("id"):
        by_user[role.user_id].append(role)  # type: ignore[attr-defined]
    return [by_user[i] for i in user_ids]


async def _manual_group_ids_by_user(user_ids: Sequence[int]) -> list[list[int]]:
    by_user: dict[int, list[int]] = defaultdict(list)
    rows = (
        await Membership.filter(user_id__in=user_ids)
        .order_by("id")
        .values_list("user_id", "group_id")
    )
    for user_id, group_id in rows:
        by_user[user_id].append(group_id)
    return [by_user[i] for i in user_ids]


async def _granted(model: Any, related: str, ids: Sequence[int]) -> list[list[Any]]:
    """The groups (or projects) each invitation grants, in the order they were granted: one
    joined query for every invitation a response shows."""
    grouped: dict[int, list[Any]] = defaultdict(list)
    for grant in await model.filter(invitation_id__in=ids).order_by("id").select_related(related):
        grouped[grant.invitation_id].append(getattr(grant, related))
    return [grouped[i] for i in ids]


async def _groups_by_invitation(ids: Sequence[int]) -> list[list[Group]]:
    return await _granted(InvitationGroup, "group", ids)


async def _projects_by_invitation(ids: Sequence[int]) -> list[list[Project]]:
    return await _granted(InvitationProject, "project", ids)


async def _import_uploaders(ids: Sequence[int]) -> list[int | None]:
    found = dict(await InvitationImport.filter(id__in=ids).values_list("id", "created_by_id"))
    return [found.get(i) for i in ids]


async def _imports(ids: Sequence[int]) -> list[InvitationImport | None]:
    # Without the upload itself, which no GraphQL field shows (it can weigh 20 MiB).
    shown = [name for name in InvitationImport._meta.fields_db_projection if name != "content"]
    found = {record.id: record for record in await InvitationImport.filter(id__in=ids).only(*shown)}
    return [found.get(i) for i in ids]


async def _member_counts(groups: Sequence[Group]) -> list[int]:
    counts = await member_counts(groups)
    return [counts[group.id] for group in groups]


async def _suppressions(emails: Sequence[str]) -> list[MailSuppression | None]:
    found = {s.email: s for s in await MailSuppression.filter(email__in=list(emails))}
    return [found.get(email) for email in emails]


async def _waiting(invitation_ids: Sequence[int]) -> list[bool]:
    """Does a registration not confirmed yet hold each letter's code?"""
    held = set(
        await Registration.filter(
            invitation_id__in=list(invitation_ids), expires_at__gt=await clock.now()
        ).values_list("invitation_id", flat=True)
    )
    return [i in held for i in invitation_ids]


class Loaders:
    def __init__(self) -> None:
        self.user: DataLoader[int, User | None] = DataLoader(load_fn=_users)
        self.project: DataLoader[int, Project | None] = DataLoader(load_fn=_projects)
        self.group: DataLoader[int, Group | None] = DataLoader(load_fn=_groups)
        # Every group a response shows, counted together (smart ones in one pass).
        self.member_count: DataLoader[Group, int] = DataLoader(
            load_fn=_member_counts, cache_key_fn=lambda group: group.id
        )
        self.roles_by_user: DataLoader[int, list[Role]] = DataLoader(load_fn=_roles_by_user)
        self.manual_group_ids_by_user: DataLoader[int, list[int]] = DataLoader(
            load_fn=_manual_group_ids_by_user
        )
        self.import_uploader: DataLoader[int, int | None] = DataLoader(load_fn=_import_uploaders)
        self.invitation_import: DataLoader[int, InvitationImport | None] = DataLoader(
            load_fn=_imports
        )
        self.groups_by_invitation: DataLoader[int, list[Group]] = DataLoader(
            load_fn=_groups_by_invitation
        )
        self.projects_by_invitation: DataLoader[int, list[Project]] = DataLoader(
            load_fn=_projects_by_invitation
        )
        self.suppression: DataLoader[str, MailSuppression | None] = DataLoader(
            load_fn=_suppressions
        )
        self.waiting_for_confirmation: DataLoader[int, bool] = DataLoader(load_fn=_waiting)
