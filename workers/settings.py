"""WorkerSettings for `arq workers.settings.WorkerSettings` (or `invitations worker`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from signal import Signals
from typing import Any, ClassVar, TypeVar

from arq.connections import RedisSettings
from arq.constants import default_queue_name
from arq.cron import cron
from arq.worker import Worker, func, get_kwargs
from prometheus_client import start_http_server
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain import db, logs, metrics
from domain.imports.service import MAX_RUNS
from domain.invitations import delivery
from domain.mail.mailer import Mailer
from domain.mail.relay import RelayGate
from domain.settings import Settings, get_settings
from domain.webhooks import delivery as webhook_delivery
from workers import jobs
from workers.heartbeat import heartbeat_key

log = logging.getLogger(__name__)
T = TypeVar("T")


async def _keep_claims() -> None:
    """Renew the lease of the sends this process holds, for as long as it lives: a dead
    worker's claims run out within SEND_LEASE and the sweep hands them on."""
    while True:
        await asyncio.sleep(delivery.LEASE_RENEW_SECONDS)
        try:
            await delivery.claims.renew()
        except Exception as error:  # the database is down: the sends themselves will notice
            log.warning("claims not renewed (%s)", type(error).__name__)


async def startup(ctx: dict[str, Any]) -> None:
    settings = ctx.get("settings") or get_settings()
    ctx["settings"] = settings
    # Tests run the worker inside a process whose database is already up.
    if not ctx.get("database_ready"):
        await db.init(settings)
        ctx["owns_database"] = True
    ctx["mailer"] = Mailer(settings, gate=RelayGate(settings, ctx["redis"]))
    ctx["claims_renewal"] = asyncio.get_running_loop().create_task(_keep_claims())
    if settings.worker_metrics_port:
        ctx["metrics_server"] = serve_metrics(settings, ctx["redis"])


def serve_metrics(settings: Settings, redis: Any) -> MetricsServer:
    """This worker's metrics over HTTP (INVITES_WORKER_METRICS_PORT), for Prometheus to scrape
    each worker itself; the queue's gauges are read again every QUEUE_EVERY seconds."""
    server, thread = start_http_server(
        settings.worker_metrics_port, addr=settings.worker_metrics_host
    )
    log.info("metrics at http://%s:%d/metrics", settings.worker_metrics_host, server.server_port)

    async def measure() -> None:
        while True:
            try:
                await metrics.measure_queue(redis, default_queue_name)
            except Exception as error:  # Redis is away: the worker itself waits for it
                log.warning("queue not measured (%s)", type(error).__name__)
            await asyncio.sleep(QUEUE_EVERY)

    return MetricsServer(server, thread, asyncio.get_running_loop().create_task(measure()))


QUEUE_EVERY = 10.0


@dataclass
class MetricsServer:
    server: Any
    thread: threading.Thread
    measuring: asyncio.Task[None]

    async def stop(self) -> None:
        self.measuring.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.measuring
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


async def job_started(ctx: dict[str, Any]) -> None:
    """Every log line of a job carries its id (domain.logs): arq runs the job in a task
    created after this hook, which copies this context."""
    logs.job_id.set(ctx.get("job_id"))


async def shutdown(ctx: dict[str, Any]) -> None:
    server: MetricsServer | None = ctx.get("metrics_server")
    if server is not None:
        await server.stop()
    renewal: asyncio.Task[None] | None = ctx.get("claims_renewal")
    if renewal is not None:
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewal
    mailer: Mailer | None = ctx.get("mailer")
    if mailer is not None:
        await mailer.close()
    if ctx.get("owns_database"):
        await db.close()


