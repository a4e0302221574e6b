"""An invitation's grants (roles, manual groups), applied to the account that accepted it."""

from __future__ import annotations

from dataclasses import dataclass

from domain.groups import service as groups_service
from domain.models import (
    Group,
    GroupKind,
    Invitation,
    InvitationGroup,
    InvitationProject,
    RoleKind,
    User,
)
from domain.roles.service import grant
from domain.titles import title_in


async def apply_grants(invitation: Invitation, user: User) -> None:
    """Inside the caller's transaction, once: the acceptance (or, for a letter's code, the
    confirmation of the address) is the single winner that calls this."""
    if invitation.is_admin:
        await grant(user.id, RoleKind.ADMIN)
    for project_id in await InvitationProject.filter(invitation_id=invitation.id).values_list(
        "project_id", flat=True
    ):
        await grant(user.id, RoleKind.PROJECT_MANAGER, int(project_id))  # type: ignore[call-overload]
    group_ids = await InvitationGroup.filter(invitation_id=invitation.id).values_list(
        "group_id", flat=True
    )
    # Smart groups follow their rules (the preset field values make them match); manual
    # groups get a membership.
    manual = await Group.filter(id__in=list(group_ids), kind=GroupKind.MANUAL).values_list(
        "id", flat=True
    )
    for group_id in manual:
        await groups_service.add_memberships(int(group_id), [user.id])  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class Granted:
    """What an invitation gives, in words a mail can show: titles in one locale."""

    admin: bool
    projects: list[str]  # the projects it makes its holder manage
    groups: list[str]  # the groups, manual and smart, it names

    def __bool__(self) -> bool:
        return self.admin or bool(self.projects) or bool(self.groups)


async def granted(invitation_id: int, locale: str) -> Granted:
    """The invitation's grants with their titles in `locale`, in the order they were given."""
    invitation = await Invitation.get(id=invitation_id)
    projects = (
        await InvitationProject.filter(invitation_id=invitation_id)
        .order_by("id")
        .values_list("project__title", flat=True)
    )
    groups = (
        await InvitationGroup.filter(invitation_id=invitation_id)
        .order_by("id")
        .values_list("group__title", "group__title_multiloc")
    )
    return Granted(
        admin=invitation.is_admin,
        projects=[str(title) for title in projects],
        groups=[title_in(title, multiloc or {}, locale) for title, multiloc in groups],
    )
