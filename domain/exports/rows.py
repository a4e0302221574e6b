"""Rows of the token export: the invitations a filter selects, in id order, a batch at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime

from domain.crypto import Keyring, keyring
from domain.db import connection
from domain.invitations import tokens
from domain.invitations.listing import InvitationFilter

# The list's own WHERE clause, so an export holds exactly what the list shows for a filter.
from domain.invitations.listing import filtered as filtered_sql
from domain.invitations.service import delivery_of, status_of
from domain.models import DeliveryState, Group, Invitation, InvitationGroup, InvitationStatus

BATCH_SIZE = 2000


@dataclass(frozen=True, slots=True)
class ExportRow:
    token: str  # shown as XXXXX-XXXXX-XXXXX
    status: InvitationStatus
    delivery: DeliveryState
    email: str  # "" for a code-only invitation
    first_name: str
    last_name: str
    language: str
    groups: str  # titles, comma-separated, alphabetical
    admin: bool
    created_at: datetime
    sent_at: datetime | None
    expires_at: datetime
    accepted_at: datetime | None
    address: str  # postal, lines separated by line breaks; "" when there is none


async def export_rows(
    query: InvitationFilter, *, now: datetime, batch_size: int = BATCH_SIZE
) -> AsyncGenerator[list[ExportRow], None]:
    """Batches of rows in id order. Each batch continues after the last id seen (keyset), so
    memory stays flat and the fiftieth batch costs what the first one costs."""
    sql = await filtered_sql(query)
    after = sql.param(0)
    after_index = len(sql.params) - 1
    limit = sql.param(batch_size)
    # Only placeholders are formatted into the SQL; values travel as parameters.
    statement = (
        f"SELECT i.id AS id FROM invitations i WHERE {sql.where()} AND i.id > {after}"  # noqa: S608
        f" ORDER BY i.id LIMIT {limit}"
    )
    ring = keyring("invitation-token")
    titles: dict[int, str] = {}
    while True:
        found = await connection().execute_query_dict(statement, sql.params)
        ids = [int(row["id"]) for row in found]
        if not ids:
            return
        invitations = await Invitation.filter(id__in=ids).order_by("id")
        groups = await _groups_of(ids, titles)
        yield [_row(each, ring, groups.get(each.id, ""), now) for each in invitations]
        if len(ids) < batch_size:
            return
        sql.params[after_index] = ids[-1]


async def _groups_of(invitation_ids: list[int], titles: dict[int, str]) -> dict[int, str]:
    """Each invitation's group titles; `titles` caches them across batches (groups are few)."""
    pairs: list[tuple[int, int]] = await InvitationGroup.filter(
        invitation_id__in=invitation_ids
    ).values_list("invitation_id", "group_id")
    missing = {group_id for _, group_id in pairs if group_id not in titles}
    if missing:
        found: list[tuple[int, str]] = await Group.filter(id__in=missing).values_list("id", "title")
        titles.update(found)
    by_invitation: dict[int, list[str]] = defaultdict(list)
    for invitation_id, group_id in pairs:
        if group_id in titles:  # a group deleted since the grants were read is gone from both
            by_invitation[invitation_id].append(titles[group_id])
    return {
        invitation_id: ", ".join(sorted(names, key=str.casefold))
        for invitation_id, names in by_invitation.items()
    }


def _row(invitation: Invitation, ring: Keyring, groups: str, now: datetime) -> ExportRow:
    return ExportRow(
        token=tokens.display(ring.decrypt(invitation.token_encrypted)),
        status=status_of(invitation, now),
        delivery=delivery_of(invitation),
        email=invitation.email,
        first_name=invitation.first_name,
        last_name=invitation.last_name,
        language=invitation.locale,
        groups=groups,
        admin=invitation.is_admin,
        created_at=invitation.created_at,
        sent_at=invitation.sent_at,
        expires_at=invitation.expires_at,
        accepted_at=invitation.accepted_at,
        address=invitation.postal_address,
    )
