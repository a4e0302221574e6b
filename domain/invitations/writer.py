"""Writing many invitations fast: COPY on PostgreSQL, multi-row INSERTs on SQLite.

A 100,000-row import must not take one round trip per row. Ids are taken from the sequence
first (PostgreSQL) or returned by the INSERT (SQLite), so the group and project grants and the
send jobs can refer to them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain.collector import collector_paused
from domain.crypto import keyring
from domain.invitations import tokens
from domain.memo import OncePerValue
from domain.models import DeliveryState, InvitationStatus, WebhookEventType
from domain.webhooks import events as webhook_events

_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "locale",
    "personal_message",
    "postal_address",
    "is_admin",
    "registration_field_values",
    "send_email",
    "token_digest",
    "token_encrypted",
    "status",
    "created_at",
    "expires_at",
    "delivery_state",
    "send_no",
    "send_due_at",
    "send_attempts",
    "last_error",
    "reminded_send_no",
    "inviter_id",
    "invitation_import_id",
)
_SQLITE_CHUNK = 500  # 23 columns x 500 rows stays under SQLite's 32,766 parameters


@dataclass(slots=True)
class NewInvitation:
    email: str
    first_name: str
    last_name: str
    locale: str
    personal_message: str
    is_admin: bool
    registration_field_values: dict[str, Any]
    send_email: bool
    group_ids: Sequence[int]
    project_ids: Sequence[int]
    postal_address: str = ""  # lines separated by line breaks (letters)


Progress = Callable[[int], Awaitable[None]] | None


# Tokens are minted up to this many at a time when none are left (half the cost of one by one).
_MINTED_AT_ONCE = 512

Token = tuple[str, str]  # a new token's short digest (a UUID) and its encrypted copy


def mint_tokens(count: int) -> list[Token]:
    """`count` new tokens as stored (the token itself is only in its encrypted copy), ~5 us
    each: an import mints them in a thread while calamine parses its file."""
    ring = keyring("invitation-token")
    new = tokens.generate_many(count)
    return list(zip(ring.short_digests(new), ring.encrypt_many(new), strict=True))


class _Records:
    """Builds rows for the invitations table (all but the id, which comes first)."""

    def __init__(
        self,
        *,
        inviter_id: int | None,
        import_id: int | None,
        now: datetime,
        expires_at: datetime,
        minted: list[Token] | None = None,
    ) -> None:
        self.mint_next = 1
        self.minted = minted or []  # taken from the end; new ones minted when they run out
        self.inviter_id = inviter_id
        self.import_id = import_id
        self.now = now
        self.expires_at = expires_at
        # Rows repeat a few combinations of values: each serialized once.
        self.serialized = OncePerValue(_json_of_typed_items)

    def build(self, rows: Sequence[NewInvitation]) -> list[tuple[Any, ...]]:
        return [self.record(row) for row in rows]

    def record(self, row: NewInvitation) -> tuple[Any, ...]:
        if not self.minted:  # twice as many as last time, up to _MINTED_AT_ONCE
            self.mint_next = min(self.mint_next * 2, _MINTED_AT_ONCE)
            self.minted = mint_tokens(self.mint_next)
        digest, encrypted = self.minted.pop()
        # Each value with its type: 1 and True are equal, but not the same JSON.
        serialized = self.serialized(
            tuple([(k, v.__class__, v) for k, v in row.registration_field_values.items()])
        )
        return (
            row.email,
            row.first_name,
            row.last_name,
            row.locale,
            row.personal_message,
            row.postal_address,
            row.is_admin,
            serialized,
            row.send_email,
            digest,
            encrypted,
            InvitationStatus.PENDING.value,
            self.now,
            self.expires_at,
            (DeliveryState.QUEUED if row.send_email else DeliveryState.NOT_SENT).value,
            1,
            self.now if row.send_email else None,
            0,
            "",
            0,
            self.inviter_id,
            self.import_id,
        )


def _json_of_typed_items(items: tuple[tuple[str, type, Any], ...]) -> str:
    return json.dumps({key: value for key, _, value in items}, separators=(",", ":"))


async def insert_invitations(
    rows: Sequence[NewInvitation],
    *,
    inviter_id: int | None,
    import_id: int | None,
    now: datetime,
    expires_at: datetime,
    progress: Progress = None,
    minted: list[Token] | None = None,
) -> list[int]:
    """Insert rows (and their group and project grants) inside the caller's transaction."""
    if not rows:
        return []
    records = _Records(
        inviter_id=inviter_id,
        import_id=import_id,
        now=now,
        expires_at=expires_at,
        minted=minted,
    )
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres":
            ids = await _insert_postgres(connection, rows, records, progress)
        else:
            ids = await _insert_sqlite(connection, rows, records, progress)
        await _insert_grants(connection, ids, rows)
        await webhook_events.record(
            WebhookEventType.INVITATION_CREATED, ids, import_id=import_id, connection=connection
        )
    return ids


