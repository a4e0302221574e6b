"""What a checked batch does, or would do: the counts a preview shows before anything is
written, and the same counts after the real run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields

from domain.invitations.checks import InvitationOptions, Planned
from domain.models import Role, RoleKind


@dataclass(frozen=True, slots=True)
class Outcome:
    invitations: int = 0  # new invitations
    mails: int = 0  # of them, mailed as soon as the batch is written
    code_only: int = 0  # of them, without an address (letters)
    existing_users: int = 0  # addresses with an account: given the access now, no invitation
    # People who would become an admin, or a project manager, and are none today (the "seats"
    # a platform counts): each invitation that grants it, and each account that gets it now.
    new_admins: int = 0
    new_project_managers: int = 0

    def stored(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_stored(cls, stored: Mapping[str, object]) -> Outcome:
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in stored.items() if k in known})  # type: ignore[call-overload]


async def outcome_of(entries: Iterable[Planned], options: InvitationOptions) -> Outcome:
    """The counts for checked entries, before any of them is written (an account's roles are
    read as they are now)."""
    invitations = mails = code_only = admins = managers = 0
    existing: list[Planned] = []
    manages = bool(options.project_ids)
    for entry in entries:
        if entry.existing_user is not None:
            existing.append(entry)
            continue
        invitations += 1
        if not entry.email:
            code_only += 1
        elif options.send_email:
            mails += 1
        admins += entry.is_admin
        managers += manages
    if existing:
        roles = await Role.filter(
            user_id__in=list({e.existing_user.id for e in existing if e.existing_user})
        ).values_list("user_id", "kind")
        is_admin = {user_id for user_id, kind in roles if kind == RoleKind.ADMIN}
        is_manager = {user_id for user_id, kind in roles if kind == RoleKind.PROJECT_MANAGER}
        for entry in existing:  # each account once: a batch names an address only once
            user = entry.existing_user
            assert user is not None
            admins += entry.is_admin and user.id not in is_admin
            managers += manages and user.id not in is_manager
    return Outcome(
        invitations=invitations,
        mails=mails,
        code_only=code_only,
        existing_users=len(existing),
        new_admins=admins,
        new_project_managers=managers,
    )
