"""Shared fixtures: database, Redis, SMTP sink, worker, GraphQL client."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker
from tortoise import Tortoise
from tortoise.contrib.test import truncate_all_models

from api.app import create_app
from domain import db
from domain.clock import clock
from domain.settings import get_settings
from tests.conftest import DATABASE_KIND, DATABASE_URL, SMTP_PORT

# ---------------------------------------------------------------------------------------------
# SMTP sink


@dataclass
class CaughtMail:
    envelope_from: str
    recipients: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None
        return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


@dataclass
class SmtpSink:
    """aiosmtpd handler keeping every message; `refuse` makes it answer with an error."""

    mails: list[CaughtMail] = field(default_factory=list)
    refuse: tuple[int, str] | None = None
    refuse_times: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        # Like most relays, it offers PIPELINING (RFC 2920): the mailer's usual path.
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse is not None and self.refuse_times != 0:
            self.refuse_times -= 1
            return f"{self.refuse[0]} {self.refuse[1]}"
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.mails.append(
            CaughtMail(envelope.mail_from, list(envelope.rcpt_tos), raw, message)  # type: ignore[arg-type]
        )
        return "250 OK"

    def clear(self) -> None:
        self.mails.clear()
        self.refuse = None
        self.refuse_times = 0

    def to(self, address: str) -> list[CaughtMail]:
        return [mail for mail in self.mails if address in mail.recipients]


@pytest.fixture(scope="session")
def smtp_sink() -> Any:
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield sink
    controller.stop()


# ---------------------------------------------------------------------------------------------
# Database and Redis


async def _reset_postgres(url: str) -> None:
    dsn = url.replace("postgres://", "postgresql://", 1)
    name = dsn.rsplit("/", 1)[1]
    admin = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/postgres")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(scope="session", autouse=True)
async def no_task_outlives_the_session() -> AsyncIterator[None]:
    """The tests share one event loop. At its end, what a test left running (a worker's loop
    it did not stop) is cancelled until it is done, for a few seconds at most, and named in a
    warning: a task that needs more than one cancellation would otherwise keep the loop's own
    shutdown, which cancels once and waits for ever, from ending the run."""
    yield
    current = asyncio.current_task()
    for _ in range(50):
        left = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
        if not left:
            return
        for task in left:
            task.cancel()
        await asyncio.wait(left, timeout=0.1)
    for task in left:
        if not task.done():
            warnings.warn(f"a task outlived the tests and its cancellation: {task!r}", stacklevel=1)


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[None]:
    """A fresh database built by the committed migrations, once per test session."""
    if DATABASE_KIND == "postgres":
        await _reset_postgres(DATABASE_URL)
    config = db.tortoise_config(DATABASE_URL)
    await db.migrate(config)
    await Tortoise.close_connections()
    await Tortoise.init(config=config, _enable_global_fallback=True)
    yield
    await Tortoise.close_connections()


@pytest.fixture(scope="session")
async def redis() -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(get_settings().redis_url))
    yield pool
    await pool.aclose()


async def _end_leftover_statements() -> None:
    """Between tests no statement of this database runs, except one left mid-way by a test (a
    connection its code abandoned): it would hold its locks and make TRUNCATE wait forever, so
    the whole suite. Such a backend is ended, and named in a warning, not silently."""
    if DATABASE_KIND != "postgres":
        return
    rows = await db.connection().execute_query_dict(
        "SELECT pid, state, wait_event, left(query, 200) AS query FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND state NOT IN ('idle') AND backend_type = 'client backend'"
        " AND now() - state_change > interval '2 seconds'"
    )
    for row in rows:
        warnings.warn(
            f"a statement left running by an earlier test was ended: {row['state']},"
            f" waiting for {row['wait_event']}: {row['query']}",
            stacklevel=1,
        )
        await db.connection().execute_query("SELECT pg_terminate_backend($1)", [int(row["pid"])])


@pytest.fixture(autouse=True)
async def clean_state(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test starts with empty tables, an empty Redis db, an empty sink, real time."""
    clock.reset()
    if "database" in request.fixturenames:
        await _end_leftover_statements()
        await truncate_all_models()
    if "redis" in request.fixturenames:
        pool: ArqRedis = request.getfixturevalue("redis")
        await pool.flushdb()
    if "smtp_sink" in request.fixturenames:
        request.getfixturevalue("smtp_sink").clear()
    yield
    clock.reset()


