"""The writer stores the timestamps it is given, to the microsecond, on both databases (COPY on
PostgreSQL, INSERTs on SQLite), and a stream of parts takes the ids reserved for it first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from domain.db import connection
from domain.invitations.writer import CopyStream, insert_invitations, reserve_ids
from domain.models import Invitation
from tests.conftest import DATABASE_KIND
from tests.invitations_helpers import new_invitation

pytestmark = pytest.mark.usefixtures("database")

NOW = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=30, microseconds=1)


async def _times(ids: list[int]) -> list[tuple[datetime, datetime, datetime | None]]:
    rows = await Invitation.filter(id__in=ids).order_by("id")
    return [(row.created_at, row.expires_at, row.send_due_at) for row in rows]


async def test_written_invitations_keep_their_timestamps_to_the_microsecond() -> None:
    rows = [new_invitation(f"w{i}@example.org", send_email=i != 1) for i in range(3)]
    async with in_transaction():
        ids = await insert_invitations(
            rows, inviter_id=None, import_id=None, now=NOW, expires_at=EXPIRES
        )
    assert await _times(ids) == [(NOW, EXPIRES, NOW), (NOW, EXPIRES, None), (NOW, EXPIRES, NOW)]


@pytest.mark.skipif(
    DATABASE_KIND != "postgres",
    reason="CopyStream uses PostgreSQL's COPY; SQLite's writer (INSERTs) is tested just above",
)
async def test_streamed_invitations_keep_their_timestamps_to_the_microsecond() -> None:
    async with in_transaction() as connection:
        stream = CopyStream.open(
            connection, inviter_id=None, import_id=None, now=NOW, expires_at=EXPIRES, count=3
        )
        await stream.put([new_invitation("s0@example.org", send_email=True)])
        await stream.put([new_invitation(f"s{i}@example.org") for i in (1, 2)])
        ids = await stream.close()
    assert await _times(ids) == [(NOW, EXPIRES, NOW), (NOW, EXPIRES, None), (NOW, EXPIRES, None)]


@pytest.mark.skipif(
    DATABASE_KIND != "postgres",
    reason="CopyStream and the id sequence are PostgreSQL's; SQLite's INSERTs return their ids",
)
async def test_a_stream_uses_the_ids_reserved_for_it_first_and_takes_more_if_needed() -> None:
    reserved = await reserve_ids(connection(), 2)  # as an import does while it parses its file
    assert reserved[1] == reserved[0] + 1
    async with in_transaction() as transaction:
        stream = CopyStream.open(
            transaction,
            inviter_id=None,
            import_id=None,
            now=NOW,
            expires_at=EXPIRES,
            count=4,
            reserved=reserved,
        )
        await stream.put([new_invitation(f"r{i}@example.org") for i in range(4)])
        ids = await stream.close()
    assert ids[:2] == reserved and ids[2] > reserved[1] and len(set(ids)) == 4
    assert sorted(await Invitation.all().values_list("id", flat=True)) == sorted(ids)
