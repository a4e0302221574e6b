"""Request bodies: bounded in size and in time, and multipart uploads only from pages allowed
to send them.

Multipart is one of the content types a browser posts cross-site without asking the server
first (no CORS preflight), so a page elsewhere could make a signed-in admin's browser upload a
file. An upload must therefore carry the `Apollo-Require-Preflight` header: a custom header makes
the browser ask first, and the server grants cross-site requests nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.settings import Settings

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


class BodyLimits:
    """A request body's limits, in size and in time (one layer: every request passes here).

    Size: 413 for a body over its limit, told by Content-Length or counted as it streams in: a
    multipart upload may carry an import's file, any other body `max_request_body_bytes`.

    Time: 408 for a body that does not arrive in time: a client trickling a declared 20 MiB
    upload would otherwise hold a connection (and a worker's memory) for as long as it likes.
    Multipart uploads get `upload_body_timeout_seconds`, any other body
    `request_body_timeout_seconds`, counted from the request's start. (Headers arrive before
    the app is called: a proxy in front bounds them, see docs/security.md.) When the time is up
    the 408 goes out at once and the app hears that the client left, so whatever it was
    parsing stops; anything it sends after that is dropped."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.plain = RequestBodyLimitMiddleware(app, settings.max_request_body_bytes)
        self.upload = RequestBodyLimitMiddleware(
            app, settings.import_max_file_bytes + UPLOAD_OVERHEAD
        )
        self.plain_seconds = settings.request_body_timeout_seconds
        self.upload_seconds = settings.upload_body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type, length, chunked = declared_body(scope)
        if not chunked and not length:
            await self.app(scope, receive, send)  # no body to wait for or to count
            return
        multipart = is_multipart(content_type)
        limited = self.upload if multipart else self.plain
        # A declared length within the limit: the server reads no more than that, so there is
        # nothing to count.
        counted = chunked or length is None or length > limited.max_body_size
        app: ASGIApp = limited if counted else self.app
        seconds = self.upload_seconds if multipart else self.plain_seconds
        deadline = asyncio.get_running_loop().time() + seconds
        body_done = False
        started = False
        answered = False

        async def timed_receive() -> Message:
            nonlocal body_done, answered
            if body_done or answered:
                return await receive()  # after the body: waiting for a disconnect is fine
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                if not started:
                    answered = True
                    await TOO_SLOW(scope, receive, send)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await app(scope, timed_receive, tracked_send)


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
