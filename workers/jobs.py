"""Job functions. Each is idempotent: arq may run a job again after a crash."""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry

from domain import outbox
from domain.mail.mailer import DeliveryError, Mailer
from domain.settings import Settings
from domain.users import mails as user_mails

log = logging.getLogger(__name__)

Ctx = dict[str, Any]


def retry_delay(settings: Settings, job_try: int) -> float:
    """Exponential backoff: base, 2x, 4x, ... capped at an hour."""
    return float(min(settings.send_retry_base_seconds * 2 ** (job_try - 1), 3600))


async def _deliver(ctx: Ctx, name: str, send: Any) -> None:
    settings: Settings = ctx["settings"]
    try:
        async with outbox.unit_of_work(ctx["redis"]):
            await send
    except DeliveryError as error:
        job_try = ctx.get("job_try", 1)
        if error.permanent or job_try >= settings.send_max_tries:
            log.warning("%s %s gave up after %d tries", name, ctx.get("job_id"), job_try)
            raise
        log.info("%s %s will retry (try %d)", name, ctx.get("job_id"), job_try)
        raise Retry(defer=retry_delay(settings, job_try)) from error


async def send_email_confirmation(ctx: Ctx, confirmation_id: int) -> None:
    mailer: Mailer = ctx["mailer"]
    await _deliver(
        ctx, "send_email_confirmation", user_mails.send_email_confirmation(confirmation_id, mailer)
    )


async def send_account_exists_notice(ctx: Ctx, user_id: int) -> None:
    mailer: Mailer = ctx["mailer"]
    await _deliver(
        ctx, "send_account_exists_notice", user_mails.send_account_exists_notice(user_id, mailer)
    )
