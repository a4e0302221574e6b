"""The group grants' integrity: on PostgreSQL statement triggers do what foreign keys did (a
grant names a group and an invitation that exist, they stay while it is written, and deleting
either deletes the grant); SQLite keeps its foreign keys. The same behaviour on both."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from domain.groups.service import create_group
from domain.models import Group, GroupKind, Invitation, InvitationGroup
from tests.conftest import DATABASE_KIND, DATABASE_URL
from tests.invitations_helpers import new_invitation, store_invitations

pytestmark = pytest.mark.usefixtures("database")


async def _invitation(*group_ids: int) -> int:
    [invitation_id] = await store_invitations(
        [new_invitation("grant@example.org", group_ids=list(group_ids))]
    )
    return invitation_id


async def test_deleting_an_invitation_or_a_group_deletes_their_grants() -> None:
    north = await create_group(title="North", kind=GroupKind.MANUAL)
    south = await create_group(title="South", kind=GroupKind.MANUAL)
    first = await _invitation(north.id, south.id)
    second = await _invitation(north.id)
    assert await InvitationGroup.all().count() == 3

    await Invitation.filter(id=first).delete()
    assert await InvitationGroup.all().values_list("invitation_id", "group_id") == [
        (second, north.id)
    ]
    await Group.filter(id=north.id).delete()
    assert await InvitationGroup.all().count() == 0
    assert await Invitation.filter(id=second).exists()


@pytest.mark.parametrize("missing", ["group", "invitation"])
async def test_a_grant_naming_what_does_not_exist_is_refused(missing: str) -> None:
    group = await create_group(title="North", kind=GroupKind.MANUAL)
    invitation_id = await _invitation(group.id)
    values = {"invitation_id": invitation_id, "group_id": group.id, f"{missing}_id": 999_999}
    with pytest.raises((IntegrityError, OperationalError)):
        await InvitationGroup.create(**values)
    with pytest.raises((IntegrityError, OperationalError)):
        await InvitationGroup.filter(invitation_id=invitation_id).update(**values)
    assert await InvitationGroup.all().values_list("invitation_id", "group_id") == [
        (invitation_id, group.id)
    ]


async def test_the_writer_grants_only_groups_that_exist() -> None:
    group = await create_group(title="North", kind=GroupKind.MANUAL)
    # The COPY's error comes from asyncpg itself on PostgreSQL.
    with pytest.raises((IntegrityError, OperationalError, asyncpg.ForeignKeyViolationError)):
        await store_invitations([new_invitation("bad@example.org", group_ids=[group.id, 999_999])])
    assert await Invitation.all().count() == 0 and await InvitationGroup.all().count() == 0


@pytest.mark.skipif(
    DATABASE_KIND != "postgres",
    reason="the setting is read by PostgreSQL's grant trigger; SQLite has real foreign keys,"
    " checked on every grant (the test above)",
)
async def test_after_the_writers_grants_a_grant_naming_a_missing_invitation_is_refused() -> None:
    # The writer tells the trigger that its grants name invitations it has just inserted, for
    # its own COPY only: the rest of the transaction is checked in full.
    group = await create_group(title="North", kind=GroupKind.MANUAL)
    with pytest.raises((IntegrityError, OperationalError)):
        async with in_transaction():
            [invitation_id] = await store_invitations(
                [new_invitation("grant@example.org", group_ids=[group.id])]
            )
            assert await InvitationGroup.filter(invitation_id=invitation_id).count() == 1
            await InvitationGroup.create(invitation_id=999_999, group_id=group.id)
    assert await Invitation.all().count() == 0 and await InvitationGroup.all().count() == 0


@pytest.mark.skipif(
    DATABASE_KIND != "postgres",
    reason="PostgreSQL's triggers and row locks; SQLite keeps real foreign keys, and its single"
    " writer makes a grant and a delete at the same moment impossible",
)
async def test_a_grant_being_written_holds_its_invitation_and_group_until_it_commits() -> None:
    group = await create_group(title="North", kind=GroupKind.MANUAL)
    invitation_id = await _invitation()
    dsn = DATABASE_URL.replace("postgres://", "postgresql://", 1)
    writer, deleter = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        granting = writer.transaction()
        await granting.start()
        await writer.execute(
            "INSERT INTO invitation_groups (invitation_id, group_id) VALUES ($1, $2)",
            invitation_id,
            group.id,
        )
        await deleter.execute("SET lock_timeout = '200ms'")
        for table, row_id in (("invitations", invitation_id), ("groups", group.id)):
            with pytest.raises(asyncpg.LockNotAvailableError):
                await deleter.execute(f"DELETE FROM {table} WHERE id = $1", row_id)
        await deleter.execute("SET lock_timeout = '10s'")
        deleting = asyncio.ensure_future(
            deleter.execute("DELETE FROM invitations WHERE id = $1", invitation_id)
        )
        await asyncio.sleep(0.2)
        assert not deleting.done()  # waits for the grant's transaction
        await granting.commit()
        await deleting
    finally:
        await writer.close()
        await deleter.close()
    # The delete came after the grant was committed, and took it with the invitation.
    assert await InvitationGroup.all().count() == 0
    assert not await Invitation.filter(id=invitation_id).exists()
