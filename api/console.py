"""The admin console at GET /graphql: GraphiQL from our own files, behind an admin sign-in.

Signing in sets the console's cookie for the whole service (`Path=/`): GraphQL's JSON POSTs,
the admins' downloads and the console pages read it, each under its own rules
(`api.graphql.console_session_token`, `api.admin_downloads.download_session_token`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from api.cors import CrossOrigin, posted_from_other_origin
from api.graphql import CONSOLE_COOKIE, client_ip
from api.languages import page_locale
from domain import i18n
from domain.errors import DomainError, RateLimited, TemporarilyUnavailable
from domain.models import User
from domain.roles.service import access_of
from domain.security.ratelimit import Limiter
from domain.settings import GraphiqlAccess, Settings
from domain.users import service as users

TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates" / "console"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)
# GraphiQL runs with an admin's rights: only our own scripts may run on its pages, and they
# may talk only to us. GraphiQL sets style attributes and ships its fonts and icons as data:
# URLs, hence 'unsafe-inline' styles and data: images and fonts (no script can come of them).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
FORM = "application/x-www-form-urlencoded"
# Why a sign-in form opened no session, by its status, in the catalog's words (the admin pages
# at /admin say the same; the console says more to someone who is not an admin).
REFUSAL_KEYS = {
    400: "admin.sign_in.fill_in",
    401: "admin.sign_in.wrong",
    403: "admin.sign_in.not_admin",
    415: "admin.sign_in.fill_in",
    429: "admin.sign_in.rate_limited",
    503: "admin.failed",
}
_CONSOLE_REFUSAL_KEYS = {**REFUSAL_KEYS, 403: "console.not_admin"}
# A sign-in form posted by a page of another origin (login CSRF): its own words, whatever the
# status.
OTHER_ORIGIN_KEY = "admin.sign_in.other_origin"


def console_access(settings: Settings) -> GraphiqlAccess:
    """Who gets the console: everyone in development, otherwise INVITES_GRAPHIQL decides."""
    return GraphiqlAccess.ALL if settings.is_development else settings.graphiql


class Console:
    """The console's pages. Requests from them are authenticated by its cookie, under the
    conditions of api.graphql.console_session_token (GraphQL) and
    api.admin_downloads.download_session_token (downloads)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.open_to_all = console_access(settings) is GraphiqlAccess.ALL
        # A Secure cookie is never sent over plain http: only when the service is on https.
        self.secure_cookie = settings.public_url.startswith("https://")
        self.cross_origin = CrossOrigin(settings.cors_origins)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/graphql/console/sign-in", self.sign_in_page, methods=["GET"]),
            Route("/graphql/console/sign-in", self.sign_in, methods=["POST"]),
            Route("/graphql/console/sign-out", self.sign_out, methods=["POST"]),
        ]

    async def page(self, request: Request) -> Response:
        """GET /graphql from a browser: the console, or the sign-in form in front of it."""
        token = request.cookies.get(CONSOLE_COOKIE)
        admin = await admin_for(token) if token else None
        if admin is None and not self.open_to_all:
            response = self._sign_in_form(request)
        else:
            response = self._render(
                request, "console.html", {"admin": admin.email if admin else None}, admin=admin
            )
        if token and admin is None:
            # Expired, signed out elsewhere, or no longer an admin: stop sending it.
            self.forget_cookie(request, response)
        return response

    async def sign_in_page(self, request: Request) -> Response:
        return self._sign_in_form(request)

    async def sign_in(self, request: Request) -> Response:
        """The form's POST: the same rate limits and checks as the signIn mutation, and then
        a session only for an admin."""
        outcome = await self.check_sign_in(request)
        if isinstance(outcome, SignInRefused):
            return self._sign_in_form(request, refusal=outcome)
        return await self.signed_in_redirect(request, outcome, _graphql_url(request))

    async def check_sign_in(self, request: Request) -> User | SignInRefused:
        """The admin whom the posted sign-in form names, or why not (the admin pages at /admin
        post the same form and show the refusal in the admin's language, by its status).

        A form posted by a page of another origin is refused before it is read: such a page
        could sign the browser in to an account of its choosing (login CSRF), and the admin
        would then work, and type things, in the attacker's console."""
        if posted_from_other_origin(request, self.cross_origin, self.settings.public_url):
            return SignInRefused(403, other_origin=True)
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != FORM:
            return SignInRefused(415)
        form = await request.form(max_files=0, max_fields=8)
        email, password = form.get("email"), form.get("password")
        email = email if isinstance(email, str) else ""
        if not email.strip() or not isinstance(password, str) or not password:
            return SignInRefused(400, email)
        limiter = Limiter(request.app.state.redis)
        try:
            async with limiter.sign_in_attempt(client_ip(request, self.settings), email):
                user = await users.authenticate(email=email, password=password)
        except TemporarilyUnavailable as error:
            # Redis does not answer: the limits cannot be checked, so nobody signs in for now.
            return SignInRefused(
                503, email, {"Retry-After": str(error.retry_after)}, retry_after=error.retry_after
            )
        except RateLimited as error:
            return SignInRefused(
                429, email, {"Retry-After": str(error.retry_after)}, retry_after=error.retry_after
            )
        except DomainError:
            return SignInRefused(401, email)
        if not (await access_of(user)).is_admin:
            return SignInRefused(403, email)
        return user

    async def signed_in_redirect(self, request: Request, admin: User, to: str) -> Response:
        """A new session for the admin in the console's cookie, and on to `to` (a path of ours)."""
        session = await users.open_session(admin)
        response = RedirectResponse(to, status_code=303)
        response.headers.update(SECURITY_HEADERS)
        response.set_cookie(
            CONSOLE_COOKIE,
            session.token,
            max_age=self.settings.session_ttl_days * 86400,
            path=cookie_path(request),
            secure=self.secure_cookie,
            httponly=True,
            samesite="strict",
        )
        return response

    async def sign_out(self, request: Request) -> Response:
        return await self.signed_out_redirect(request, _graphql_url(request))

    async def signed_out_redirect(self, request: Request, to: str) -> Response:
        """End the cookie's session, forget the cookie, and on to `to` (a path of ours)."""
        # No CSRF token needed: SameSite=Strict keeps the cookie off a cross-site form's
        # POST, so such a request has no session to end.
        token = request.cookies.get(CONSOLE_COOKIE)
        if token:
            await users.sign_out(token)
        response = RedirectResponse(to, status_code=303)
        response.headers.update(SECURITY_HEADERS)
        self.forget_cookie(request, response)
        return response

    def _sign_in_form(self, request: Request, *, refusal: SignInRefused | None = None) -> Response:
        return self._render(
            request,
            "sign_in.html",
            {
                "error_key": refusal.error_key(_CONSOLE_REFUSAL_KEYS) if refusal else None,
                "retry_minutes": refusal.retry_minutes if refusal else 0,
                "email": refusal.email.strip() if refusal else "",
            },
            status=refusal.status if refusal else 200,
            headers=refusal.headers if refusal else None,
        )

    def _render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        admin: User | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """A console page in the language asked for (?lang=), else the admin's, else the
        browser's; GraphiQL itself speaks English only."""
        root = request.scope.get("root_path", "")
        locale = page_locale(request, self.settings.locales, admin.locale if admin else None)
        response = TEMPLATES.TemplateResponse(
            request,
            template,
            {
                "locale": locale,
                "t": i18n.words(locale, platform=self.settings.platform_name),
                "platform": self.settings.platform_name,
                "graphql_url": _graphql_url(request),
                "static_url": f"{root}/static/console",
                "sign_in_url": f"{root}/graphql/console/sign-in",
                "sign_out_url": f"{root}/graphql/console/sign-out",
                "reset_password_url": f"{root}/reset-password",
                "open_to_all": self.open_to_all,
                **context,
            },
            status_code=status,
            headers={**SECURITY_HEADERS, **(headers or {})},
        )
        response.headers["Content-Language"] = locale
        response.headers["Vary"] = "Accept-Language, Cookie"
        return response

    def forget_cookie(self, request: Request, response: Response) -> None:
        # Earlier releases scoped the cookie to /graphql: a browser may hold one there too.
        for path in (cookie_path(request), _graphql_url(request)):
            response.delete_cookie(
                CONSOLE_COOKIE,
                path=path,
                secure=self.secure_cookie,
                httponly=True,
                samesite="strict",
            )