# Read by the group grants' trigger (migration 0012): the grants being written name
# invitations this transaction has just inserted.
_GRANTS_OF_NEW_INVITATIONS = "invitations.grants_of_new_invitations"


async def _insert_grants(
    connection: BaseDBAsyncClient, ids: Sequence[int], rows: Sequence[NewInvitation]
) -> None:
    """The grants of invitations this transaction has just inserted (`ids`). On PostgreSQL the
    trigger is told so for the grants' COPY alone, and skips looking up and locking each of
    those invitations: they exist, and only this transaction sees them. A COPY that fails
    leaves the setting to the transaction (or savepoint) being rolled back."""
    groups = [(i, g) for i, row in zip(ids, rows, strict=True) for g in row.group_ids]
    projects = [(i, p) for i, row in zip(ids, rows, strict=True) for p in row.project_ids]
    tell_trigger = bool(groups) and connection.capabilities.dialect == "postgres"
    if tell_trigger:
        await connection.execute_script(
            f"SELECT set_config('{_GRANTS_OF_NEW_INVITATIONS}', 'on', true)"
        )
    await _insert_pairs(connection, "invitation_groups", ("invitation_id", "group_id"), groups)
    if tell_trigger:
        await connection.execute_script(
            f"SELECT set_config('{_GRANTS_OF_NEW_INVITATIONS}', 'off', true)"
        )
    await _insert_pairs(
        connection, "invitation_projects", ("invitation_id", "project_id"), projects
    )


