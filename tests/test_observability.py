"""What an operator sees: probes, request ids, JSON logs, traces, security headers, secret files."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import uvicorn
from arq.connections import ArqRedis
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from api.app import create_app
from api.observability import database_address, failure
from domain import db
from domain.clock import clock
from domain.logs import (
    AccessLogPrivacy,
    JsonFormatter,
    RoutinePeriodicJobs,
    WithContext,
    formatter,
    quiet_routine_jobs,
)
from domain.settings import Settings, get_settings, load_settings
from schema.prepared import INVITATION_BY_TOKEN
from tests.browser import _Server
from tests.conftest import _free_port
from tests.fixtures import GraphQLClient, SmtpSink
from tests.invitations_helpers import create

# ---------------------------------------------------------------------------------------------
# Probes


async def test_liveness_answers_without_asking_the_database_or_redis(
    database: None, redis: ArqRedis
) -> None:
    app = create_app(get_settings(), manage_database=False)
    app.state.redis = None  # no Redis at all: the process still answers
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        live = await http.get("/health/live")
        assert live.status_code == 200 and live.json() == {"status": "ok"}
        assert (await http.get("/health/ready")).status_code == 503


async def test_readiness_checks_the_database_redis_and_the_migrations(
    http: httpx.AsyncClient,
) -> None:
    assert await db.pending_migrations() == []
    for path in ("/health/ready", "/health"):
        ready = await http.get(path)
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["status"] == "ok"
        assert (body["database"], body["redis"], body["migrations"]) == ("ok", "ok", "ok")


async def test_readiness_fails_while_redis_cannot_be_reached(database: None) -> None:
    app = create_app(get_settings(), manage_database=False)
    unreachable = Redis.from_url(f"redis://127.0.0.1:{_free_port()}/0", socket_timeout=2)
    app.state.redis = unreachable
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            ready = await http.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["status"] == "unhealthy"
            assert ready.json()["database"] == "ok"
            assert ready.json()["redis"] != "ok"
            assert (await http.get("/health/live")).status_code == 200
    finally:
        await unreachable.aclose()


async def test_readiness_says_in_a_few_words_what_is_wrong_and_logs_it_once_a_change(
    database: None, redis: ArqRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.observability")
    app = create_app(get_settings(), manage_database=False)
    port = _free_port()
    # A password in the URL is never said nor logged.
    down = Redis.from_url(f"redis://:hunter2-secret@127.0.0.1:{port}/0", socket_timeout=2)
    silence = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    silent_port = silence.sockets[0].getsockname()[1]
    silent = Redis.from_url(f"redis://127.0.0.1:{silent_port}/0", socket_timeout=0.3)
    transport = httpx.ASGITransport(app=app)
    answers: list[str] = []

    async def probe(expected_redis: str) -> None:
        ready = await http.get("/health/ready")
        answers.append(ready.text)
        assert ready.status_code == (200 if expected_redis == "ok" else 503)
        assert ready.json()["redis"] == expected_redis
        assert ready.json()["database"] == "ok"

    def logged() -> list[tuple[str, str]]:
        return [
            (record.levelname, record.getMessage())
            for record in caplog.records
            if record.name == "api.observability"
        ]

    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            app.state.redis = down
            for _ in range(3):
                await probe(f"connection refused at 127.0.0.1:{port}")
            refused = ("WARNING", f"not ready: redis: connection refused at 127.0.0.1:{port}")
            assert logged() == [refused]
            app.state.redis = redis
            for _ in range(2):
                await probe("ok")
            assert logged() == [refused, ("INFO", "ready again")]
            # A Redis that takes the connection and never answers.
            app.state.redis = silent
            await probe(f"timed out at 127.0.0.1:{silent_port}")
            await probe(f"timed out at 127.0.0.1:{silent_port}")
            assert logged()[2:] == [
                ("WARNING", f"not ready: redis: timed out at 127.0.0.1:{silent_port}")
            ]
    finally:
        await down.aclose()
        await silent.aclose()
        silence.close()
    assert "hunter2" not in caplog.text and "hunter2" not in "".join(answers)


async def test_a_redis_gone_while_the_service_ran_is_said_as_refused_too(
    database: None, redis: ArqRedis
) -> None:
    """A Redis stopped after the service had spoken with it (a connection in the pool) is said
    in words, as one never there is: `connection closed`, then `connection refused at
    host:port`, never the exception's class name."""
    app = create_app(get_settings(), manage_database=False)
    port = _free_port()
    server = await asyncio.create_subprocess_exec(
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    gone = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=2)
    try:
        for _ in range(50):
            try:
                await gone.ping()
                break
            except Exception:
                await asyncio.sleep(0.1)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            app.state.redis = gone
            assert (await http.get("/health/ready")).json()["redis"] == "ok"
            server.terminate()
            await server.wait()
            # The connection it held is closed; the next one is refused.
            for said in ("connection closed", "connection refused", "connection refused"):
                ready = await http.get("/health/ready")
                assert ready.status_code == 503
                assert ready.json()["redis"] == f"{said} at 127.0.0.1:{port}"
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
        await gone.aclose()


