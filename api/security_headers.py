"""Security headers on every response whose route did not choose its own."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No content sniffing (a download read as HTML would run as a page), no referrer leaving with
# a URL, no framing (clickjacking). A route that sets one of these keeps its own value.
DEFAULTS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_download(headers: MutableHeaders) -> bool:
    disposition = headers.get("content-disposition", "").strip().lower()
    return disposition.startswith("attachment") or headers.get("content-type", "").startswith(XLSX)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_defaults(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_defaults(headers: MutableHeaders) -> None:
    framing_decided = "frame-ancestors" in headers.get("content-security-policy", "")
    for name, value in DEFAULTS.items():
        # A CSP with frame-ancestors already says who may frame the page (/dev/mail: 'self'),
        # and browsers follow it over X-Frame-Options: a DENY beside it would contradict it.
        if name in headers or (name == "X-Frame-Options" and framing_decided):
            continue
        headers[name] = value
    # Downloads hold tokens and personal data: no cache may keep a copy.
    if is_download(headers) and "cache-control" not in headers:
        headers["Cache-Control"] = "no-store"