# ---------------------------------------------------------------------------------------------
# Worker


@pytest.fixture
def run_worker(database: None, redis: ArqRedis, smtp_sink: SmtpSink) -> Callable[..., Any]:
    """Run a real arq worker in burst mode until the queue is empty (deferred jobs included)."""
    from workers.settings import WorkerSettings, shutdown, startup

    async def run(**overrides: Any) -> Worker:
        worker = Worker(
            functions=WorkerSettings.functions,
            cron_jobs=overrides.pop("cron_jobs", []),
            redis_pool=redis,
            burst=True,
            poll_delay=0.01,
            handle_signals=False,
            on_startup=startup,
            on_shutdown=shutdown,
            max_jobs=overrides.pop("max_jobs", 20),
            keep_result=WorkerSettings.keep_result,
            ctx={"database_ready": True, **overrides.pop("ctx", {})},
            **overrides,
        )
        try:
            await worker.main()
        finally:
            # arq's main() leaves its shutdown hook to close(), which would also close the
            # tests' shared Redis pool: the hook itself ends what startup began (the claims'
            # renewal loop, the mailer), or each run would leave them running in the session.
            await shutdown(worker.ctx)
        return worker

    return run


# ---------------------------------------------------------------------------------------------
# GraphQL over HTTP


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient
    token: str | None = None

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        send_headers = dict(headers or {})
        bearer = token or self.token
        if bearer:
            send_headers["Authorization"] = f"Bearer {bearer}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=send_headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """Post and return `data`, failing the test on any top-level error."""
        body = await self.post(query, variables, token=token)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def as_user(self, token: str) -> GraphQLClient:
        return GraphQLClient(self.http, token)


@pytest.fixture
async def app(database: None, redis: ArqRedis) -> Any:
    application = create_app(get_settings(), manage_database=False)
    application.state.redis = redis
    return application


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


# ---------------------------------------------------------------------------------------------
# Users


SIGN_IN = """
mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) {
    session { token user { id email } }
    errors { code message field }
  }
}
"""

ADMIN_PASSWORD = "a sturdy admin passphrase 42"


@pytest.fixture
async def admin(gql: GraphQLClient) -> GraphQLClient:
    """A GraphQL client signed in as a fresh admin."""
    from domain.users.service import create_admin

    await create_admin(
        email="admin@participate.example.org",
        password=ADMIN_PASSWORD,
        first_name="Ada",
        last_name="Admin",
    )
    data = await gql(
        SIGN_IN, {"email": "admin@participate.example.org", "password": ADMIN_PASSWORD}
    )
    return gql.as_user(data["signIn"]["session"]["token"])


@pytest.fixture
async def admin_user(database: None) -> Any:
    """An admin's account (not signed in), for what the tests run in process: an import."""
    from domain.users.service import create_admin

    return await create_admin(email="importer@example.org", password="imports all day 2026")


async def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


# A mailed code as the mail shows it: eight digits in two groups ("1234 5678"), typed as is.
CODE_IN_TEXT = re.compile(r"^\s{4}(\d{4} \d{4})\s*$", re.MULTILINE)


def wrong_code(code: str, by: int = 1) -> str:
    """Another code of the same length than a mailed one (its digits plus `by`)."""
    digits = code.replace(" ", "")
    return f"{(int(digits) + by) % 10 ** len(digits):0{len(digits)}d}"
