"""Job functions. Each is idempotent: arq may run a job again after a crash."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from arq import Retry

from domain import outbox
from domain.imports import service as imports
from domain.invitations import delivery
from domain.mail.mailer import DeliveryError, Mailer
from domain.security.ratelimit import Limiter
from domain.settings import Settings
from domain.users import mails as user_mails
from domain.users import registrations, resets

log = logging.getLogger(__name__)

Ctx = dict[str, Any]
SWEEP_LOCK = "invitations:sweep-lock"


def retry_delay(settings: Settings, job_try: int) -> float:
    """Exponential backoff: base, 2x, 4x, ... capped at an hour."""
    return float(min(settings.send_retry_base_seconds * 2 ** (job_try - 1), 3600))


async def _deliver(
    ctx: Ctx,
    send: Callable[[], Awaitable[Any]],
    on_failure: Callable[[DeliveryError, bool], Awaitable[None]] | None = None,
) -> None:
    """Run a mail-sending service; retry with backoff, record the failure after the last try."""
    settings: Settings = ctx["settings"]
    job_try: int = ctx.get("job_try", 1)
    try:
        async with outbox.unit_of_work(ctx["redis"]):
            await send()
    except DeliveryError as error:
        final = error.permanent or job_try >= settings.send_max_tries
        if on_failure is not None:
            await on_failure(error, final)
        if final:
            log.warning("job %s gave up after %d tries", ctx.get("job_id"), job_try)
            return
        log.info("job %s will retry (try %d)", ctx.get("job_id"), job_try)
        raise Retry(defer=retry_delay(settings, job_try)) from error


def _mailer(ctx: Ctx) -> Mailer:
    mailer: Mailer = ctx["mailer"]
    return mailer


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
    """The mails of new invitations, a batch at a time."""
    await _send(ctx, list(invitation_ids), send_no)


async def send_invitation(ctx: Ctx, invitation_id: int, send_no: int) -> None:
    """One invitation's mail: a resend, or a send the sweep recovered."""
    await _send(ctx, [invitation_id], send_no)


async def _send(ctx: Ctx, invitation_ids: list[int], send_no: int) -> None:
    settings: Settings = ctx["settings"]
    job_try: int = ctx.get("job_try", 1)
    outcome = await delivery.send_invitations(
        invitation_ids, send_no, _mailer(ctx), final_try=job_try >= settings.send_max_tries
    )
    if outcome.failed:
        log.warning("job %s: %d mails failed for good", ctx.get("job_id"), outcome.failed)
    if outcome.retry:
        log.info("job %s will retry (try %d)", ctx.get("job_id"), job_try)
        raise Retry(defer=retry_delay(settings, job_try))


async def send_reminder(ctx: Ctx, invitation_id: int, send_no: int) -> None:
    async def failed(error: DeliveryError, final: bool) -> None:
        if final:
            await delivery.record_reminder_failure(invitation_id, send_no, error)

    await _deliver(
        ctx, lambda: delivery.send_reminder(invitation_id, send_no, _mailer(ctx)), failed
    )


async def sweep(ctx: Ctx) -> None:
    """Every minute: expirations, lost sends, due reminders. One runner at a time."""
    lock = ctx["redis"].lock(SWEEP_LOCK, timeout=300, blocking=False)
    if not await lock.acquire():
        log.info("sweep skipped: another worker is sweeping")
        return
    try:
        async with outbox.unit_of_work(ctx["redis"]):
            report = await delivery.sweep()
        log.info(
            "sweep: %d expired, %d sends and %d reminders enqueued",
            report.expired,
            report.sends_enqueued,
            report.reminders_enqueued,
        )
    finally:
        await lock.release()


async def import_invitations(ctx: Ctx, import_id: int) -> None:
    """Check and write one uploaded Excel file; its sends are enqueued once it committed."""
    try:
        async with outbox.unit_of_work(ctx["redis"]):
            await imports.run_import(import_id, limiter=Limiter(ctx["redis"]))
    except Exception as error:
        # The type only: an error's message can quote the file's addresses or names.
        log.error("import %s stopped on %s", import_id, type(error).__name__)
        await imports.record_crash(import_id)


async def recover_imports(ctx: Ctx) -> None:
    """Every minute: enqueue again imports whose job was lost, fail those whose worker died."""
    async with outbox.unit_of_work(ctx["redis"]):
        touched = await imports.recover_imports()
    if touched:
        log.info("recovered %d imports", touched)
