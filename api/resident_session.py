"""Where the residents' pages keep a signed-in session: an HttpOnly cookie the server sets.

Every journey of the pages (an accepted invitation, a confirmed address, a new password, a
sign-in) ends with a session token in a GraphQL answer. The page hands it straight to
`POST /account/session`, which sets the cookie, and keeps no copy: from then on scripts cannot
read the token, so a script injected into a page could act only while that page is open, and
could never carry the session away (docs/security.md, "The residents' pages").

The cookie is `HttpOnly`, `SameSite=Strict`, `Path=/` and `Secure` when the service is on
https. It authenticates only what the pages send: GraphQL requests and these two routes, each a
JSON POST with the `X-Resident-Page` header. Another site cannot send either without a CORS
preflight, which this service never grants for that header (nor credentials: api.cors), so it
cannot act with a resident's cookie (CSRF),
nor sign a browser in to an account of its choosing (login CSRF); and should a browser send it
anyway, `POST /account/session` from a page of another origin (its `Origin` or
`Sec-Fetch-Site`, api.cors) sets no cookie.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.cors import CrossOrigin, posted_from_other_origin
from domain.models import User
from domain.settings import Settings
from domain.users import service as users

COOKIE = "invitations_session"
# Sent by the pages' scripts with every request the cookie may authenticate.
HEADER = "x-resident-page"
NO_STORE = {"Cache-Control": "no-store"}


def from_page(request: Request) -> bool:
    """A JSON POST carrying the pages' header: what only this service's pages can send."""
    if request.method != "POST" or not request.headers.get(HEADER, "").strip():
        return False
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def session_token(request: Request) -> str | None:
    """The cookie's session token, for a request the cookie may authenticate."""
    return (request.cookies.get(COOKIE) or None) if from_page(request) else None


async def signed_in(request: Request) -> User | None:
    """Who the cookie signs in, for a page being rendered (no script involved)."""
    token = request.cookies.get(COOKIE)
    return await users.user_for_session_token(token) if token else None


def refused(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"code": code, "message": message}]}, status_code=status, headers=NO_STORE
    )


class ResidentSession:
    """`POST /account/session` (keep this session in the cookie) and `POST /account/sign-out`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # A Secure cookie is never sent over plain http: only when the service is on https.
        self.secure = settings.public_url.startswith("https://")
        self.cross_origin = CrossOrigin(settings.cors_origins)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/account/session", self.keep, methods=["POST"]),
            Route("/account/sign-out", self.sign_out, methods=["POST"]),
        ]

    async def keep(self, request: Request) -> Response:
        """Set the cookie to a live session's token (one the page was just given)."""
        if not from_page(request):
            return refused(400, "BAD_REQUEST", "Only the service's own pages can do this.")
        if posted_from_other_origin(request, self.cross_origin, self.settings.public_url):
            # Browsers need a preflight to send this (never granted), but should one come
            # anyway, another site must not sign the browser in (login CSRF).
            return refused(403, "FORBIDDEN", "Only the service's own pages can do this.")
        try:
            body = await request.json()
        except ValueError:
            body = None
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or await users.user_for_session_token(token) is None:
            return refused(401, "INVALID_SESSION", "This session has ended: sign in again.")
        earlier = request.cookies.get(COOKIE)
        if earlier and earlier != token:
            # The browser held another session: nobody can use it any more, so it ends.
            await users.sign_out(earlier)
        response = JSONResponse({"ok": True}, headers=NO_STORE)
        response.set_cookie(
            COOKIE,
            token,
            max_age=self.settings.session_ttl_days * 86400,
            path=cookie_path(request),
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )
        return response

    async def sign_out(self, request: Request) -> Response:
        """End the cookie's session and forget the cookie."""
        if not from_page(request):
            return refused(400, "BAD_REQUEST", "Only the service's own pages can do this.")
        token = request.cookies.get(COOKIE)
        if token:
            await users.sign_out(token)
        response = JSONResponse({"ok": True}, headers=NO_STORE)
        self.forget(request, response)
        return response

    def forget(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            COOKIE,
            path=cookie_path(request),
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )


def cookie_path(request: Request) -> str:
    """The whole service: the pages and /graphql."""
    return str(request.scope.get("root_path", "")) or "/"
