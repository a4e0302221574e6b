"""The pages residents see: /invite, where people type their code (or follow the mail's link)
and register; /confirm and /reset-password, where mails' links lead; /account; the landing
pages; the frame of the error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import Scope

from api import resident_session
from api.languages import page_locale
from api.resident_session import ResidentSession
from domain import i18n
from domain.models import User
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

# The words the pages' scripts show after loading, sent in a data attribute: those every page
# may need, then each page's own.
COMMON_SCRIPT_KEYS = (
    "invite.rate_limited",
    "page.rate_limited_hours",
    "invite.failed",
    "invite.offline",
    "invite.unavailable",
    "invite.errors_summary",
    "invite.fill_in",
    "invite.invalid_email",
    "invite.email_mixed_scripts",
    "invite.email_ends_with",
    "invite.email_non_breaking_space",
    "invite.email_not_deliverable",
    "invite.weak_password",
)
# The confirmation step (a code mailed to the address), on /invite and /account.
CONFIRM_STEP_KEYS = (
    "confirm.step_intro",
    "confirm.code_empty",
    "confirm.invalid_code",
    "confirm.letter_code_used_again",
    "confirm.confirming",
    "confirm.resent",
    "confirm.changed",
    "confirm.wrong_password",
    "confirm.sending",
)
SCRIPT_KEYS = {
    "page.html": (
        "invite.code_empty",
        "invite.check_code",
        "invite.checking",
        "invite.wrong_password",
        "invite.choose",
        "invite.submitting",
        "invite.waiting_notice",
        *CONFIRM_STEP_KEYS,
    ),
    "confirm.html": (*CONFIRM_STEP_KEYS, "confirm.password_needed", "confirm.already"),
    "reset.html": ("reset.sending", "reset.saving", "reset.sent"),
    "account.html": (
        "invite.choose",
        "account.signing_in",
        "account.wrong_credentials",
        "account.signed_in_as",
        "account.saving",
        "account.saved",
        "account.wrong_password",
        "account.password_changed",
        "account.email_now",
        "account.email_code_intro",
        "account.email_other_note",
        "account.email_changed",
        "account.email_taken",
        "account.same_email",
        "account.signed_out",
        "account.groups_none",
        "account.role_admin",
        "account.role_project_manager",
        "account.fields_needed",
        "account.field_new",
        *CONFIRM_STEP_KEYS,
    ),
}


class SecureStaticFiles(StaticFiles):
    """StaticFiles that send the page's security headers with every file."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


class ResidentPages:
    """The pages residents see, in their language: /invite, /confirm (the link in a code's
    mail), /reset-password, /account, the landing pages (/ and /welcome) and, through `render`,
    the error pages (api/invite_errors.py)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.locale_names = i18n.locale_names(settings.locales)
        self.session = ResidentSession(settings)

    def locale(self, request: Request, signed_in: User | None = None) -> str:
        """As every page chooses (api.languages). (An invitation's locale is known only to
        invite.js, which reloads the page in it: see there.)"""
        return page_locale(request, self.settings.locales, signed_in.locale if signed_in else None)

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
        signed_in: User | None = None,
    ) -> Response:
        locale = self.locale(request, signed_in)
        root = self.root(request)
        words = i18n.words(locale, platform=self.settings.platform_name)
        # A language picked (or given by a mail's link) goes along to the next page.
        carried = f"?lang={quote(locale)}" if request.query_params.get("lang") else ""
        script_keys = SCRIPT_KEYS.get(template)
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
                "link": lambda path: f"{root}{path}{carried}",
                "landing_url": self.settings.platform_url or f"{root}/welcome",
                "graphql_url": f"{root}/graphql",
                "password_min": self.settings.password_min_length,
                "password_max": PASSWORD_MAX_LENGTH,
                "script_words": (
                    words.for_script((*COMMON_SCRIPT_KEYS, *script_keys)) if script_keys else {}
                ),
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
        """In the signed-in account's language (unless ?lang= or the invitation's says
        otherwise), and, for a link that no longer works, the way on to that account."""
        user = await self._signed_in(request)
        response = self.render(request, "page.html", {"user": user}, signed_in=user)
        response.headers["Vary"] = "Accept-Language, Cookie"
        return response

    async def confirm(self, request: Request) -> Response:
        """The link in a code's mail (`/confirm#email=…&code=…`, read by confirm.js), or the
        form to type the address and the code; signed in (a session opens only for a confirmed
        address), that the address is confirmed, and the way on."""
        user = await self._signed_in(request)
        response = self.render(request, "confirm.html", {"user": user}, signed_in=user)
        response.headers["Vary"] = "Accept-Language, Cookie"
        return response

    async def reset_password(self, request: Request) -> Response:
        """Ask for a link to choose a new password; with `#token=…` (the mail's link), choose
        it (reset.js)."""
        return self.render(
            request, "reset.html", {"reset_minutes": self.settings.password_reset_ttl_minutes}
        )

    async def account(self, request: Request) -> Response:
        """Sign in; signed in: names, language, registration fields, password, address."""
        response = self.render(request, "account.html", signed_in=await self._signed_in(request))
        response.headers["Vary"] = "Accept-Language, Cookie"
        return response

    async def welcome(self, request: Request) -> Response:
        """Where the pages lead when no host platform is set: signed in, the account is ready,
        what next and who is signed in; otherwise where to sign in or accept an invitation."""
        user = await self._signed_in(request)
        if user is None:
            # Nobody's account to speak of: where to sign in, or to accept an invitation.
            response = self.render(request, "home.html")
        else:
            response = self.render(request, "welcome.html", {"user": user}, signed_in=user)
        if user is None and resident_session.COOKIE in request.cookies:
            self.session.forget(request, response)  # a session that ended: stop sending it
        response.headers["Vary"] = "Accept-Language, Cookie"
        return response

    async def home(self, request: Request) -> Response:
        """This service's address: the host platform when there is one, else a page that
        leads on to /invite and the account."""
        if self.settings.platform_url:
            return RedirectResponse(self.settings.platform_url, status_code=302)
        return self.render(request, "home.html")

    @staticmethod
    async def _signed_in(request: Request) -> User | None:
        return await resident_session.signed_in(request)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home, methods=["GET", "HEAD"]),
            Route("/invite", self.invite, methods=["GET", "HEAD"]),
            Route("/confirm", self.confirm, methods=["GET", "HEAD"]),
            Route("/reset-password", self.reset_password, methods=["GET", "HEAD"]),
            Route("/account", self.account, methods=["GET", "HEAD"]),
            Route("/welcome", self.welcome, methods=["GET", "HEAD"]),
            *self.session.routes(),
            Mount("/static", app=SecureStaticFiles(directory=STATIC_DIR), name="static"),
        ]
