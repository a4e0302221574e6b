"""Cross-origin calls to /graphql from the web apps of INVITES_CORS_ORIGINS, with bearer tokens.

A web app served from another origin (https://app.example.org) calls the API with `fetch`; its
browser first asks (a CORS preflight: OPTIONS with `Origin` and `Access-Control-Request-*`).
Only the exact origins of the setting are granted, and only what a bearer-token client needs:
POST, the `Content-Type`, `Authorization` and `X-Request-ID` headers. Every other origin gets
no CORS header at all, as before.

Credentials are never granted (no `Access-Control-Allow-Credentials`): a browser then neither
sends cookies cross-origin nor lets a page read an answer to a request that carried them. The
console's and the residents' cookies stay same-origin, and a request that says it comes from
another origin counts neither cookie (api.graphql): docs/security.md, "Web apps on other
origins".

Every answer to /graphql carries these headers, not only GraphQL's: a refusal made before the
schema runs (the body guard's 413 or 408, an unexpected error's 500) must be readable too, or
the app's browser reports a bare network error instead of the reason (`Answers`, the app's
outer layer).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import REQUEST_ID_HEADER

ALLOW_METHODS = "POST"
ALLOW_HEADERS = f"Content-Type, Authorization, {REQUEST_ID_HEADER}"
# How long a browser may keep a granted preflight (Chromium keeps at most 2 hours).
MAX_AGE_SECONDS = 600
# What a browser says of where a request comes from (Fetch Metadata): another site, or another
# origin of ours (a sibling subdomain).
OTHER_ORIGIN_FETCHES = frozenset({"cross-site", "same-site"})


class CrossOrigin:
    def __init__(self, origins: Iterable[str]) -> None:
        self.origins = frozenset(origins)

    def granted(self, request: Request) -> str | None:
        """The request's origin when it is one of the listed ones."""
        origin = request.headers.get("origin")
        return origin if origin is not None and origin in self.origins else None

    def preflight(self, request: Request) -> Response | None:
        """The answer to a CORS preflight from a listed origin; None for anything else."""
        if request.method != "OPTIONS" or "access-control-request-method" not in request.headers:
            return None
        origin = self.granted(request)
        if origin is None:
            return None
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
                "Vary": "Origin",
            },
        )


class Answers:
    """Every answer to `path` (GraphQL's, the body guard's 413 and 408, an unexpected error's
    500) readable by the listed origins: `Access-Control-Allow-Origin` echoing a listed origin,
    with `Access-Control-Expose-Headers` (the request id), and `Vary: Origin` for every origin
    (caches keep one answer per origin). Granted preflights pass as they are: the view answers
    them with the preflight's own headers (CrossOrigin.preflight).

    It wraps Starlette's ServerErrorMiddleware, which answers a 500 (api.app), and is only in
    the app when origins are listed. Per request: the path's comparison, one pass over the
    request's headers and a set lookup, as the view did before."""

    def __init__(self, app: ASGIApp, origins: Iterable[str], path: str = "/graphql") -> None:
        self.app = app
        self.origins = frozenset(origin.encode("latin-1") for origin in origins)
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        origin = b""
        preflight = False
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"access-control-request-method":
                preflight = True
        granted = origin if origin in self.origins else None
        if preflight and granted is not None and scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_cors(message.get("headers", ()), granted)
            await send(message)

        await self.app(scope, receive, send_with_cors)


_ALLOW_ORIGIN = b"access-control-allow-origin"
_EXPOSE = (b"access-control-expose-headers", REQUEST_ID_HEADER.encode())
_VARY = b"vary"


def with_cors(
    raw: Iterable[tuple[bytes, bytes]], origin: bytes | None
) -> list[tuple[bytes, bytes]]:
    """An answer's headers (as ASGI sends them) with `Vary: Origin` added to its own Vary, and
    what a granted origin needs to read it."""
    headers = list(raw)
    for index, (name, value) in enumerate(headers):
        if name.lower() == _VARY:
            if b"origin" not in (item.strip().lower() for item in value.split(b",")):
                headers[index] = (name, value + b", Origin" if value.strip() else b"Origin")
            break
    else:
        headers.append((_VARY, b"Origin"))
    if origin is not None:
        headers.append((_ALLOW_ORIGIN, origin))
        headers.append(_EXPOSE)
    return headers


def from_other_origin(request: Request, cross_origin: CrossOrigin) -> bool:
    """Whether the request says it comes from a page of another origin: then no cookie counts."""
    if cross_origin.granted(request) is not None:
        return True
    fetched_from = request.headers.get("sec-fetch-site", "").strip().lower()
    return fetched_from in OTHER_ORIGIN_FETCHES


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> str | None:
    """`scheme://host[:port]` of a URL or an `Origin` header, lower case, without the scheme's
    default port; None for anything that is not one (`null`, a garbled value)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    shown_port = "" if port is None or port == _DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host}{shown_port}"


def own_origins(request: Request, public_url: str) -> frozenset[str]:
    """The service's own origin: as the request sees it (its scheme and `Host`) and as
    INVITES_PUBLIC_URL says (behind a proxy the two differ)."""
    found = (_origin(f"{request.url.scheme}://{request.url.netloc}"), _origin(public_url))
    return frozenset(origin for origin in found if origin is not None)


def posted_from_other_origin(request: Request, cross_origin: CrossOrigin, public_url: str) -> bool:
    """Whether a form POST (a sign-in) comes from a page of another origin: what
    `from_other_origin` says, or an `Origin` header that is not the service's own. Another
    site's page may auto-submit a form here (login CSRF: the victim's browser signed in to the
    attacker's account); browsers mark such a POST with its `Origin` and `Sec-Fetch-Site`.

    `Origin: null` says nothing either way: browsers send it for our own pages' forms too,
    whose `Referrer-Policy` is `no-referrer`; `Sec-Fetch-Site` decides then. A request with
    neither header (not a browser, or a very old one) passes."""
    if from_other_origin(request, cross_origin):
        return True
    origin = request.headers.get("origin")
    if origin is None or origin.strip() == "null":
        return False
    return _origin(origin) not in own_origins(request, public_url)
