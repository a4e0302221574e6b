"""Delivering events: workers claim due outbox rows, POST each, signed, to its subscription's
URL, and record every attempt.

A claim is a conditional UPDATE that moves the row's next_attempt_at to the end of a lease:
a worker that dies mid-delivery leaves it to be claimed again once the lease has run out
(the cron `sweep_webhooks` asks for a delivery job whenever rows are due). So an event is
delivered at least once; its id (webhook-id) is the same on every attempt for the receiver to
drop duplicates. A receiver that fails (no answer, not 2xx) is tried again after capped
exponential backoff until a day after the event, then the delivery is marked failed; one
whose URL or address may never be called (not public) fails at once.

Nothing here holds a database connection while it waits on the network: a claim, the
subscriptions and each attempt's record are short statements of their own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from tortoise.transactions import in_transaction

from domain import db
from domain.clock import clock
from domain.crypto import keyring
from domain.models import WebhookDeliveryState, WebhookSubscription
from domain.settings import Settings, get_settings
from domain.webhooks import addresses, signing

log = logging.getLogger(__name__)

# A batch is claimed only when each of its deliveries can start at once: a job then runs
# at most CONCURRENCY requests and holds no claim it is not working on, so a subscription
# deleted meanwhile gets no new request, and a job ends within one round of its budget.
CONCURRENCY = 10
CLAIM_BATCH = CONCURRENCY
# Longer than a delivery may take (the host's lookup, at most 10 s, then twice
# webhooks_timeout_seconds, at most 30 s): a live worker finishes before anyone else may
# take its claims.
LEASE = timedelta(seconds=90)
JOB_BUDGET_SECONDS = 60.0
# The longest a delivery job runs: its budget, then the round under way.
JOB_LONGEST_SECONDS = JOB_BUDGET_SECONDS + LEASE.total_seconds()
# 'Now' is the database's clock as each process measures it, a few milliseconds apart from one
# process (or measurement) to the next: a delivery written a moment ago counts as due.
CLOCK_SLACK = timedelta(seconds=1)
SECRET_PURPOSE = "webhook-secret"
USER_AGENT = "invitations-webhooks/1"

_CLAIM = """UPDATE webhook_deliveries SET claimed_by = $2, next_attempt_at = $3
WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending'
    AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT {limit:d})
  AND state = 'pending' AND next_attempt_at <= $1
RETURNING id, subscription_id, event_id, event_type, occurred_at, invitation_id, user_id,
  import_id, attempts"""
_DONE = """UPDATE webhook_deliveries SET state = $2, attempts = attempts + 1, last_status = $3,
  last_error = $4, next_attempt_at = $5, delivered_at = $6, claimed_by = NULL
WHERE id = $1 AND state = 'pending'"""
_ATTEMPT = """INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error,
  duration_ms) VALUES ($1, $2, $3, $4, $5)"""


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: int
    url: str
    secret: str | None  # None: the key that encrypted it is gone (set a new secret)
    active: bool


def retry_delay(settings: Settings, attempts: int) -> float:
    """The wait before the next try after `attempts` failed ones: base, 2x, 4x ... capped."""
    return float(
        min(
            settings.webhooks_retry_base_seconds * 2 ** max(attempts - 1, 0),
            settings.webhooks_retry_max_seconds,
        )
    )


def payload(row: dict[str, Any]) -> bytes:
    """The body: the event's id, type, time and the ids it is about, nothing else."""
    occurred = db.as_datetime(row["occurred_at"])
    assert occurred is not None
    data = {
        key: int(row[column])
        for key, column in (
            ("invitationId", "invitation_id"),
            ("userId", "user_id"),
            ("importId", "import_id"),
        )
        if row[column] is not None
    }
    body = {
        "id": row["event_id"],
        "type": row["event_type"],
        "timestamp": occurred.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":")).encode()


async def deliver_due(worker: str, *, budget_seconds: float = JOB_BUDGET_SECONDS) -> DeliveryReport:
    """Deliver what is due, a batch at a time, until nothing is or the time budget is spent
    (the cron asks for another job for the rest)."""
    settings = get_settings()
    report = DeliveryReport()
    started = time.monotonic()
    timeout = httpx.Timeout(settings.webhooks_timeout_seconds)
    async with httpx.AsyncClient(
        timeout=timeout, follow_redirects=False, trust_env=False, verify=True
    ) as client:
        while time.monotonic() - started < budget_seconds:
            rows = await _claim(worker)
            if not rows:
                break
            endpoints = await _endpoints({int(row["subscription_id"]) for row in rows})
            await _deliver_batch(client, settings, rows, endpoints, report)
    return report


async def _deliver_batch(
    client: httpx.AsyncClient,
    settings: Settings,
    rows: list[dict[str, Any]],
    endpoints: dict[int, Endpoint],
    report: DeliveryReport,
) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(row: dict[str, Any]) -> None:
        async with gate:
            await _deliver(client, settings, row, endpoints, report)

    async with asyncio.TaskGroup() as group:
        for row in rows:
            group.create_task(one(row))


async def _claim(worker: str) -> list[dict[str, Any]]:
    now = await clock.now()
    return await db.connection().execute_query_dict(
        db.sql(_CLAIM.format(limit=CLAIM_BATCH)), [now + CLOCK_SLACK, worker, now + LEASE]
    )


async def _endpoints(ids: set[int]) -> dict[int, Endpoint]:
    found = await WebhookSubscription.filter(id__in=sorted(ids))
    ring = keyring(SECRET_PURPOSE)

    def secret_of(subscription: WebhookSubscription) -> str | None:
        try:
            return ring.decrypt(subscription.secret_encrypted)
        except ValueError:
            return None

    return {s.id: Endpoint(s.id, s.url, secret_of(s), s.active) for s in found}