@dataclass(frozen=True)
class SignInRefused:
    """Why a sign-in form opened no session: the HTTP status says which case (400 a field
    left empty, 401 wrong credentials, 403 not an admin, 415 not the form, 429 too many
    attempts, 503 the limits cannot be checked for now); REFUSAL_KEYS has the words for each.
    A form posted by a page of another origin is a 403 with words of its own."""

    status: int
    email: str = ""
    headers: dict[str, str] | None = None
    retry_after: int = 0  # seconds
    other_origin: bool = False

    def error_key(self, keys: dict[int, str]) -> str:
        """The catalog's words for this refusal, from `keys` (by status) unless it has its own."""
        if self.other_origin:
            return OTHER_ORIGIN_KEY
        return keys.get(self.status, "admin.failed")

    @property
    def retry_minutes(self) -> int:
        """The wait in whole minutes, rounded up (the words count minutes)."""
        return max(1, -(-self.retry_after // 60))


async def admin_for(token: str) -> User | None:
    """The admin whose session the token is, or None (no session, or no longer an admin)."""
    user = await users.user_for_session_token(token)
    if user is None or not (await access_of(user)).is_admin:
        return None
    return user


def cookie_path(request: Request) -> str:
    """The whole service: /graphql, the downloads under /invitations and the console pages."""
    return request.scope.get("root_path", "") or "/"


def _graphql_url(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}/graphql"
