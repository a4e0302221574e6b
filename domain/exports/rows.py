"""Rows of the token export: the invitations a filter selects, in id order, a batch at a time."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.crypto import keyring
from domain.db import connection, dialect
from domain.invitations import tokens
from domain.invitations.delivery import invite_link
from domain.invitations.listing import InvitationFilter

# The list's own WHERE clause, so an export holds exactly what the list shows for a filter.
from domain.invitations.listing import filtered as filtered_sql
from domain.models import (
    DeliveryState,
    Group,
    InvitationStatus,
    Project,
)
from domain.titles import title_in

BATCH_SIZE = 2000
# An accepted invitation's registration field values: the person's (their account's), else
# those the invitation fills in in advance.
_ANSWERS, _PRESETS = "registered_field_values", "registration_field_values"

# The stored columns an export row is made of, with the status derived as the list derives it
# (accepted, else expired once expires_at has passed, else pending) and the names the person
# registered with: their account's address, names and registration field answers. `now` is the
# statement's first parameter.
_COLUMNS = (
    "i.id, i.token_encrypted,"
    " CASE WHEN i.accepted_at IS NOT NULL OR i.status = 'accepted' THEN 'accepted'"
    " WHEN i.status = 'expired' OR i.expires_at <= {now} THEN 'expired'"
    " ELSE 'pending' END AS derived_status,"
    " i.delivery_state, i.email, i.first_name, i.last_name, i.locale, i.is_admin,"
    " i.created_at, i.sent_at, i.expires_at, i.accepted_at, i.postal_address,"
    " i.personal_message, i.last_error, i.registration_field_values,"
    " u.first_name AS registered_first_name, u.last_name AS registered_last_name,"
    " u.email AS registered_email, u.registration_field_values AS registered_field_values"
)


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """One batch as the database holds it: the invitation rows (dicts of `_COLUMNS`) and the
    titles of the groups (in the export's locale) and projects each one grants, alphabetical
    and comma-separated."""

    rows: list[dict[str, Any]]
    groups: dict[int, str]
    projects: dict[int, str]


@dataclass(frozen=True, slots=True)
class ExportRow:
    token: str  # shown as XXXXX-XXXXX-XXXXX
    status: InvitationStatus
    delivery: DeliveryState
    email: str  # "" for a code-only invitation
    first_name: str
    last_name: str
    language: str
    groups: str  # titles in the export's locale, comma-separated, alphabetical
    admin: bool
    created_at: datetime
    sent_at: datetime | None
    expires_at: datetime
    accepted_at: datetime | None
    address: str  # postal, lines separated by line breaks; "" when there is none
    projects: str  # titles of the projects managed, comma-separated, alphabetical
    personal_message: str
    failure_reason: str  # why the last try failed, it was given up, or what the bounce said
    link: str  # {PUBLIC_URL}/invite#token=...; "" once the token no longer works
    registered_first_name: str  # accepted invitations: the names the person registered with
    registered_last_name: str
    registered_email: str  # accepted invitations: the address of the account they made
    # Registration field key -> value: for an accepted invitation whose account still exists,
    # the person's answers (their account's); else what the invitation fills in in advance.
    field_values: dict[str, Any]


async def stored_batches(
    query: InvitationFilter,
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    locale: str | None = None,
) -> AsyncGenerator[StoredBatch, None]:
    """Batches in id order. Each continues after the last id seen (keyset), so memory stays
    flat and the fiftieth batch costs what the first one costs. Group titles in `locale` (a
    group without one there: its default title)."""
    sql = await filtered_sql(query)
    columns = _COLUMNS.format(now=sql.param(now))
    after = sql.param(0)
    after_index = len(sql.params) - 1
    limit = sql.param(batch_size)
    # Only placeholders are formatted into the SQL; values travel as parameters.
    statement = (
        f"SELECT {columns} FROM invitations i"  # noqa: S608
        " LEFT JOIN users u ON u.id = i.accepted_user_id"
        f" WHERE {sql.where()} AND i.id > {after} ORDER BY i.id LIMIT {limit}"
    )
    group_titles: dict[int, str] = {}
    project_titles: dict[int, str] = {}
    while True:
        rows = await connection().execute_query_dict(statement, sql.params)
        if not rows:
            return
        ids = [int(row["id"]) for row in rows]
        yield StoredBatch(
            rows=rows,
            groups=await _titles_of(
                "invitation_groups", "group_id", Group, ids, group_titles, locale
            ),
            projects=await _titles_of(
                "invitation_projects", "project_id", Project, ids, project_titles, locale
            ),
        )
        if len(rows) < batch_size:
            return
        sql.params[after_index] = ids[-1]


async def export_rows(
    query: InvitationFilter,
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    locale: str | None = None,
) -> AsyncGenerator[list[ExportRow], None]:
    """The export's rows, a batch at a time, tokens decrypted, group titles in `locale`."""
    ring = keyring("invitation-token")
    async for batch in stored_batches(query, now=now, batch_size=batch_size, locale=locale):
        rows = []
        for stored in batch.rows:
            invitation_id = int(stored["id"])
            token = ring.decrypt(stored["token_encrypted"])
            status = InvitationStatus(stored["derived_status"])
            accepted = status is InvitationStatus.ACCEPTED
            # The account the invitation made (none while its address is unconfirmed, or
            # once the account is deleted).
            account = accepted and stored["registered_email"] is not None
            rows.append(
                ExportRow(
                    token=tokens.display(token),
                    status=status,
                    delivery=DeliveryState(stored["delivery_state"]),
                    email=stored["email"],
                    first_name=stored["first_name"],
                    last_name=stored["last_name"],
                    language=stored["locale"],
                    groups=batch.groups.get(invitation_id, ""),
                    admin=bool(stored["is_admin"]),
                    created_at=_datetime(stored["created_at"]),
                    sent_at=_optional_datetime(stored["sent_at"]),
                    expires_at=_datetime(stored["expires_at"]),
                    accepted_at=_optional_datetime(stored["accepted_at"]),
                    address=stored["postal_address"] or "",
                    projects=batch.projects.get(invitation_id, ""),
                    personal_message=stored["personal_message"],
                    failure_reason=stored["last_error"],
                    link=invite_link(token) if status is InvitationStatus.PENDING else "",
                    registered_first_name=(stored["registered_first_name"] or "")
                    if accepted
                    else "",
                    registered_last_name=(stored["registered_last_name"] or "") if accepted else "",
                    registered_email=stored["registered_email"] if account else "",
                    field_values=_json(
                        stored[
                            "registered_field_values" if account else "registration_field_values"
                        ]
                    ),
                )
            )
        yield rows


async def _titles_of(
    grants: str,
    target_column: str,
    target: type[Group] | type[Project],
    invitation_ids: Sequence[int],
    titles: dict[int, str],
    locale: str | None,
) -> dict[int, str]:
    """Each invitation's group (or project) titles, groups' in `locale`; `titles` caches them
    across batches (groups and projects are few)."""
    params: list[Any]
    if dialect() == "postgres":
        # One array parameter: building an IN list of 2,000 terms costs more than the query.
        where, params = "invitation_id = ANY($1::int[])", [list(invitation_ids)]
    else:
        placeholders = ", ".join(f"?{n}" for n in range(1, len(invitation_ids) + 1))
        where, params = f"invitation_id IN ({placeholders})", list(invitation_ids)
    # Only names from this module and placeholders are formatted into the SQL.
    pairs = await connection().execute_query_dict(
        f"SELECT invitation_id, {target_column} AS target_id FROM {grants} WHERE {where}",  # noqa: S608
        params,
    )
    missing = {row["target_id"] for row in pairs if row["target_id"] not in titles}
    if missing and target is Group:
        for group in await Group.filter(id__in=missing).only("id", "title", "title_multiloc"):
            titles[group.id] = title_in(group.title, group.title_multiloc, locale)
    elif missing:
        found: list[tuple[int, str]] = await target.filter(id__in=missing).values_list(
            "id", "title"
        )
        titles.update(found)
    by_invitation: dict[int, list[str]] = defaultdict(list)
    for row in pairs:
        title = titles.get(row["target_id"])
        if title is not None:  # one deleted since the grants were read is gone from both
            by_invitation[row["invitation_id"]].append(title)
    return {
        invitation_id: ", ".join(sorted(names, key=str.casefold))
        for invitation_id, names in by_invitation.items()
    }


def _datetime(value: datetime | str) -> datetime:
    """A timestamp as PostgreSQL (a datetime) or SQLite (ISO text) returns it, in UTC."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _optional_datetime(value: datetime | str | None) -> datetime | None:
    return None if value is None else _datetime(value)


def _json(value: dict[str, Any] | str | None) -> dict[str, Any]:
    """A JSON column as a dict, whether the driver decoded it or not."""
    if value is None:
        return {}
    decoded = json.loads(value) if isinstance(value, str) else value
    return decoded if isinstance(decoded, dict) else {}
