"""What operators watch: request ids on every log line, /metrics, and the health probes."""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import re
import secrets
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


async def ready(request: Request) -> Response:
    """The database and Redis answer and the database has every migration: take traffic."""
    checks: dict[str, str] = {}
    started = time.perf_counter()
    try:
        pending = await db.pending_migrations()
        checks["database"] = "ok"
        checks["migrations"] = "ok" if not pending else f"{len(pending)} pending"
    except Exception as error:
        checks["database"] = type(error).__name__
        checks["migrations"] = "unknown"
    try:
        await request.app.state.redis.ping()
        checks["redis"] = "ok"
    except Exception as error:
        checks["redis"] = type(error).__name__
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {
            "status": "ok" if healthy else "unhealthy",
            **checks,
            "seconds": round(time.perf_counter() - started, 4),
        },
        status_code=200 if healthy else 503,
    )


def probe_routes() -> list[BaseRoute]:
    return [
        Route("/health/live", live, methods=["GET", "HEAD"]),
        Route("/health/ready", ready, methods=["GET", "HEAD"]),
        Route("/health", ready, methods=["GET", "HEAD"]),  # the readiness probe's old address
    ]
