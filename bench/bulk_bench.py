"""Bulk resend and delete at a million invitations: by the list's filter ("all that match") and
by ticked ids.

Writes 1,000,000 invitations into a scratch PostgreSQL database as the list benchmark does (a
seventh accepted, an eleventh expired, one in 997 failed), then runs what `resendInvitations`
and `deleteInvitations` run, each once (they change the rows), jobs flushed to Redis included.
The floor of each, measured in the same run just before it: one plain SQL statement making the
same change to the same rows, rolled back.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import list_bench
from bench.common import BENCH_REDIS, reset_database

ROWS = int(os.environ.get("BENCH_BULK_ROWS", "1000000"))
DATABASE = os.environ.get(
    "BENCH_BULK_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/invitations_bench_bulk"
)
# What each action's floor changes: the same rows as the action, in one statement.
_EXPIRED = "(status = 'expired' OR (status = 'pending' AND expires_at <= now()))"
# A bulk resend also sends the invitations with an address created without their mail.
_DUE = (
    f"accepted_at IS NULL AND (delivery_state = 'failed' OR {_EXPIRED}"
    " OR (delivery_state = 'not_sent' AND email <> ''))"
)
_RESEND = (
    "UPDATE invitations SET expires_at = now() + interval '30 days', status = 'pending',"
    " reminded_at = NULL, send_no = send_no + 1, send_attempts = 0, last_error = '',"
    " delivery_state = 'queued', send_due_at = now() WHERE {where}"
)


async def _floor(statement: str) -> float:
    from tortoise.transactions import in_transaction

    class Rollback(Exception):
        pass

    started = time.perf_counter()
    try:
        async with in_transaction() as connection:
            await connection.execute_script(statement)
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return elapsed


async def _timed(action: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    from arq import create_pool
    from arq.connections import RedisSettings

    from domain import outbox

    redis = await create_pool(RedisSettings.from_dsn(BENCH_REDIS))
    await redis.flushdb()
    try:
        started = time.perf_counter()
        async with outbox.unit_of_work(redis):
            result = await action()
        return time.perf_counter() - started, result
    finally:
        await redis.aclose()


async def _main() -> list[tuple[str, int, float, float]]:
    from tortoise import Tortoise

    from domain import db
    from domain.invitations.listing import InvitationFilter
    from domain.invitations.management import Selection, delete_invitations, resend_invitations
    from domain.models import DeliveryState, InvitationStatus
    from domain.settings import get_settings

    await reset_database(DATABASE)
    await db.init(get_settings(), apply_migrations=True)
    list_bench.ROWS = ROWS
    await list_bench._fill()
    figures: list[tuple[str, int, float, float]] = []

    async def measure(
        name: str, floor_statement: str, action: Callable[[], Awaitable[Any]]
    ) -> None:
        floor = await _floor(floor_statement)
        seconds, result = await _timed(action)
        figures.append((name, result.done, seconds, floor))

    failed = Selection.of(None, InvitationFilter(delivery=DeliveryState.FAILED))
    await measure(
        "resend, filter delivery failed",
        _RESEND.format(where="delivery_state = 'failed' AND accepted_at IS NULL"),
        lambda: resend_invitations(failed),
    )
    everything = Selection.of(None, InvitationFilter())
    await measure(
        "resend, all that match an empty filter (expired, unsent)",
        _RESEND.format(where=_DUE),
        lambda: resend_invitations(everything),
    )
    ids = tuple(range(3, 200 * 13, 13))
    await measure(
        "delete, 200 ticked ids",
        f"DELETE FROM invitations WHERE id = ANY(ARRAY{list(ids)}) AND accepted_at IS NULL",
        lambda: delete_invitations(Selection.of(ids, None)),
    )
    await db.connection().execute_script(
        "UPDATE invitations SET status = 'expired', expires_at = now() - interval '1 day'"
        " WHERE id % 11 = 0 AND status = 'pending'; ANALYZE invitations;"
    )
    expired = Selection.of(None, InvitationFilter(status=InvitationStatus.EXPIRED))
    await measure(
        "delete, filter status expired",
        f"DELETE FROM invitations WHERE {_EXPIRED}",
        lambda: delete_invitations(expired),
    )
    await Tortoise.close_connections()
    return figures


def main() -> list[tuple[str, int, float, float]]:
    os.environ.update(
        {
            "INVITES_ENV": "production",
            "INVITES_SECRET_KEY": "bench-secret-key-" + "x" * 40,
            "INVITES_DATABASE_URL": DATABASE,
            "INVITES_REDIS_URL": BENCH_REDIS,
            "INVITES_LOG_LEVEL": "WARNING",
        }
    )
    figures = asyncio.run(_main())
    print(f"bulk actions at {ROWS:,} invitations (once each; floor: one plain statement)")
    for name, rows, seconds, floor in figures:
        print(
            f"  {name:<55} {rows:>8,} rows {seconds:7.2f} s"
            f"  floor {floor:6.2f} s  {seconds / floor:5.1f}x the floor"
        )
    return figures


if __name__ == "__main__":
    main()
