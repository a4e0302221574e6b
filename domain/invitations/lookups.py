"""What a batch is checked against in the database: accounts, pending invitations and
projects, looked up for many addresses at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from domain import db
from domain.clock import clock
from domain.models import Project, User


async def known_projects(project_ids: Sequence[int]) -> set[int]:
    if not project_ids:
        return set()
    found = await Project.filter(id__in=list(project_ids)).values_list("id", flat=True)
    return {int(project_id) for project_id in found}  # type: ignore[call-overload]


async def existing_users(emails: list[str]) -> dict[str, User]:
    """Accounts of these addresses. Most addresses of a big batch have none: they are matched
    in SQL first, and only the accounts found are loaded as models."""
    # Only accounts exist here whose address is proven (domain.users.registrations); the
    # condition keeps it so whatever else changes: an unproven address gets a mailed invitation.
    found = await matching_emails(
        "SELECT email FROM users WHERE email {matches} AND email_confirmed_at IS NOT NULL", emails
    )
    users: dict[str, User] = {}
    for chunk in chunks(sorted(found), 5000):
        for user in await User.filter(email__in=chunk, email_confirmed_at__isnull=False):
            users[user.email] = user
    return users


async def pending_invitation_emails(
    emails: list[str], *, except_import: int | None = None
) -> set[str]:
    query = (
        "SELECT email FROM invitations WHERE email {matches}"
        " AND status = 'pending' AND expires_at > {now}"
    )
    if except_import is not None:  # an int: formatted, not a parameter
        query += f" AND (invitation_import_id IS NULL OR invitation_import_id <> {except_import:d})"
    return await matching_emails(query, emails, now=await clock.now())


async def matching_emails(query: str, emails: list[str], now: datetime | None = None) -> set[str]:
    """The emails among `emails` that `query` finds. One array parameter on PostgreSQL; chunks
    of placeholders on SQLite. (An ORM `__in` over 100,000 values spends seconds building SQL.)"""
    if not emails:
        return set()
    client = db.connection()
    found: set[str] = set()
    if client.capabilities.dialect == "postgres":
        sql = query.format(matches="= ANY($1::text[])", now="$2")
        params: list[Any] = [emails] if now is None else [emails, now]
        _, rows = await client.execute_query(sql, params)
        return {str(row[0]) for row in rows}
    for chunk in chunks(emails, 500):
        placeholders = ", ".join("?" * len(chunk))
        sql = query.format(matches=f"IN ({placeholders})", now="?")
        _, rows = await client.execute_query(sql, [*chunk] if now is None else [*chunk, now])
        found.update(str(row[0]) for row in rows)
    return found


def chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
