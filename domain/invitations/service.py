"""Creating invitations: a checked batch (domain.invitations.checks) written at once, or
previewed.

The invitations, the accounts' new access and the send jobs' outbox entries are written in one
transaction; the sends are enqueued after it commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from domain import metrics
from domain.clock import clock
from domain.errors import DomainError, ErrorCode
from domain.groups import service as groups_service
from domain.invitations import writer
from domain.invitations.addresses import split_entries
from domain.invitations.checks import (
    MAX_REPORTED_PROBLEMS,
    BatchCheck,
    InvitationOptions,
    Invitee,
    Plan,
    Planned,
    cap_problems,
    check_options,
    plan_invitations,
)
from domain.invitations.jobs import (
    SEND_BATCH,
    enqueue_sends,
    reminder_job_id,
    send_batch_job_id,
    send_job_id,
)
from domain.invitations.outcome import Outcome, outcome_of
from domain.invitations.status import delivery_of, status_of
from domain.models import Group, GroupKind, Invitation, RoleKind, User
from domain.roles.service import grant
from domain.settings import get_settings

# Creation's public names, with those of the checks, job ids and status it is built on: callers
# that create invitations need only this module.
__all__ = [
    "MAX_REPORTED_PROBLEMS",
    "SEND_BATCH",
    "BatchCheck",
    "CreationResult",
    "InvitationOptions",
    "Invitee",
    "Plan",
    "Planned",
    "cap_problems",
    "check_options",
    "create_invitations",
    "creation_times",
    "delivery_of",
    "enqueue_sends",
    "generate_invitation_codes",
    "new_rows",
    "plan_invitations",
    "reminder_job_id",
    "send_batch_job_id",
    "send_job_id",
    "split_entries",
    "status_of",
    "update_existing_users",
    "write_plan",
]


@dataclass(slots=True)
class CreationResult:
    invitations: list[Invitation]
    existing_users: list[User]
    invited_count: int = 0
    outcome: Outcome = field(default_factory=Outcome)


async def write_plan(
    plan: Plan,
    *,
    inviter_id: int | None,
    import_id: int | None = None,
    progress: Any = None,
) -> CreationResult:
    """Write a validated batch in one transaction; sends are enqueued after it commits."""
    now, expires_at = await creation_times()
    async with in_transaction():
        outcome = await outcome_of(plan.entries, plan.options)  # before the accounts change
        rows = new_rows(plan.entries, plan.options, plan.message)
        ids = await writer.insert_invitations(
            rows,
            inviter_id=inviter_id,
            import_id=import_id,
            now=now,
            expires_at=expires_at,
            progress=progress,
        )
        updated = await update_existing_users(plan.entries, plan.project_ids)
    metrics.invitations_created.labels("import" if import_id is not None else "request").inc(
        len(ids)
    )
    enqueue_sends(ids, rows)
    # The first 1,000 listed (a bigger batch is found again from its first: `batch_of`).
    invitations = await Invitation.filter(id__in=ids[:1000]).order_by("id")
    return CreationResult(
        invitations=invitations, existing_users=updated, invited_count=len(ids), outcome=outcome
    )


async def creation_times() -> tuple[datetime, datetime]:
    """Now, and when invitations made now expire."""
    now = await clock.now()
    return now, now + timedelta(days=get_settings().invitation_expiry_days)


def new_rows(
    entries: Iterable[Planned], options: InvitationOptions, message: str
) -> list[writer.NewInvitation]:
    """The invitations of checked entries (those of addresses without an account)."""
    project_ids = list(options.project_ids)
    return [
        writer.NewInvitation(
            email=entry.email,
            first_name=entry.invitee.first_name.strip(),
            last_name=entry.invitee.last_name.strip(),
            locale=entry.locale,
            personal_message=message,
            is_admin=entry.is_admin,
            registration_field_values=entry.field_values,
            send_email=options.send_email and bool(entry.email),
            group_ids=entry.group_ids,
            project_ids=project_ids,
            postal_address=entry.postal_address,
        )
        for entry in entries
        if entry.existing_user is None
    ]


async def update_existing_users(entries: Iterable[Planned], project_ids: list[int]) -> list[User]:
    """Give the batch's access to the entries' existing accounts (inside the caller's
    transaction)."""
    updated = []
    for entry in entries:
        if entry.existing_user is not None:
            await _update_existing_user(entry.existing_user, entry, project_ids)
            updated.append(entry.existing_user)
    return updated


async def _update_existing_user(user: User, entry: Planned, project_ids: list[int]) -> None:
    """An address that already has an account gets the batch's access now, and no mail."""
    manual = await Group.filter(id__in=entry.group_ids, kind=GroupKind.MANUAL).values_list(
        "id", flat=True
    )
    for group_id in manual:
        await groups_service.add_memberships(int(group_id), [user.id])  # type: ignore[call-overload]
    if entry.is_admin:
        await grant(user.id, RoleKind.ADMIN)
    for project_id in project_ids:
        await grant(user.id, RoleKind.PROJECT_MANAGER, project_id)
    missing = {
        k: v for k, v in entry.field_values.items() if k not in user.registration_field_values
    }
    if missing:
        user.registration_field_values = {**user.registration_field_values, **missing}
        await user.save(update_fields=["registration_field_values"])


async def create_invitations(
    *,
    inviter: User,
    emails: str | Iterable[str],
    options: InvitationOptions,
    dry_run: bool = False,
) -> CreationResult:
    """Invite typed-in addresses (with the names pasted with them: 'Jan Peeters
    <jan@example.org>') with the same access and message. A dry run checks them exactly the
    same way and writes nothing: its result has only the outcome."""
    invitees = [
        Invitee(
            email=entry.email, first_name=entry.first_name, last_name=entry.last_name, position=i
        )
        for i, entry in enumerate(split_entries(emails))
    ]
    plan = await plan_invitations(invitees, options)
    if dry_run:
        return preview(await outcome_of(plan.entries, options))
    return await write_plan(plan, inviter_id=inviter.id)


def preview(outcome: Outcome) -> CreationResult:
    """The result of a dry run: nothing created or updated, only what would be."""
    return CreationResult(invitations=[], existing_users=[], outcome=outcome)


def check_code_count(count: int) -> None:
    """How many codes one request may ask for: at least one, at most the per-request limit
    (checked before the daily allowance, so that asking a million is this error, not that)."""
    if count < 1:
        raise DomainError.single(ErrorCode.INVALID_INPUT, "Ask for at least one code.", "count")
    limit = get_settings().max_invitations_per_request
    if count > limit:
        raise DomainError.single(
            ErrorCode.TOO_MANY_INVITATIONS,
            f"{count:,} codes at once is more than the limit of {limit:,}: ask for them in"
            " several rounds.",
            "count",
        )


async def generate_invitation_codes(
    *, inviter: User, count: int, options: InvitationOptions
) -> CreationResult:
    """`count` code-only invitations (for letters), with the same access."""
    check_code_count(count)
    invitees = [Invitee(email="", position=i) for i in range(count)]
    plan = await plan_invitations(
        invitees, InvitationOptions(**{**_as_dict(options), "send_email": False})
    )
    return await write_plan(plan, inviter_id=inviter.id)


def _as_dict(options: InvitationOptions) -> dict[str, Any]:
    return {name: getattr(options, name) for name in InvitationOptions.__dataclass_fields__}
