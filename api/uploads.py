"""Request bodies: bounded in size, and multipart uploads only from pages allowed to send them.

Multipart is one of the content types a browser posts cross-site without asking the server
first (no CORS preflight), so a page elsewhere could make a signed-in admin's browser upload a
file. An upload must therefore carry the `Apollo-Require-Preflight` header: a custom header makes
the browser ask first, and the server grants cross-site requests nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

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


class BodySizeLimit:
    """413 for a request body over its limit, told by Content-Length or counted as it streams
    in: a multipart upload may carry an import's file, any other body
    `max_request_body_bytes`."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.plain = RequestBodyLimitMiddleware(app, settings.max_request_body_bytes)
        self.upload = RequestBodyLimitMiddleware(
            app, settings.import_max_file_bytes + UPLOAD_OVERHEAD
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limited = self.plain
        if scope["type"] == "http" and is_multipart(Headers(scope=scope).get("content-type")):
            limited = self.upload
        await limited(scope, receive, send)
