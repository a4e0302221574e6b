"""Request bodies: bounded in size and in time, and multipart uploads only from pages allowed
to send them.

Multipart is one of the content types a browser posts cross-site without asking the server
first (no CORS preflight), so a page elsewhere could make a signed-in admin's browser upload a
file. An upload must therefore carry the `Apollo-Require-Preflight` header: a custom header makes
the browser ask first, and the server grants cross-site requests nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.settings import Settings

log = logging.getLogger(__name__)

PREFLIGHT_HEADER = "apollo-require-preflight"
# The multipart envelope around the file: the operations and map fields, boundaries, headers.
UPLOAD_OVERHEAD = 1024 * 1024


def is_multipart(content_type: str | None) -> bool:
    return (content_type or "").strip().lower().startswith("multipart/")


def preflighted(headers: Mapping[str, str]) -> bool:
    """Header names are matched in any case (the mapping may be case-sensitive)."""
    return any(
        name.lower() == PREFLIGHT_HEADER and value.strip() for name, value in headers.items()
    )


def declared_body(scope: Scope) -> tuple[str, int | None, bool]:
    """The request's content type, its Content-Length (None when absent or not a number) and
    whether its body comes in chunks, read in one pass over the headers."""
    content_type, length, chunked = "", None, False
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.decode("latin-1")
        elif name == b"content-length":
            length = int(value) if value.isdigit() else None
        elif name == b"transfer-encoding":
            chunked = True
    return content_type, length, chunked


def size_words(size: int) -> str:
    """A limit in bytes as a person reads it: `2 MiB`, `512 KiB`, `1500 bytes`."""
    for unit, name in ((1024 * 1024, "MiB"), (1024, "KiB")):
        if size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


class BodyTooLarge(Exception):
    """Raised to the app when it reads a body over its limit: it stops reading, and the body
    guard answers."""


class BodyLimits:
    """A request body's limits, in size and in time (one layer: every request passes here).

    Size: 413 for a body over its limit, told by Content-Length (then none of it is read) or
    counted as it streams in: a multipart upload may carry an import's file, any other body
    `max_request_body_bytes`. Both ways get the same answer: JSON in the shape of the app's
    other refusals (api.invite_errors), with the limit in words. An app that answers without
    reading the body (a 404, a 415) is overruled with the same 413.

    Time: 408 for a body that does not arrive in time: a client trickling a declared 20 MiB
    upload would otherwise hold a connection (and a worker's memory) for as long as it likes.
    Multipart uploads get `upload_body_timeout_seconds`, any other body
    `request_body_timeout_seconds`, counted from the request's start. (Headers arrive before
    the app is called: a proxy in front bounds them, see docs/security.md.) When the time is up
    the 408 goes out at once and the app hears that the client left, so whatever it was
    parsing stops; anything it sends after that is dropped.

    A client that leaves while its body is read (or was answered 408) makes the app raise
    Starlette's ClientDisconnect: there is no one left to answer and nothing went wrong on our
    side, so it is logged at INFO here and goes no further (no 500, no error in the logs)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.plain_bytes = settings.max_request_body_bytes
        self.upload_bytes = settings.import_max_file_bytes + UPLOAD_OVERHEAD
        self.plain_seconds = settings.request_body_timeout_seconds
        self.upload_seconds = settings.upload_body_timeout_seconds
        self.plain_too_large = too_large(
            f"The request body is over the limit of {size_words(self.plain_bytes)}."
        )
        self.upload_too_large = too_large(
            f"The upload is over the limit of {size_words(self.upload_bytes)}"
            f" (a file of at most {size_words(settings.import_max_file_bytes)})."
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type, length, chunked = declared_body(scope)
        if not chunked and not length:
            await self.app(scope, receive, send)  # no body to wait for or to count
            return
        multipart = is_multipart(content_type)
        limit = self.upload_bytes if multipart else self.plain_bytes
        refusal = self.upload_too_large if multipart else self.plain_too_large
        # Over the limit by its Content-Length: refused before a byte is read. Within it, the
        # server reads no more than that; without one, the body is counted as it comes.
        over = length is not None and length > limit
        received = 0
        seconds = self.upload_seconds if multipart else self.plain_seconds
        deadline = asyncio.get_running_loop().time() + seconds
        body_done = False
        started = False
        answered = False

        async def timed_receive() -> Message:
            nonlocal body_done, answered, received, over
            if body_done or answered:
                return await receive()  # after the body: waiting for a disconnect is fine
            if over:
                raise BodyTooLarge
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                if not started:
                    answered = True
                    await TOO_SLOW(scope, receive, send)
                    log.info("request body not received within %s s: answered 408", seconds)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge
            return message

        async def refuse() -> None:
            nonlocal started, answered
            started = answered = True
            await refusal(scope, receive, send)

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                if over:  # the app answers without reading the body, or read past the limit
                    await refuse()
                    return
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await refuse()
        except ClientDisconnect:
            if not answered:
                log.info("client left before its request body was received")


def too_large(message: str) -> JSONResponse:
    """A body over the limit, in GraphQL's shape of an error (as the 408 below, and the
    view's 400 and 415): clients read every refusal's code in `extensions.code`."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "REQUEST_ENTITY_TOO_LARGE"}}]},
        status_code=413,
    )


TOO_SLOW = JSONResponse(
    {
        "errors": [
            {
                "message": "The request body did not arrive in time.",
                "extensions": {"code": "REQUEST_TIMEOUT"},
            }
        ]
    },
    status_code=408,
    headers={"Connection": "close"},
)
