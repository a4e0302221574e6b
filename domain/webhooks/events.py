"""Writing events: one outbox row per event and per subscription that wants it, in the
caller's transaction, by one INSERT ... SELECT however many invitations the change touched.

An event names ids only (invitation, user, import): never an address, a name or a token.
Which event types have an active subscription is kept a second per process, so changes with
nobody listening cost at most one small query a second and write nothing; a subscription
created or changed in this process is seen at once, in others within that second.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence

from tortoise.backends.base.client import BaseDBAsyncClient

from domain import db, outbox
from domain.clock import clock
from domain.models import WebhookEventType

_WANTED_TTL_SECONDS = 1.0
_wanted: tuple[float, frozenset[str]] | None = None


def forget_subscriptions() -> None:
    """The subscriptions changed: read them again before the next event."""
    global _wanted
    _wanted = None


async def wanted_types(connection: BaseDBAsyncClient | None = None) -> frozenset[str]:
    """The event types some active subscription wants."""
    global _wanted
    if _wanted is not None and time.monotonic() - _wanted[0] < _WANTED_TTL_SECONDS:
        return _wanted[1]
    rows = await (connection or db.connection()).execute_query_dict(
        "SELECT event_types FROM webhook_subscriptions WHERE active"
    )
    types = frozenset(t for row in rows for t in str(row["event_types"]).split(",") if t)
    _wanted = (time.monotonic(), types)
    return types


async def wanted(event_type: WebhookEventType, connection: BaseDBAsyncClient | None = None) -> bool:
    return event_type.value in await wanted_types(connection)


def delivery_job_id() -> str:
    """A new id each time: a job already running must not swallow the request for the
    deliveries written after it looked."""
    return f"webhooks:{secrets.token_hex(8)}"


def _new_event_id() -> str:
    if db.dialect() == "postgres":
        return "'evt_' || replace(gen_random_uuid()::text, '-', '')"
    return "'evt_' || lower(hex(randomblob(16)))"


def _each(connection: BaseDBAsyncClient) -> str:
    """The ids passed as $1, one row each (column `value`)."""
    if connection.capabilities.dialect == "postgres":
        return "unnest($1::int[]) AS e(value)"
    return "json_each($1) AS e"


_INSERT = """INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, occurred_at,
  invitation_id, user_id, import_id, state, attempts, next_attempt_at, last_error)
SELECT s.id, {event_id}, $2, $3, e.value, $4, $5, 'pending', 0, $3, ''
FROM {each} CROSS JOIN webhook_subscriptions s
WHERE s.active AND s.event_types LIKE $6{only}
"""


async def record(
    event_type: WebhookEventType,
    invitation_ids: Sequence[int] | None = None,
    *,
    user_id: int | None = None,
    import_id: int | None = None,
    subscription_id: int | None = None,
    connection: BaseDBAsyncClient | None = None,
) -> int:
    """Record one event per invitation id (or one event about the user when there are none)
    for every active subscription that wants it, and ask for its delivery after commit (the
    workers' sweep delivers it anyway if that job is lost). Call inside the change's
    transaction. Returns how many deliveries were written."""
    client = connection or db.connection()
    if subscription_id is None and not await wanted(event_type, client):
        return 0
    ids: list[int | None] = list(invitation_ids) if invitation_ids is not None else [None]
    if not ids:
        return 0
    postgres = client.capabilities.dialect == "postgres"
    only = " AND s.id = $7" if subscription_id is not None else ""
    params: list[object] = [
        ids if postgres else json.dumps(ids),
        event_type.value,
        await clock.now(),
        user_id,
        import_id,
        f"%,{event_type.value},%" if subscription_id is None else "%",
    ]
    if subscription_id is not None:
        params.append(subscription_id)
    statement = _INSERT.format(event_id=_new_event_id(), each=_each(client), only=only)
    if postgres:
        # Tortoise reads an INSERT's row count from the wrong word of "INSERT 0 n".
        rows = await client.execute_query_dict(
            f"WITH written AS ({statement} RETURNING 1) SELECT count(*) AS n FROM written",  # noqa: S608
            params,
        )
        count = int(rows[0]["n"])
    else:
        count, _ = await client.execute_query(db.sql(statement), params)
    if count:
        outbox.enqueue_once("deliver_webhooks", job_id=delivery_job_id())
    return int(count)
