"""The /invite page: where people type their code (or follow the mail's link) and register."""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import Response
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


def invite_page(settings: Settings) -> Route:
    async def page(request: Request) -> Response:
        locale = i18n.choose_locale(
            settings.locales,
            request.query_params.get("lang"),
            accept_language=request.headers.get("accept-language", ""),
        )
        words = i18n.words(locale, platform=settings.platform_name)
        root = request.scope.get("root_path", "")
        response = TEMPLATES.TemplateResponse(
            request,
            "page.html",
            {
                "locale": locale,
                "t": words,
                "script_words": {
                    key.removeprefix("invite."): value
                    for key, value in words.for_script(SCRIPT_KEYS).items()
                },
                "locales": i18n.locale_names(settings.locales),
                "platform": settings.platform_name,
                "public_url": settings.public_url,
                "graphql_url": f"{root}/graphql",
                "static_url": f"{root}/static",
                "password_min": settings.password_min_length,
                "password_max": PASSWORD_MAX_LENGTH,
            },
        )
        response.headers.update(SECURITY_HEADERS)
        response.headers["Content-Language"] = locale
        response.headers["Vary"] = "Accept-Language"
        response.headers["Cache-Control"] = "no-cache"
        return response

    return Route("/invite", page, methods=["GET", "HEAD"])


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        invite_page(settings),
        Mount("/static", app=SecureStaticFiles(directory=STATIC_DIR), name="static"),
    ]
