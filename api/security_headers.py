"""Security headers on every response whose route did not choose its own."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.settings import Settings

# No content sniffing (a download read as HTML would run as a page), no referrer leaving with
# a URL, no framing (clickjacking). A route that sets one of these keeps its own value.
DEFAULTS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# HTML pages use none of these powerful features: a script injected despite the CSP could not
# ask for them either. Only features browsers know: an unknown one (Chromium has no `bluetooth`)
# is a warning in the console of every page.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), midi=(),"
    " magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), browsing-topics=()"
)
# A year, as browsers' preload lists ask; subdomains are the host platform's to decide.
HSTS = "max-age=31536000"


class SecurityHeaders:
    """With settings whose PUBLIC_URL is https, also Strict-Transport-Security: browsers then
    never try the service over plain HTTP again (no downgrade by a network in between)."""

    def __init__(self, app: ASGIApp, settings: Settings | None = None) -> None:
        self.app = app
        self.hsts = settings is not None and settings.public_url.startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_defaults(message.get("headers", ()), hsts=self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)


_DEFAULTS = [(name.lower().encode(), value.encode()) for name, value in DEFAULTS.items()]
_FRAME_OPTIONS = b"x-frame-options"


def with_defaults(raw: Iterable[tuple[bytes, bytes]], *, hsts: bool) -> list[tuple[bytes, bytes]]:
    """A response's headers (as ASGI sends them) with every default it does not set itself.
    Read in one pass: this runs for every response."""
    headers = list(raw)
    present: dict[bytes, bytes] = {name.lower(): value for name, value in headers}
    # A CSP with frame-ancestors already says who may frame the page (/dev/mail: 'self'),
    # and browsers follow it over X-Frame-Options: a DENY beside it would contradict it.
    framing_decided = b"frame-ancestors" in present.get(b"content-security-policy", b"")
    for name, value in _DEFAULTS:
        if name not in present and not (name == _FRAME_OPTIONS and framing_decided):
            headers.append((name, value))
    content_type = present.get(b"content-type", b"")
    if content_type.startswith(b"text/html") and b"permissions-policy" not in present:
        headers.append((b"permissions-policy", PERMISSIONS_POLICY.encode()))
    # Downloads hold tokens and personal data: no cache may keep a copy.
    disposition = present.get(b"content-disposition", b"").strip().lower()
    download = disposition.startswith(b"attachment") or content_type.startswith(XLSX.encode())
    if download and b"cache-control" not in present:
        headers.append((b"cache-control", b"no-store"))
    if hsts and b"strict-transport-security" not in present:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers
