"""The pages residents see: /invite, where people type their code (or follow the mail's link)
and register; the landing pages; the frame of the error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import Scope

from domain import i18n
from domain.settings import Settings
from domain.users.passwords import MAX_LENGTH as PASSWORD_MAX_LENGTH

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates" / "invite"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)
# The page handles a token that grants access: nothing but our own files may run or load
# on it, it may not be framed (clickjacking), and it never tells anyone where it was.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}

# The words invite.js shows after the page has loaded, sent in a data attribute.
SCRIPT_KEYS = (
    "invite.code_empty",
    "invite.check_code",
    "invite.checking",
    "invite.rate_limited",
    "invite.failed",
    "invite.offline",
    "invite.errors_summary",
    "invite.required",
    "invite.fill_in",
    "invite.invalid_email",
    "invite.already_registered",
    "invite.weak_password",
    "invite.choose",
    "invite.submitting",
    "invite.done_confirm",
)


class SecureStaticFiles(StaticFiles):
    """StaticFiles that send the page's security headers with every file."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


class ResidentPages:
    """The pages residents see, in their language: /invite, the landing pages (/ and /welcome)
    and, through `render`, the error pages (api/invite_errors.py)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.locale_names = i18n.locale_names(settings.locales)

    def locale(self, request: Request) -> str:
        """The switch's choice (?lang=), else the browser's best match. (The invitation's
        locale is known only to invite.js, which reloads the page in it: see there.)"""
        return i18n.choose_locale(
            self.settings.locales,
            request.query_params.get("lang"),
            accept_language=request.headers.get("accept-language", ""),
        )

    @staticmethod
    def root(request: Request) -> str:
        """The service's own path prefix (behind a proxy), also inside a Mount (/static)."""
        return str(request.scope.get("app_root_path", request.scope.get("root_path", "")))

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
        language_switch: bool = True,
    ) -> Response:
        locale = self.locale(request)
        root = self.root(request)
        words = i18n.words(locale, platform=self.settings.platform_name)
        response = TEMPLATES.TemplateResponse(
            request,
            template,
            {
                "locale": locale,
                "t": words,
                "locales": self.locale_names if language_switch else {},
                "platform": self.settings.platform_name,
                "platform_url": self.settings.platform_url,
                "root": root,
                "static_url": f"{root}/static",
                **(context or {}),
            },
            status_code=status_code,
        )
        response.headers.update(SECURITY_HEADERS)
        response.headers["Content-Language"] = locale
        response.headers["Vary"] = "Accept-Language"
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def invite(self, request: Request) -> Response:
        root = self.root(request)
        words = i18n.words(self.locale(request), platform=self.settings.platform_name)
        return self.render(
            request,
            "page.html",
            {
                "script_words": {
                    key.removeprefix("invite."): value
                    for key, value in words.for_script(SCRIPT_KEYS).items()
                },
                "graphql_url": f"{root}/graphql",
                "password_min": self.settings.password_min_length,
                "password_max": PASSWORD_MAX_LENGTH,
            },
        )

    async def welcome(self, request: Request) -> Response:
        """Where /invite leads when no host platform is set: the account is ready, what next."""
        return self.render(request, "welcome.html")

    async def home(self, request: Request) -> Response:
        """This service's address: the host platform when there is one, else a page that
        leads on to /invite and the account."""
        if self.settings.platform_url:
            return RedirectResponse(self.settings.platform_url, status_code=302)
        return self.render(request, "home.html")

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home, methods=["GET", "HEAD"]),
            Route("/invite", self.invite, methods=["GET", "HEAD"]),
            Route("/welcome", self.welcome, methods=["GET", "HEAD"]),
            Mount("/static", app=SecureStaticFiles(directory=STATIC_DIR), name="static"),
        ]