async def test_an_unreachable_database_is_named_by_its_address_never_its_password(
    database: None,
) -> None:
    port = _free_port()
    with pytest.raises(OSError) as refused:
        await asyncpg.connect(f"postgres://invitations:hunter2@127.0.0.1:{port}/invitations")
    assert failure(refused.value, f"127.0.0.1:{port}") == f"connection refused at 127.0.0.1:{port}"
    # The address the probe names: the PostgreSQL server's, none for an SQLite file.
    if db.dialect() == "postgres":
        assert database_address() == "{}:{}".format(*_host_and_port(get_settings()))
    else:
        assert database_address() is None


def _host_and_port(settings: Settings) -> tuple[str, int]:
    url = urlsplit(settings.resolved_database_url)
    return str(url.hostname), url.port or 5432


async def test_the_api_starts_while_redis_is_down_and_says_it_is_not_ready(
    database: None,
) -> None:
    from asgi_lifespan import LifespanManager

    down = f"redis://127.0.0.1:{_free_port()}/0"
    app = create_app(get_settings().model_copy(update={"redis_url": down}), manage_database=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/health/live")).status_code == 200
            ready = await http.get("/health/ready")
            assert ready.status_code == 503 and ready.json()["redis"] != "ok"


# ---------------------------------------------------------------------------------------------
# Request ids and JSON logs


async def test_a_sane_request_id_is_kept_and_anything_else_replaced(
    http: httpx.AsyncClient,
) -> None:
    kept = await http.get("/health/live", headers={"X-Request-ID": "edge-4f1c2a9b77d0"})
    assert kept.headers["x-request-id"] == "edge-4f1c2a9b77d0"
    for given in ("lea@example.org", "x" * 300, "short", "two words here"):
        replaced = await http.get("/health/live", headers={"X-Request-ID": given})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"]), given
    first = (await http.get("/health/live")).headers["x-request-id"]
    second = (await http.get("/health/live")).headers["x-request-id"]
    assert first != second


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The root logger's lines as the service writes them with INVITES_LOG_FORMAT=json."""
    with captured_log(JsonFormatter()) as stream:
        yield stream


@contextmanager
def captured_log(line_format: logging.Formatter) -> Iterator[io.StringIO]:
    """The root logger's lines in this format (domain.logs.formatter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(line_format)
    handler.addFilter(WithContext())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """The app on a real uvicorn, its loggers as `invitations serve` leaves them; its URL."""
    port = _free_port()
    access = logging.getLogger("uvicorn.access")
    privacy = AccessLogPrivacy()
    access.addFilter(privacy)
    # As `invitations serve` leaves them (another test's uvicorn configured its own logging).
    loggers = [logging.getLogger("uvicorn"), access]
    saved = [
        (logger.propagate, logger.level, logger.disabled, logger.handlers) for logger in loggers
    ]
    for logger in loggers:
        logger.propagate, logger.disabled, logger.handlers = True, False, []
        logger.setLevel(logging.INFO)
    server = _Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=True
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        access.removeFilter(privacy)
        for logger, (propagate, level, disabled, handlers) in zip(loggers, saved, strict=True):
            logger.propagate, logger.disabled, logger.handlers = propagate, disabled, handlers
            logger.setLevel(level)


async def test_every_json_log_line_of_a_request_carries_its_request_id(
    database: None, redis: ArqRedis, json_log: io.StringIO
) -> None:
    app = create_app(get_settings(), manage_database=False)
    app.state.redis = redis
    async with serving(app) as url:
        json_log.seek(0)
        json_log.truncate()
        async with httpx.AsyncClient(base_url=url) as http:
            # Refused (no admin signed in): the refusal is logged, then the access line.
            response = await http.post(
                "/graphql?search=lea%40example.org",
                json={"query": "query Listing { invitations(first: 5) { totalCount } }"},
                headers={"X-Request-ID": "trace-0123456789abcdef"},
            )
            assert response.headers["x-request-id"] == "trace-0123456789abcdef"
            await asyncio.sleep(0.05)
    lines = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
    ours = [line for line in lines if line["logger"] in ("schema.errors", "uvicorn.access")]
    assert {line["logger"] for line in ours} == {"schema.errors", "uvicorn.access"}, lines
    for line in lines:
        if line["logger"].startswith(("uvicorn.error", "httpx", "httpcore")):
            continue  # the server's start and stop lines, the test's own client
        assert line.get("request_id") == "trace-0123456789abcdef", line
        assert {"time", "level", "logger", "message"} <= set(line)
    access_line = next(line for line in ours if line["logger"] == "uvicorn.access")
    assert "lea" not in access_line["message"] and "127.0.0.1" not in access_line["message"]
    assert "/graphql" in access_line["message"]


@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_a_failed_request_carries_its_id_in_the_answer_and_every_line_about_it(
    database: None, redis: ArqRedis, log_format: str
) -> None:
    app = create_app(get_settings(), manage_database=False)
    app.state.redis = redis

    async def broken(request: Request) -> Response:
        raise RuntimeError(f"a bug quoting {request.query_params['search']}")

    app.router.routes.append(Route("/broken", broken))
    given = "trace-500-0123456789abcdef"
    with captured_log(formatter(log_format)) as stream:
        async with serving(app) as url:
            stream.seek(0)
            stream.truncate()
            async with httpx.AsyncClient(base_url=url) as http:
                answer = await http.get(
                    "/broken?search=lea%40example.org", headers={"X-Request-ID": given}
                )
                assert answer.status_code == 500
                assert answer.headers["x-request-id"] == given
                assert answer.json() == {
                    "errors": [
                        {
                            "code": "INTERNAL_SERVER_ERROR",
                            "message": f"Unexpected error. Reference: {given}",
                            "reference": given,
                        }
                    ]
                }
                await asyncio.sleep(0.05)
                # The test's own client (httpx) logs the address it asked: not the service's.
                written = "\n".join(
                    line
                    for line in stream.getvalue().splitlines()
                    if not re.search(r"\b(httpx|httpcore)\b", line)
                )
            # The server goes on answering.
            async with httpx.AsyncClient(base_url=url) as http:
                assert (await http.get("/health/live")).status_code == 200
    assert "lea@example.org" not in written and "lea%40" not in written
    if log_format == "json":
        about = [json.loads(line) for line in written.splitlines()]
        assert all(line.get("request_id") == given for line in about), about
        error = next(line for line in about if line["level"] == "ERROR")
        assert given in error["message"]
        assert "RuntimeError (message withheld)" in error["traceback"]
        access_line = next(line for line in about if line["logger"] == "uvicorn.access")
        assert '"GET /broken HTTP/1.1" 500' in access_line["message"]
    else:
        about = [line for line in written.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]
        assert all(f"[request={given}]" in line for line in about), about
        assert any(" ERROR " in line and given in line.split("]: ", 1)[1] for line in about)
        assert any("uvicorn.access" in line and " 500" in line for line in about), about
        assert "RuntimeError (message withheld)" in written
    assert "Exception in ASGI application" not in written  # logged once, with its id


async def test_an_answer_that_fails_half_way_is_logged_by_the_server_with_its_id(
    database: None, redis: ArqRedis, json_log: io.StringIO
) -> None:
    app = create_app(get_settings(), manage_database=False)
    app.state.redis = redis

    async def half_way(request: Request) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            yield b"the first part"
            raise RuntimeError("the second part failed")

        return StreamingResponse(parts())

    app.router.routes.append(Route("/half-way", half_way))
    given = "trace-half-0123456789abcdef"
    async with serving(app) as url:
        json_log.seek(0)
        json_log.truncate()
        async with httpx.AsyncClient(base_url=url) as http:
            with pytest.raises(httpx.HTTPError):  # the server closes the connection
                await http.get("/half-way", headers={"X-Request-ID": given})
            await asyncio.sleep(0.05)
            lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    about = [line for line in lines if not line["logger"].startswith(("httpx", "httpcore"))]
    assert all(line.get("request_id") == given for line in about), about
    error = next(line for line in about if line["level"] == "ERROR")
    assert error["logger"] == "uvicorn.error"
    assert "RuntimeError (message withheld)" in error["traceback"]


def test_the_access_log_keeps_neither_the_client_address_nor_the_query_string() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("198.51.100.4:51234", "GET", "/invitations/export.xlsx?search=lea%40ex", "1.1", 200),
        None,
    )
    assert AccessLogPrivacy().filter(record)
    line = record.getMessage()
    assert line == '- - "GET /invitations/export.xlsx HTTP/1.1" 200'


async def test_a_jobs_log_lines_carry_its_job_id(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, json_log: io.StringIO
) -> None:
    from workers.settings import job_started

    created = await create(admin, ["ann@example.org"])
    json_log.seek(0)
    json_log.truncate()
    await run_worker(on_job_start=job_started)
    assert len(smtp_sink.mails) == 1
    lines = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
    finished = [line for line in lines if "←" in line["message"] or "→" in line["message"]]
    assert finished, lines
    for line in finished:
        assert line.get("job_id") and line["job_id"] in line["message"], line
    ours = [line for line in lines if line["logger"] != "mail.log"]  # mail.log: the tests' sink
    assert "ann@example.org" not in json.dumps(ours)
    assert created["invitedCount"] == 1


async def test_periodic_jobs_log_what_they_did_not_that_they_ran(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, json_log: io.StringIO
) -> None:
    """The sweeps run every 5 to 20 seconds: arq's start and finish lines of each would flood
    a worker's log (and scroll `invitations dev`'s first-run password away)."""
    from workers.settings import CRON_JOBS, job_started

    def lines() -> list[dict[str, Any]]:
        found = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
        json_log.seek(0)
        json_log.truncate()
        return found

    def periodic_run(line: dict[str, Any]) -> bool:
        """arq's line for a periodic job starting (→) or finishing (←)."""
        message = line["message"]
        return "cron:" in message and ("→" in message or "←" in message)

    # A fresh copy each run (arq keeps a cron job's next run on it), run as the worker starts.
    sweep = next(job for job in CRON_JOBS if job.name == "cron:sweep")
    quiet_routine_jobs()  # as configure_logging leaves every process's logging
    try:
        lines()
        worker = await run_worker(cron_jobs=[replace(sweep)], on_job_start=job_started)
        assert worker.jobs_complete >= 1  # it ran, and found nothing to do
        quiet = lines()
        assert not [line for line in quiet if periodic_run(line)], quiet
        assert not [line for line in quiet if line["message"].startswith("sweep")], quiet

        await create(admin, ["ann@example.org"])
        await run_worker(on_job_start=job_started)
        sending = lines()
        started = [line for line in sending if "→" in line["message"]]
        assert any("send_invitations(" in line["message"] for line in started), sending
        assert len(smtp_sink.mails) == 1

        clock.advance(timedelta(days=31))
        await run_worker(cron_jobs=[replace(sweep)], on_job_start=job_started)
        swept = lines()
        assert any(
            line["message"].startswith("sweep: 1 expired") and line["job_id"].startswith("cron:")
            for line in swept
        ), swept
        assert not [line for line in swept if periodic_run(line)], swept
    finally:
        worker_logger = logging.getLogger("arq.worker")
        for existing in list(worker_logger.filters):
            if isinstance(existing, RoutinePeriodicJobs):
                worker_logger.removeFilter(existing)


