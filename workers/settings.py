"""WorkerSettings for `arq workers.settings.WorkerSettings` (or `invitations worker`)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import func

from domain import db
from domain.mail.mailer import Mailer
from domain.settings import get_settings
from workers import jobs

log = logging.getLogger(__name__)


async def startup(ctx: dict[str, Any]) -> None:
    settings = ctx.get("settings") or get_settings()
    ctx["settings"] = settings
    # Tests run the worker inside a process whose database is already up.
    if not ctx.get("database_ready"):
        await db.init(settings)
        ctx["owns_database"] = True
    ctx["mailer"] = Mailer(settings)


async def shutdown(ctx: dict[str, Any]) -> None:
    mailer: Mailer | None = ctx.get("mailer")
    if mailer is not None:
        await mailer.close()
    if ctx.get("owns_database"):
        await db.close()


FUNCTIONS = [
    func(jobs.send_registration_code, name="send_registration_code", max_tries=50),
    func(jobs.send_password_reset, name="send_password_reset", max_tries=50),
    func(jobs.send_email_change_code, name="send_email_change_code", max_tries=50),
    func(jobs.send_email_changed_notice, name="send_email_changed_notice", max_tries=50),
    func(jobs.sweep_accounts, name="sweep_accounts", max_tries=1),
    func(jobs.send_invitations, name="send_invitations", max_tries=50),
    func(jobs.send_invitation, name="send_invitation", max_tries=50),
    func(jobs.send_reminder, name="send_reminder", max_tries=50),
    func(jobs.sweep, name="sweep", max_tries=1),
    # A second try only if a worker died mid-import; an import never runs 15 minutes.
    func(jobs.import_invitations, name="import_invitations", max_tries=2, timeout=900),
]
# arq's cron jobs are unique per run time, and the sweep takes a Redis lock besides.
CRON_JOBS = [
    cron(jobs.sweep, name="cron:sweep", second=0, run_at_startup=True, timeout=300),
    cron(jobs.recover_imports, name="cron:imports", second=30, timeout=60),
    cron(
        jobs.sweep_accounts,
        name="cron:accounts",
        minute={0, 10, 20, 30, 40, 50},
        second=15,
        timeout=60,
    ),
]


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url)


class WorkerSettings:
    functions: ClassVar[list[Any]] = FUNCTIONS
    cron_jobs: ClassVar[list[Any]] = CRON_JOBS
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings()
    max_jobs = get_settings().worker_max_jobs
    poll_delay = get_settings().worker_poll_delay_seconds
    job_timeout = 300
    keep_result = 3600
    # The compose health check reads this key: keep it fresh.
    health_check_interval = 60