async def _deliver(
    client: httpx.AsyncClient,
    settings: Settings,
    row: dict[str, Any],
    endpoints: dict[int, Endpoint],
    report: DeliveryReport,
) -> None:
    delivery_id = int(row["id"])
    endpoint = endpoints.get(int(row["subscription_id"]))
    if endpoint is None or not endpoint.active:
        await _record(
            row,
            None,
            "Not delivered: the subscription was turned off.",
            0,
            report,
            final=True,
            attempted=False,
        )
        return
    body = payload(row)
    attempted = time.monotonic()
    status: int | None = None
    error = ""
    final = False
    try:
        if endpoint.secret is None:
            raise addresses.Refused(
                "the secret cannot be read (the key that encrypted it is gone): set a new one."
            )
        target = await addresses.resolve(endpoint.url, settings)
        status = await _post(client, settings, endpoint, target, str(row["event_id"]), body)
        if not 200 <= status < 300:
            error = f"The receiver answered {status}."
    except addresses.Refused as refused:
        error = f"Refused: {refused}"
        final = refused.permanent
    except (httpx.HTTPError, TimeoutError) as failure:
        error = _error_text(failure)
    duration_ms = int((time.monotonic() - attempted) * 1000)
    log.info(
        "webhook delivery %d (subscription %d, %s): %s in %d ms",
        delivery_id,
        endpoint.id,
        row["event_type"],
        status if status is not None else "no answer",
        duration_ms,
    )
    await _record(row, status, error, duration_ms, report, final=final)


async def _post(
    client: httpx.AsyncClient,
    settings: Settings,
    endpoint: Endpoint,
    target: addresses.Target,
    message_id: str,
    body: bytes,
) -> int:
    secret = endpoint.secret
    assert secret is not None
    timestamp = int(clock.local_now().timestamp())
    url = httpx.URL(endpoint.url)
    default_port = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    host_header = host if target.port == default_port else f"{host}:{target.port}"
    # The answer's status is all that counts: its body is never read (a receiver cannot make
    # the worker download anything), and the whole exchange is bounded, however slowly the
    # receiver trickles its bytes.
    async with (
        asyncio.timeout(2 * settings.webhooks_timeout_seconds),
        client.stream(
            "POST",
            url.copy_with(host=target.address),
            content=body,
            headers={
                "Host": host_header,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "webhook-id": message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signing.sign(secret, message_id, timestamp, body),
            },
            extensions={"sni_hostname": target.host},
        ) as response,
    ):
        return response.status_code


def _error_text(error: Exception) -> str:
    # The type and what the connection said; never the request (its URL may carry a query).
    timed_out = isinstance(error, httpx.TimeoutException | TimeoutError)
    text = "" if timed_out else str(error).strip()
    kind = "No answer in time" if timed_out else "No answer"
    return f"{kind} ({type(error).__name__}{': ' + text if text else ''})."[:500]


async def _record(
    row: dict[str, Any],
    status: int | None,
    error: str,
    duration_ms: int,
    report: DeliveryReport,
    *,
    final: bool,
    attempted: bool = True,
) -> None:
    settings = get_settings()
    now = await clock.now()
    occurred = db.as_datetime(row["occurred_at"])
    assert occurred is not None
    attempts = int(row["attempts"]) + 1
    if not error:
        state, next_at, delivered_at = WebhookDeliveryState.DELIVERED, None, now
        report.delivered += 1
    elif final or now - occurred >= timedelta(hours=settings.webhooks_give_up_hours):
        state, next_at, delivered_at = WebhookDeliveryState.FAILED, None, None
        report.failed += 1
    else:
        state, delivered_at = WebhookDeliveryState.PENDING, None
        next_at = now + timedelta(seconds=retry_delay(settings, attempts))
        report.retrying += 1
    async with in_transaction() as connection:
        updated, _ = await connection.execute_query(
            db.sql(_DONE),
            [int(row["id"]), state.value, status, error[:500], next_at, delivered_at],
        )
        # Gone meanwhile (its subscription deleted during the request): nothing to record.
        if attempted and updated:
            await connection.execute_query(
                db.sql(_ATTEMPT), [int(row["id"]), now, status, error[:500], duration_ms]
            )


async def due(now: datetime | None = None) -> bool:
    """Whether some delivery is due (the cron then asks for a delivery job)."""
    moment = (now or await clock.now()) + CLOCK_SLACK
    rows = await db.connection().execute_query_dict(
        db.sql(
            "SELECT 1 AS due FROM webhook_deliveries"
            " WHERE state = 'pending' AND next_attempt_at <= $1 LIMIT 1"
        ),
        [moment],
    )
    return bool(rows)


async def prune() -> int:
    """Delivered and failed deliveries older than webhooks_keep_days go, with their attempts."""
    cutoff = await clock.now() - timedelta(days=get_settings().webhooks_keep_days)
    async with in_transaction() as connection:
        old = "SELECT id FROM webhook_deliveries WHERE state <> 'pending' AND occurred_at < $1"
        await connection.execute_query(
            db.sql(f"DELETE FROM webhook_attempts WHERE delivery_id IN ({old})"),  # noqa: S608
            [cutoff],
        )
        count, _ = await connection.execute_query(
            db.sql("DELETE FROM webhook_deliveries WHERE state <> 'pending' AND occurred_at < $1"),
            [cutoff],
        )
    return int(count)