# ---------------------------------------------------------------------------------------------
# Security headers


async def test_https_deployments_send_hsts_and_pages_a_permissions_policy(
    http: httpx.AsyncClient, database: None, redis: ArqRedis
) -> None:
    # The tests' PUBLIC_URL is https.
    page = await http.get("/invite")
    assert page.status_code == 200
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    policy = page.headers["permissions-policy"]
    assert "camera=()" in policy and "geolocation=()" in policy
    health = await http.get("/health/live")
    assert "permissions-policy" not in health.headers  # not a page
    assert health.headers["strict-transport-security"] == "max-age=31536000"

    plain = create_app(
        get_settings().model_copy(update={"public_url": "http://localhost:8000"}),
        manage_database=False,
    )
    plain.state.redis = redis
    transport = httpx.ASGITransport(app=plain)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/invite")
        assert "strict-transport-security" not in answer.headers
        assert "permissions-policy" in answer.headers


# ---------------------------------------------------------------------------------------------
# Secrets from files


def test_secret_settings_are_read_from_files_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "INVITES_SMTP_PASSWORD").write_text("relay-password-from-a-file\n")
    (tmp_path / "INVITES_METRICS_TOKEN").write_text("scrape-token-from-a-file")
    monkeypatch.setenv("INVITES_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("INVITES_METRICS_TOKEN", "scrape-token-from-the-environment")
    settings = load_settings()
    assert settings.smtp_password.get_secret_value() == "relay-password-from-a-file"
    assert settings.metrics_token.get_secret_value() == "scrape-token-from-the-environment"
    assert "relay-password" not in repr(settings)

    monkeypatch.setenv("INVITES_SECRETS_DIR", str(tmp_path / "missing"))
    with pytest.raises(Exception, match="INVITES_SECRETS_DIR"):
        load_settings()


# ---------------------------------------------------------------------------------------------
# Traces


@pytest.fixture
async def traced_http(
    database: None, redis: ArqRedis
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    pytest.importorskip("opentelemetry.sdk", reason="the `traces` extra is not installed")
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from api.tracing import traced
    from schema import prepared
    from schema.app import schema

    extensions = schema.extensions
    exporter = InMemorySpanExporter()
    app = create_app(get_settings(), manage_database=False)
    app.state.redis = redis
    transport = httpx.ASGITransport(app=traced(app, get_settings(), exporter=exporter))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, exporter
    finally:
        schema.extensions = extensions
        prepared.tracer = None


async def test_traces_have_a_span_per_request_and_operation_without_personal_data(
    traced_http: tuple[httpx.AsyncClient, Any],
) -> None:
    http, exporter = traced_http
    token = "ABCDE-FGHJK-MNPQR"
    response = await http.post(
        "/graphql?email=lea%40example.org",
        json={"query": f'query Lea {{ invitationByToken(token: "{token}") {{ valid }} }}'},
    )
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    names = [span.name for span in spans]
    assert "GraphQL invitationByToken" in names, names
    assert any(span.name.startswith("POST") for span in spans), names
    everything = json.dumps(
        [{"name": span.name, **dict(span.attributes or {})} for span in spans], default=str
    )
    for secret in (token, "lea", "example.org", "203.0.113"):
        assert secret not in everything, secret

    # /invite's own document (answered without the executor) gets the same span.
    exporter.clear()
    response = await http.post(
        "/graphql",
        json={"query": INVITATION_BY_TOKEN, "variables": {"token": token, "locale": "en"}},
    )
    assert response.json()["data"]["invitationByToken"]["valid"] is False
    spans = exporter.get_finished_spans()
    assert "GraphQL invitationByToken" in [span.name for span in spans]
    assert token not in json.dumps([dict(span.attributes or {}) for span in spans], default=str)
