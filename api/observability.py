"""What operators watch: request ids on every log line, /metrics, and the health probes."""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import re
import secrets
import socket
import time

from arq.constants import default_queue_name
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain import db, logs, metrics
from domain.settings import Settings

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's or a client's id is kept when it looks like one (a UUID, a hex or base64 string);
# anything else (too long, spaces, quotes, an address) is replaced by a new one.
_ID = REQUEST_ID_HEADER.lower().encode()
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+/=-]{7,127}")


class RequestIds:
    """Each HTTP request gets an id: the caller's X-Request-ID if sane, else a new one. It is
    on every log line written while the request runs and in the response's X-Request-ID.

    It wraps the whole app, Starlette's ServerErrorMiddleware included (api.app), so that a
    500 carries it too: in the header, in the body's reference (api.invite_errors) and in the
    access line. Starlette raises the error on after answering, for the server to log it; by
    then the id would be gone from the server's line, so the error is logged here, with the
    id, and goes no further. An error the app could not answer (a download that failed
    half-way) goes on to the server, which closes the connection and logs it: the id is left
    set for its line (uvicorn runs each request in a task of its own).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        request_id = given if _SANE_REQUEST_ID.fullmatch(given) else secrets.token_hex(16)
        token = logs.request_id.set(request_id)
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *(item for item in message.get("headers", ()) if item[0].lower() != _ID),
                    (_ID, request_id.encode()),
                ]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            if not answered:
                raise
            log.error("unexpected error: answered 500, reference %s", request_id, exc_info=error)
        logs.request_id.reset(token)


def metrics_routes(settings: Settings) -> list[BaseRoute]:
    """GET /metrics for Prometheus, with INVITES_METRICS_TOKEN as bearer token (off without)."""
    expected = settings.metrics_token.get_secret_value()
    if not expected:
        return []

    async def serve_metrics(request: Request) -> Response:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            return PlainTextResponse(
                "Unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        await measure_queue(request.app.state.redis)
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", serve_metrics, methods=["GET"])]


def exposition() -> bytes:
    """This process's metrics; every process's when prometheus-client's multiprocess mode is on
    (PROMETHEUS_MULTIPROC_DIR, for several API processes behind one port)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


async def measure_queue(redis: object, queue: str = default_queue_name) -> None:
    """The work queue's length and its oldest due job's wait, read from Redis now. A Redis
    that does not answer leaves the last values (the readiness probe reports it)."""
    with contextlib.suppress(Exception):  # best effort: /health/ready tells Redis is down
        await metrics.measure_queue(redis, queue)


async def live(request: Request) -> Response:
    """The process answers: nothing else is asked (a Redis outage must not restart the API)."""
    return JSONResponse({"status": "ok"})


class Readiness:
    """GET /health/ready: the database and Redis answer and the database has every migration:
    take traffic. What is wrong is said in a few words (`connection refused at
    127.0.0.1:6379`: the kind of failure and the address asked, never a URL's password or an
    exception's message), and logged as a WARNING when it changes (not at every probe: an
    orchestrator asks every few seconds), then once when all is well again."""

    def __init__(self) -> None:
        self.reported: dict[str, str] = {}  # what was wrong at the last probe

    async def probe(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        started = time.perf_counter()
        try:
            pending = await db.pending_migrations()
            checks["database"] = "ok"
            checks["migrations"] = "ok" if not pending else f"{len(pending)} pending"
        except Exception as error:
            checks["database"] = failure(error, database_address())
            checks["migrations"] = "unknown"
        redis = request.app.state.redis
        try:
            await redis.ping()
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = failure(error, redis_address(redis))
        self.report({name: value for name, value in checks.items() if value != "ok"})
        healthy = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {
                "status": "ok" if healthy else "unhealthy",
                **checks,
                "seconds": round(time.perf_counter() - started, 4),
            },
            status_code=200 if healthy else 503,
        )

    def report(self, wrong: dict[str, str]) -> None:
        if wrong == self.reported:
            return
        if wrong:
            log.warning("not ready: %s", "; ".join(f"{name}: {why}" for name, why in wrong.items()))
        else:
            log.info("ready again")
        self.reported = wrong


def failure(error: BaseException, address: str | None) -> str:
    """What went wrong in a few words, where: `connection refused at db:5432`, `timed out at
    10.0.0.7:6379`, else the exception's kind (its message may quote a password or data)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    names = {type(link).__name__ for link in chain}
    if any(
        isinstance(link, ConnectionRefusedError)
        # asyncpg, for a name with several addresses: "Multiple exceptions: Connect call failed"
        or (isinstance(link, OSError) and "Connect call failed" in str(link))
        for link in chain
    ):
        kind = "connection refused"
    elif any("Connection closed by server" in str(link) for link in chain):
        kind = "connection closed"  # redis-py, on a connection opened before the server went
    elif any(isinstance(link, TimeoutError) for link in chain) or "TimeoutError" in names:
        kind = "timed out"  # redis-py's TimeoutError is its own class
    elif any(isinstance(link, socket.gaierror) for link in chain):
        kind = "host not found"
    elif any("Authentication" in name or "Password" in name for name in names):
        kind = "authentication refused"
    else:
        kind = type(error).__name__
    return f"{kind} at {address}" if address else kind


def redis_address(redis: object) -> str | None:
    """host:port (or the socket's path) of a Redis client, from its pool's settings."""
    settings = getattr(getattr(redis, "connection_pool", None), "connection_kwargs", {})
    if settings.get("path"):
        return str(settings["path"])
    return f"{settings['host']}:{settings.get('port', 6379)}" if settings.get("host") else None


def database_address() -> str | None:
    """host:port of the database (PostgreSQL), or None (SQLite: a file)."""
    try:
        client = db.connection()
    except Exception:
        return None
    host, port = getattr(client, "host", None), getattr(client, "port", None)
    return f"{host}:{port}" if host else None


def probe_routes() -> list[BaseRoute]:
    ready = Readiness()
    return [
        Route("/health/live", live, methods=["GET", "HEAD"]),
        Route("/health/ready", ready.probe, methods=["GET", "HEAD"]),
        Route("/health", ready.probe, methods=["GET", "HEAD"]),  # the readiness probe's old address
    ]
