"""Security headers on every response whose route did not choose its own."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
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


def is_download(headers: MutableHeaders) -> bool:
    disposition = headers.get("content-disposition", "").strip().lower()
    return disposition.startswith("attachment") or headers.get("content-type", "").startswith(XLSX)


# HTML pages use none of these powerful features: a script injected despite the CSP could not
# ask for them either.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(),"
    " midi=(), magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(),"
    " browsing-topics=()"
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
                headers = MutableHeaders(scope=message)
                add_defaults(headers)
                if self.hsts and "strict-transport-security" not in headers:
                    headers["Strict-Transport-Security"] = HSTS
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
    if headers.get("content-type", "").startswith("text/html") and (
        "permissions-policy" not in headers
    ):
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
    # Downloads hold tokens and personal data: no cache may keep a copy.
    if is_download(headers) and "cache-control" not in headers:
        headers["Cache-Control"] = "no-store"