# Sends run again (arq's Retry) while the relay is down or some of their mails are deferred:
# the database gives up on a mail after send_give_up_hours, not a count of tries. Their
# results are not kept, so the sweep can enqueue a recovery under the same id again.
FUNCTIONS = [
    func(jobs.send_registration_code, name="send_registration_code", max_tries=100_000),
    func(jobs.send_password_reset, name="send_password_reset", max_tries=100_000),
    func(jobs.send_email_change_code, name="send_email_change_code", max_tries=100_000),
    func(jobs.send_email_changed_notice, name="send_email_changed_notice", max_tries=100_000),
    func(jobs.sweep_accounts, name="sweep_accounts", max_tries=1),
    func(jobs.send_invitations, name="send_invitations", max_tries=100_000, keep_result=0),
    func(jobs.send_invitation, name="send_invitation", max_tries=100_000, keep_result=0),
    func(jobs.send_reminder, name="send_reminder", max_tries=100_000),
    func(jobs.sweep, name="sweep", max_tries=1),
    # Runs again after a dropped database connection, a bounded number of times; a dead
    # worker's import is started again by the cron (its heartbeat stopped).
    func(jobs.import_invitations, name="import_invitations", max_tries=MAX_RUNS + 1, timeout=900),
    func(
        jobs.deliver_webhooks,
        name="deliver_webhooks",
        max_tries=1000,
        keep_result=0,
        timeout=webhook_delivery.JOB_LONGEST_SECONDS + 30,
    ),
]
# arq's cron jobs are unique per run time, and the sweep takes a Redis lock besides.
CRON_JOBS = [
    cron(jobs.sweep, name="cron:sweep", second={0, 20, 40}, run_at_startup=True, timeout=300),
    cron(jobs.recover_imports, name="cron:imports", second={10, 30, 50}, timeout=60),
    cron(
        jobs.sweep_accounts,
        name="cron:accounts",
        minute={0, 10, 20, 30, 40, 50},
        second=15,
        timeout=60,
    ),
    cron(jobs.sweep_webhooks, name="cron:webhooks", second=set(range(0, 60, 5)), timeout=30),
    cron(jobs.prune_webhooks, name="cron:webhooks-prune", minute=35, second=25, timeout=300),
]


class _Stopping:
    """Set once the worker is asked to stop (SIGTERM, Ctrl-C)."""

    now = False


class UntilStopped(Retry):
    """Retries forever while the worker runs; once it is asked to stop, a Redis that does not
    answer is tried once, not waited for: a stop (docker stop, Ctrl-C) ends a worker waiting
    for a Redis that is gone, instead of the worker hanging until it is killed."""

    async def call_with_retry(
        self, do: Callable[[], Awaitable[T]], fail: Callable[[Any], Any]
    ) -> T:
        if not _Stopping.now:
            return await super().call_with_retry(do, fail)
        return await Retry(NoBackoff(), 0).call_with_retry(do, fail)


class InvitationsWorker(Worker):
    """arq's worker, stopping even while Redis does not answer (UntilStopped)."""

    def handle_sig(self, signum: Signals) -> None:
        _Stopping.now = True
        super().handle_sig(signum)

    async def close(self) -> None:
        try:
            await super().close()
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            # arq drops its heartbeat before the shutdown hook: ours must still run.
            log.warning("stopping without Redis (%s)", type(error).__name__)
            await shutdown(self.ctx)


def run(*, burst: bool = False) -> None:
    """`invitations worker`: run until stopped."""
    kwargs: dict[str, Any] = {**get_kwargs(WorkerSettings), "burst": burst}  # type: ignore[arg-type]
    InvitationsWorker(**kwargs).run()


def resilient(settings: RedisSettings) -> RedisSettings:
    """A worker waits for Redis when it goes away (a restart, a failover) and goes on: every
    command is retried with backoff (up to 5 s apart) for as long as it takes, instead of
    arq's poll raising and the process exiting. Jobs in progress carry on meanwhile."""
    settings.retry = UntilStopped(ExponentialBackoff(cap=5.0, base=0.1), retries=-1)
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError, OSError]
    settings.conn_retries = 1_000_000
    return settings


def redis_settings() -> RedisSettings:
    return resilient(RedisSettings.from_dsn(get_settings().redis_url))


class WorkerSettings:
    functions: ClassVar[list[Any]] = FUNCTIONS
    cron_jobs: ClassVar[list[Any]] = CRON_JOBS
    on_startup = startup
    on_shutdown = shutdown
    on_job_start = job_started
    redis_settings = redis_settings()
    max_jobs = get_settings().worker_max_jobs
    poll_delay = get_settings().worker_poll_delay_seconds
    job_timeout = 300
    keep_result = 3600
    # `invitations worker --check` (the compose health check, run in this worker's container)
    # reads this worker's own key: keep it fresh.
    health_check_interval = get_settings().worker_heartbeat_seconds
    health_check_key = heartbeat_key()
