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
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response

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

    def add_headers(self, request: Request, response: Response) -> None:
        """A listed origin may read the answer (and its request id); caches keep one per origin."""
        if not self.origins:
            return
        add_vary_origin(response)
        origin = self.granted(request)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = REQUEST_ID_HEADER


def add_vary_origin(response: Response) -> None:
    vary = [item.strip() for item in response.headers.get("vary", "").split(",") if item.strip()]
    if "origin" not in (item.lower() for item in vary):
        response.headers["Vary"] = ", ".join([*vary, "Origin"])


def from_other_origin(request: Request, cross_origin: CrossOrigin) -> bool:
    """Whether the request says it comes from a page of another origin: then no cookie counts."""
    if cross_origin.granted(request) is not None:
        return True
    fetched_from = request.headers.get("sec-fetch-site", "").strip().lower()
    return fetched_from in OTHER_ORIGIN_FETCHES