class CopyStream:
    """Invitations stored part by part while the caller checks the next part (PostgreSQL).

    The database maintains the invitations table's indexes on its own core; this keeps it busy
    while Python checks rows on the other, instead of taking turns. A task takes parts from a
    short queue and COPYs each (the rows, then their group and project grants) on the
    transaction's connection, which nothing else may use meanwhile. Nothing is committed here:
    the caller's transaction decides, after every row has been checked.
    """

    def __init__(self, connection: BaseDBAsyncClient, records: _Records) -> None:
        self.connection = connection
        self.records = records
        self.ids: list[int] = []
        self.rows: list[NewInvitation] = []
        self.queue: asyncio.Queue[Sequence[NewInvitation] | None] = asyncio.Queue(maxsize=2)
        self.task: asyncio.Future[None] | None = None

    @classmethod
    def open(
        cls,
        connection: BaseDBAsyncClient,
        *,
        inviter_id: int | None,
        import_id: int | None,
        now: datetime,
        expires_at: datetime,
        count: int,
        minted: list[Token] | None = None,
        reserved: list[int] | None = None,
    ) -> CopyStream:
        """`count` rows at most; `reserved`, ids taken from the sequence already (reserve_ids),
        used first."""
        records = _Records(
            inviter_id=inviter_id,
            import_id=import_id,
            now=now,
            expires_at=expires_at,
            minted=minted,
        )
        stream = cls(connection, records)
        stream.task = asyncio.ensure_future(stream._consume(count, reserved or []))
        return stream

    async def put(self, rows: Sequence[NewInvitation]) -> None:
        """Queue a part; waits while two are queued already. Raises what stopped the writer."""
        assert self.task is not None
        put = asyncio.ensure_future(self.queue.put(rows))
        await asyncio.wait([put, self.task], return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
        if self.task.done():
            self.task.result()  # the writer's error; a finished writer takes nothing more

    async def close(self) -> list[int]:
        """Wait until every queued part is stored; their ids in the order of the rows."""
        assert self.task is not None
        if not self.task.done():
            await self.queue.put(None)
        await self.task
        return self.ids

    async def _consume(self, count: int, reserved: list[int]) -> None:
        # One COPY for the whole stream: the database takes each buffer (~0.5 MiB) as it comes,
        # while the next rows are checked and built; a COPY per part would leave it idle
        # between parts. Ids are reserved first (unused ones leave a gap, as a rollback does).
        if len(reserved) < count:
            reserved = [*reserved, *await reserve_ids(self.connection, count - len(reserved))]
        ids = iter(reserved)

        async def records() -> AsyncIterator[tuple[Any, ...]]:
            while (rows := await self.queue.get()) is not None:
                with collector_paused():  # no await inside
                    built = [(next(ids), *self.records.record(row)) for row in rows]
                self.ids.extend(record[0] for record in built)
                self.rows.extend(rows)
                for record in built:
                    yield record

        async with self.connection.acquire_connection() as raw:  # asyncpg's, in the transaction
            await raw.copy_records_to_table("invitations", records=records(), columns=_COLUMNS)
        await _insert_grants(self.connection, self.ids, self.rows)
        await webhook_events.record(
            WebhookEventType.INVITATION_CREATED,
            self.ids,
            import_id=self.records.import_id,
            connection=self.connection,
        )


async def reserve_ids(client: BaseDBAsyncClient, count: int) -> list[int]:
    """`count` ids from the invitations' sequence (PostgreSQL), in one round trip, on any
    connection: a sequence is outside transactions, so an import takes them while its file is
    parsed, when the database has nothing else to do."""
    _, rows = await client.execute_query(
        # The sequence's name looked up once (OFFSET 0 keeps it apart), not once a row: 0.08 s
        # instead of 0.6 s for 100,000 ids.
        "SELECT nextval(sequence) FROM"
        " (SELECT pg_get_serial_sequence('invitations', 'id')::regclass AS sequence OFFSET 0)"
        " AS named, generate_series(1, $1)",
        [count],
    )
    return [row[0] for row in rows]


async def _insert_postgres(
    connection: BaseDBAsyncClient,
    rows: Sequence[NewInvitation],
    records: _Records,
    progress: Progress,
) -> list[int]:
    chunk = 10_000

    def build(start: int) -> list[tuple[Any, ...]]:
        return records.build(rows[start : start + chunk])

    # Tokens, digests and encryption cost as much as the database's COPY: the next chunk is
    # built in a thread while the database takes the previous one.
    next_chunk = asyncio.ensure_future(asyncio.to_thread(build, 0))
    try:
        ids = await reserve_ids(connection, len(rows))
        for start in range(0, len(rows), chunk):
            built = await next_chunk
            if start + chunk < len(rows):
                next_chunk = asyncio.ensure_future(asyncio.to_thread(build, start + chunk))
            async with connection.acquire_connection() as raw:  # asyncpg's, in the transaction
                await raw.copy_records_to_table(
                    "invitations",
                    records=[
                        (i, *record)
                        for i, record in zip(ids[start : start + len(built)], built, strict=True)
                    ],
                    columns=_COLUMNS,
                )
            if progress is not None:
                await progress(start + len(built))
    finally:
        if not next_chunk.done():
            next_chunk.cancel()
    return ids


async def _insert_sqlite(
    connection: BaseDBAsyncClient,
    rows: Sequence[NewInvitation],
    records_of: _Records,
    progress: Progress,
) -> list[int]:
    columns = ", ".join(f'"{c}"' for c in _COLUMNS[1:])
    digest_at = _COLUMNS.index("token_digest") - 1  # records come without their id
    ids: list[int] = []
    for start in range(0, len(rows), _SQLITE_CHUNK):
        part = rows[start : start + _SQLITE_CHUNK]
        placeholders = ", ".join(["(" + ", ".join(["?"] * (len(_COLUMNS) - 1)) + ")"] * len(part))
        with collector_paused():
            records = records_of.build(part)
        _, returned = await connection.execute_query(
            f"INSERT INTO invitations ({columns}) VALUES {placeholders}"  # noqa: S608 - fixed columns
            " RETURNING id, token_digest",
            [value for record in records for value in record],
        )
        # RETURNING's row order is not guaranteed: match the ids back by token digest.
        id_by_digest = {r[1]: int(r[0]) for r in returned}
        ids.extend(id_by_digest[record[digest_at]] for record in records)
        if progress is not None:
            await progress(start + len(part))
    return ids


async def _insert_pairs(
    connection: BaseDBAsyncClient,
    table: str,
    columns: tuple[str, str],
    pairs: list[tuple[int, int]],
) -> None:
    if not pairs:
        return
    if connection.capabilities.dialect == "postgres":
        async with connection.acquire_connection() as raw:
            await raw.copy_records_to_table(table, records=pairs, columns=columns)
        return
    for start in range(0, len(pairs), 5000):
        part = pairs[start : start + 5000]
        placeholders = ", ".join(["(?, ?)"] * len(part))
        await connection.execute_query(
            f'INSERT INTO {table} ("{columns[0]}", "{columns[1]}") VALUES {placeholders}',  # noqa: S608
            [value for pair in part for value in pair],
        )
