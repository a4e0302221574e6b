"""Job functions. Each is idempotent: arq may run a job again after a crash."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from arq import Retry
from redis.exceptions import LockError

from domain import db, outbox
from domain.imports import service as imports
from domain.invitations import delivery
from domain.mail.mailer import DeliveryError, Mailer
from domain.mail.relay import RelayGate
from domain.security.ratelimit import Limiter
from domain.settings import Settings, get_settings
from domain.users import mails as user_mails
from domain.users import registrations, resets
from domain.webhooks import delivery as webhook_delivery
from domain.webhooks import events as webhook_events

log = logging.getLogger(__name__)

Ctx = dict[str, Any]
SWEEP_LOCK = "invitations:sweep-lock"
WEBHOOKS_LOCK = "invitations:webhooks-lock"
WEBHOOKS_AGAIN = "invitations:webhooks-again"


def _mailer(ctx: Ctx) -> Mailer:
    mailer: Mailer = ctx["mailer"]
    return mailer


def _database_retry(ctx: Ctx) -> float:
    settings: Settings = ctx.get("settings") or get_settings()
    return settings.worker_database_retry_seconds


def _waited(ctx: Ctx) -> float:
    """Seconds since the job was first enqueued (arq keeps it across retries)."""
    enqueued: datetime | None = ctx.get("enqueue_time")
    return time.time() - enqueued.timestamp() if enqueued else 0.0


async def _deliver(
    ctx: Ctx,
    send: Callable[[], Awaitable[Any]],
    on_failure: Callable[[DeliveryError, bool], Awaitable[None]] | None = None,
) -> None:
    """Run a service that sends one mail (a reminder, an account's mail). A refusal for now
    is tried again with capped backoff, for up to send_give_up_hours; while the relay is
    down the job waits for it without trying."""
    settings: Settings = ctx["settings"]
    job_try: int = ctx.get("job_try", 1)
    gate = _mailer(ctx).gate
    pause = await gate.remaining()
    if pause > 0:
        raise Retry(defer=pause)
    try:
        async with outbox.unit_of_work(ctx["redis"]):
            await send()
    except DeliveryError as error:
        final = error.permanent or _waited(ctx) >= settings.send_give_up_hours * 3600
        if on_failure is not None:
            await on_failure(error, final)
        if final:
            log.warning("job %s gave up after %d tries", ctx.get("job_id"), job_try)
            return
        defer = await gate.remaining() if error.relay else delivery.retry_delay(settings, job_try)
        log.info("job %s will retry (try %d)", ctx.get("job_id"), job_try)
        raise Retry(defer=defer) from error
    except Exception as error:
        if db.is_connection_error(error):
            raise Retry(defer=_database_retry(ctx)) from error
        raise


async def send_registration_code(ctx: Ctx, registration_id: int, send_no: int) -> None:
    await _deliver(
        ctx, lambda: user_mails.send_registration_code(registration_id, send_no, _mailer(ctx))
    )


async def send_password_reset(ctx: Ctx, reset_id: int) -> None:
    await _deliver(ctx, lambda: user_mails.send_password_reset(reset_id, _mailer(ctx)))


async def send_email_change_code(ctx: Ctx, change_id: int) -> None:
    await _deliver(ctx, lambda: user_mails.send_email_change_code(change_id, _mailer(ctx)))


async def send_email_changed_notice(ctx: Ctx, change_id: int) -> None:
    await _deliver(ctx, lambda: user_mails.send_email_changed_notice(change_id, _mailer(ctx)))


async def sweep_accounts(ctx: Ctx) -> None:
    """Every ten minutes: registrations and reset links past their time go."""
    dropped = await registrations.drop_expired()
    deleted = await resets.drop_expired()
    if dropped or deleted:
        log.info("accounts sweep: %d registrations and %d reset links dropped", dropped, deleted)


async def send_invitations(ctx: Ctx, send_no: int, *invitation_ids: int) -> None:
    """The mails of new invitations, a batch at a time (and the sweep's recoveries)."""
    await _send(ctx, list(invitation_ids), send_no)


async def send_invitation(ctx: Ctx, invitation_id: int, send_no: int) -> None:
    """One invitation's mail: a resend."""
    await _send(ctx, [invitation_id], send_no)


async def _send(ctx: Ctx, invitation_ids: list[int], send_no: int) -> None:
    """Runs again (arq's Retry) while some of its sends are deferred or the relay is down:
    the database decides when each send is due and when it is given up."""
    try:
        outcome = await delivery.send_invitations(invitation_ids, send_no, _mailer(ctx))
    except Exception as error:
        if db.is_connection_error(error):
            log.warning("job %s: the database connection failed, retrying", ctx.get("job_id"))
            raise Retry(defer=_database_retry(ctx)) from error
        raise
    if outcome.failed:
        log.warning("job %s: %d mails failed for good", ctx.get("job_id"), outcome.failed)
    if outcome.retry_in is not None:
        log.info(
            "job %s: %d sent, %d deferred, next try in %.1f s",
            ctx.get("job_id"),
            outcome.sent,
            outcome.deferred,
            outcome.retry_in,
        )
        raise Retry(defer=outcome.retry_in)


async def send_reminder(ctx: Ctx, invitation_id: int, send_no: int) -> None:
    async def failed(error: DeliveryError, final: bool) -> None:
        if final:
            await delivery.record_reminder_failure(invitation_id, send_no, error)

    await _deliver(
        ctx, lambda: delivery.send_reminder(invitation_id, send_no, _mailer(ctx)), failed
    )


async def sweep(ctx: Ctx) -> None:
    """Every 20 seconds: expirations, lost sends and dead workers' claims, deferrals past
    the day, due reminders. One runner at a time."""
    lock = ctx["redis"].lock(SWEEP_LOCK, timeout=300, blocking=False)
    if not await lock.acquire():
        log.debug("sweep skipped: another worker is sweeping")
        return
    try:
        paused = await RelayGate(ctx["settings"], ctx["redis"]).remaining() > 0
        async with outbox.unit_of_work(ctx["redis"]):
            report = await delivery.sweep(relay_paused=paused)
    finally:
        await lock.release()
    if report.expired or report.sends_enqueued or report.reminders_enqueued or report.given_up:
        log.info(
            "sweep: %d expired, %d sends and %d reminders enqueued, %d deferrals given up",
            report.expired,
            report.sends_enqueued,
            report.reminders_enqueued,
            report.given_up,
        )


async def import_invitations(ctx: Ctx, import_id: int) -> None:
    """Check and write one uploaded Excel file; its sends are enqueued once it committed.
    A running import beats every few seconds (`imports.heartbeat`): the cron notices a dead
    one within a minute. A dropped database connection runs it again (nothing of it was
    committed), a bounded number of times."""
    runner = imports.Runner(import_id)
    try:
        async with runner.beating(), outbox.unit_of_work(ctx["redis"]):
            await imports.run_import(import_id, limiter=Limiter(ctx["redis"]), runner=runner)
    except imports.ImportSuperseded:
        log.warning("import %s: another run took over", import_id)
    except Exception as error:
        # The type only: an error's message can quote the file's addresses or names.
        log.error("import %s stopped on %s", import_id, type(error).__name__)
        if db.is_connection_error(error) and await imports.may_run_again(import_id):
            raise Retry(defer=_database_retry(ctx)) from error
        await imports.record_crash(import_id)


async def recover_imports(ctx: Ctx) -> None:
    """Every 20 seconds: enqueue again imports whose job was lost or whose worker died (its
    heartbeat stopped), and fail those that keep dying."""
    async with outbox.unit_of_work(ctx["redis"]):
        touched = await imports.recover_imports()
    if touched:
        log.info("recovered %d imports", touched)


async def deliver_webhooks(ctx: Ctx) -> None:
    """Deliver the events due to the host platform (a minute's worth at most).

    One delivery job runs at a time, whatever the number of workers and of jobs asked for
    (every change that writes events asks for one): a receiver that hangs then holds one
    worker slot and CONCURRENCY requests, never the slots and database connections that
    sends and imports need. A job that finds another running leaves a note: the running one
    asks for one more job when it ends, for the deliveries written after it looked."""
    redis = ctx["redis"]
    await redis.set(WEBHOOKS_AGAIN, 1, ex=int(webhook_delivery.JOB_LONGEST_SECONDS))
    lock = redis.lock(WEBHOOKS_LOCK, timeout=webhook_delivery.JOB_LONGEST_SECONDS, blocking=False)
    if not await lock.acquire():
        log.debug("webhooks: another job is delivering")
        return
    try:
        await redis.delete(WEBHOOKS_AGAIN)
        await _deliver_webhooks(ctx)
    finally:
        with contextlib.suppress(LockError):
            await lock.release()
    if await redis.delete(WEBHOOKS_AGAIN):
        await outbox.flush(
            redis, [outbox.Job("deliver_webhooks", (), webhook_events.delivery_job_id())]
        )


async def _deliver_webhooks(ctx: Ctx) -> None:
    try:
        report = await webhook_delivery.deliver_due(delivery.worker_id())
    except Exception as error:
        if db.is_connection_error(error):
            raise Retry(defer=_database_retry(ctx)) from error
        raise
    if report.delivered or report.retrying or report.failed:
        log.info(
            "webhooks: %d delivered, %d to retry, %d failed",
            report.delivered,
            report.retrying,
            report.failed,
        )


async def prune_webhooks(ctx: Ctx) -> None:
    """Every hour: deliveries past the time admins see them go."""
    pruned = await webhook_delivery.prune()
    if pruned:
        log.info("webhooks: %d old deliveries pruned", pruned)


async def sweep_webhooks(ctx: Ctx) -> None:
    """Every 5 seconds: a delivery job when events are due (retries, lost jobs, dead
    workers' claims)."""
    if await webhook_delivery.due():
        await outbox.flush(
            ctx["redis"], [outbox.Job("deliver_webhooks", (), webhook_events.delivery_job_id())]
        )
