"""Roles: who is an admin, who manages which project; granting and revoking them."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.errors import DomainError, ErrorCode
from domain.models import Project, Role, RoleKind, User


@dataclass(frozen=True, slots=True)
class Access:
    """What one user may do, loaded once per request."""

    user_id: int
    is_admin: bool
    managed_project_ids: frozenset[int]

    @property
    def is_project_manager(self) -> bool:
        return bool(self.managed_project_ids)


async def access_of(user: User) -> Access:
    roles = await Role.filter(user_id=user.id).values_list("kind", "project_id")
    return Access(
        user_id=user.id,
        is_admin=any(kind == RoleKind.ADMIN for kind, _ in roles),
        managed_project_ids=frozenset(
            project_id
            for kind, project_id in roles
            if kind == RoleKind.PROJECT_MANAGER and project_id
        ),
    )


async def grant(user_id: int, kind: RoleKind, project_id: int | None = None) -> bool:
    """Give a role unless the user has it already. Returns whether anything changed."""
    if kind is RoleKind.ADMIN:
        project_id = None
    elif project_id is None:
        raise ValueError("a project manager role needs a project")
    exists = await Role.filter(user_id=user_id, kind=kind, project_id=project_id).exists()
    if exists:
        return False
    await Role.create(user_id=user_id, kind=kind, project_id=project_id)
    return True


async def _check(user_id: int, kind: RoleKind, project_id: int | None) -> None:
    if not await User.filter(id=user_id, email_confirmed_at__isnull=False).exists():
        raise DomainError.single(ErrorCode.UNKNOWN_USER, "There is no such user.", "userId")
    if kind is RoleKind.PROJECT_MANAGER:
        if project_id is None:
            raise DomainError.single(
                ErrorCode.UNKNOWN_PROJECT,
                "Choose the project this person will manage.",
                "projectId",
            )
        if not await Project.filter(id=project_id).exists():
            raise DomainError.single(
                ErrorCode.UNKNOWN_PROJECT, "There is no such project.", "projectId"
            )


async def set_role(user_id: int, kind: RoleKind, project_id: int | None = None) -> None:
    await _check(user_id, kind, project_id)
    if kind is RoleKind.ADMIN:
        project_id = None
    try:
        async with in_transaction():
            await grant(user_id, kind, project_id)
    except IntegrityError:
        # A concurrent request gave the same role first (the unique indexes caught it): done.
        if not await Role.filter(user_id=user_id, kind=kind, project_id=project_id).exists():
            raise


async def remove_role(user_id: int, kind: RoleKind, project_id: int | None = None) -> None:
    """Take a role away. The platform always keeps at least one admin."""
    await _check(user_id, kind, project_id)
    async with in_transaction():
        if kind is RoleKind.ADMIN:
            # Lock every admin row so two admins removing each other cannot both succeed.
            # (Tortoise drops FOR UPDATE from values_list queries: load the rows themselves.)
            admins = (
                await Role.filter(kind=RoleKind.ADMIN).select_for_update().only("id", "user_id")
            )
            if {admin.user_id for admin in admins} == {user_id}:  # type: ignore[attr-defined]
                raise DomainError.single(
                    ErrorCode.LAST_ADMIN,
                    "This is the last admin: make someone else admin first.",
                    "userId",
                )
            await Role.filter(user_id=user_id, kind=kind).delete()
        else:
            await Role.filter(user_id=user_id, kind=kind, project_id=project_id).delete()
