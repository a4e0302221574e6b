"""The admin console's pages at /admin, in the admin's language, for admins signed in with the
console's cookie (api.console). Each page is a GraphQL client of the public API like any other:
the server renders the frame and the page's words; the page's script asks /graphql for the
rest, and the cookie authenticates those requests (api.graphql.console_session_token).

Adding a page
-------------
1. One line in `PAGES` (the navigation follows its order; `HOME` names the page `/admin` leads
   to once signed in):

       AdminPage("groups", "admin.nav.groups", "groups.html", "groups.js", GROUPS_WORDS),

   - its path under /admin (`/admin/groups`) and the catalog key of its name;
   - its template in api/templates/admin/: `{% extends "layout.html" %}`, fill `main`
     (`t("key")` for words; `root`, `locale`, `locales`, `link(path)` are there too);
   - its script module in api/static/admin/ (loaded with `type="module"`), which imports
     `client.js`: `graphql(query, variables)` resolves to the data (throws `Failure` for
     signed-out, offline and server trouble), `upload(...)` sends a file, `t(key, values)` /
     `plural(key, count)` give the page's words;
   - the catalog keys that script shows (`words`): they reach it in `<main data-words>`.
   A page listed before it is built: `AdminPage("mail", "admin.nav.mail")` (a placeholder).
2. Its messages in the three catalogs (domain/i18n/catalogs/*.po), translated.
3. A browser test (tests/test_admin_*.py) that signs in (tests/admin_browser.py) and runs
   axe-core on it; its screenshot in docs/console/ (`make console-screenshots`).

Not signed in: every page shows the sign-in form, which comes back to the page asked for.
Signed in but no longer an admin: a page that says so, with a way to sign out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from api.admin_manage import (
    FIELDS_WORDS,
    GROUPS_WORDS,
    INVITATIONS_WORDS,
    MAIL_WORDS,
    RULE_WORDS,
    WEBHOOKS_WORDS,
)
from api.console import REFUSAL_KEYS, Console, SignInRefused, admin_for
from api.graphql import CONSOLE_COOKIE
from api.languages import page_locale
from domain import i18n
from domain.models import User
from domain.settings import Settings
from domain.users import profile
from domain.users import service as users

TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates" / "admin"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)
# The pages act with an admin's rights: only our own files may run or load on them, they may
# talk only to us, never be framed, and no cache keeps them.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

# The words client.js itself shows (failures, busy states), on every page.
CLIENT_WORDS = (
    "admin.failed",
    "admin.offline",
    "admin.signed_out",
    "admin.sign_in_again",
    "admin.working",
)
# Typed problems (UserError codes) the pages say in the admin's words; others keep the
# server's message.
PROBLEM_WORDS = (
    "admin.problem.INVALID_EMAIL",
    "admin.problem.INVALID_EMAIL.MIXED_SCRIPTS",
    "admin.problem.EMAIL_NOT_DELIVERABLE",
    "admin.problem.ADDRESS_SUPPRESSED",
    "admin.problem.DUPLICATE_EMAIL",
    "admin.problem.ALREADY_INVITED",
    "admin.problem.NO_EMAILS",
    "admin.problem.MESSAGE_TOO_LONG",
    "admin.problem.TOO_MANY_INVITATIONS",
    "admin.problem.UNKNOWN_GROUP",
    "admin.problem.UNKNOWN_PROJECT",
    "admin.problem.UNKNOWN_LOCALE",
    "admin.problem.SMART_GROUP_RULES_NOT_MET",
    "admin.problem.RATE_LIMITED",
    "admin.problem.TEMPORARILY_UNAVAILABLE",
    "admin.problem.INVALID_NAME",
    "admin.problem.UNKNOWN_FIELD",
    "admin.problem.INVALID_FIELD_VALUE",
    "admin.problem.REQUIRED_FIELD_MISSING",
    "admin.problem.NOT_AN_XLSX_FILE",
    "admin.problem.FILE_TOO_LARGE",
    "admin.problem.UNPARSEABLE_FILE",
    "admin.problem.TOO_MANY_ROWS",
    "admin.problem.MISSING_COLUMN",
    "admin.problem.UNKNOWN_COLUMN",
    "admin.problem.MALFORMED_ADMIN_VALUE",
    "admin.problem.MALFORMED_GROUPS_VALUE",
    "admin.problem.MALFORMED_FIELD_VALUE",
    "admin.problem.AMBIGUOUS_GROUP",
    "admin.problem.EXAMPLE_ROW",
    # ... and their words for a reason, which name the column, the cell, the rule
    "admin.problem.UNKNOWN_COLUMN.NOT_A_COLUMN",
    "admin.problem.UNKNOWN_COLUMN.NO_HEADER",
    "admin.problem.UNKNOWN_COLUMN.COLUMN_TWICE",
    "admin.reason.FORMULA_NOT_SAVED",
    "admin.reason.ERROR_VALUE",
    "admin.problem.NOT_AN_XLSX_FILE.OLD_OR_PROTECTED",
    "admin.problem.SMART_GROUP_RULES_NOT_MET.RULE_NOT_MET",
    "admin.problem.INVALID_EMAIL.ENDS_WITH",
    "admin.problem.INVALID_EMAIL.NON_BREAKING_SPACE",
    "admin.problem.INVALID_INPUT.MORE_PROBLEMS",
    # a smart group's rule, as the groups page words it
    *RULE_WORDS,
)
OPTIONS_WORDS = ("admin.options.no_projects", "admin.options.no_groups")
# What api/static/admin/downloads.js says beside a download.
DOWNLOAD_WORDS = (
    "admin.download.preparing",
    "admin.download.nothing",
    "admin.download.unavailable",
)
INVITE_WORDS = (
    *OPTIONS_WORDS,
    *PROBLEM_WORDS,
    "admin.invite.none_typed",
    "admin.invite.problems",
    "admin.invite.done",
    "admin.invite.existing",
    "admin.invite.see_list",
    "admin.invite.file_chosen",
    "admin.invite.choose_file",
    "admin.invite.not_xlsx",
    "admin.invite.uploading",
    "admin.invite.progress",
    "admin.invite.progress_waiting",
    "admin.invite.progress_not_started",
    "admin.invite.import_done",
    "admin.invite.import_failed",
    "admin.invite.options_reset",
    "admin.invite.confirm_title",
    "admin.invite.confirm_admin",
    "admin.invite.confirm_projects",
    "admin.invite.confirm_upload",
    *DOWNLOAD_WORDS,
)
IMPORTS_WORDS = (
    "admin.import.status.QUEUED",
    "admin.import.status.RUNNING",
    "admin.import.status.DONE",
    "admin.import.status.FAILED",
    "admin.imports.none",
    "admin.imports.total",
    "admin.imports.problems_file",
    "admin.imports.export",
)
CODES_WORDS = (
    *OPTIONS_WORDS,
    *PROBLEM_WORDS,
    "admin.codes.count_invalid",
    "admin.codes.done",
    "admin.codes.for_group",
    "admin.codes.for_all",
    "admin.codes.language",
    *DOWNLOAD_WORDS,
)


@dataclass(frozen=True)
class AdminPage:
    """One page of the console: `/admin/{path}`, named in the navigation by the catalog key
    `nav_key`; `template` in api/templates/admin/ (None: not built yet, a placeholder),
    `script` its module in api/static/admin/, `words` the catalog keys that script shows."""

    path: str
    nav_key: str
    template: str | None = None
    script: str | None = None
    words: tuple[str, ...] = ()


PAGES: list[AdminPage] = [
    AdminPage(
        "invitations",
        "admin.nav.invitations",
        "invitations.html",
        "invitations.js",
        INVITATIONS_WORDS,
    ),
    AdminPage("invite", "admin.nav.invite", "invite.html", "invite.js", INVITE_WORDS),
    AdminPage("imports", "admin.nav.imports", "imports.html", "imports.js", IMPORTS_WORDS),
    AdminPage("codes", "admin.nav.codes", "codes.html", "codes.js", CODES_WORDS),
    AdminPage("groups", "admin.nav.groups", "groups.html", "groups.js", GROUPS_WORDS),
    AdminPage("fields", "admin.nav.fields", "fields.html", "fields.js", FIELDS_WORDS),
    AdminPage("mail", "admin.nav.mail", "mail.html", "mail.js", MAIL_WORDS),
    AdminPage("webhooks", "admin.nav.webhooks", "webhooks.html", "webhooks.js", WEBHOOKS_WORDS),
]
# Where /admin leads an admin who is signed in.
HOME = "invite"


class AdminPages:
    def __init__(self, settings: Settings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.locale_names = i18n.locale_names(settings.locales)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/admin", self.home, methods=["GET", "HEAD"]),
            Route("/admin/sign-in", self.sign_in, methods=["POST"]),
            Route("/admin/sign-out", self.sign_out, methods=["POST"]),
            *(
                Route(f"/admin/{page.path}", self.page_view(page), methods=["GET", "HEAD"])
                for page in PAGES
            ),
        ]

    # -----------------------------------------------------------------------------------------
    # Requests

    async def home(self, request: Request) -> Response:
        admin = await self._signed_in(request)
        if isinstance(admin, User):
            return self._redirect(f"{_root(request)}/admin/{HOME}{_carried_lang(request)}")
        return self._refused(request, admin)

    def page_view(self, page: AdminPage) -> Callable[[Request], Awaitable[Response]]:
        async def view(request: Request) -> Response:
            admin = await self._signed_in(request)
            if not isinstance(admin, User):
                return self._refused(request, admin)
            return self.render(
                request,
                page.template or "placeholder.html",
                admin=admin,
                page=page,
                status=200,
            )

        return view

    async def sign_in(self, request: Request) -> Response:
        outcome = await self.console.check_sign_in(request)
        # Not the form, or another site's: its return path is not read.
        unread = isinstance(outcome, SignInRefused) and (
            outcome.status == 415 or outcome.other_origin
        )
        back = f"{_root(request)}/admin" if unread else await _back_to(request)
        if isinstance(outcome, SignInRefused):
            return self._sign_in_form(request, refusal=outcome, back=back)
        # A language picked with the sign-in page's switch becomes the account's, as the
        # switch does once signed in (client.js): the console opens in it next time too.
        picked = i18n.negotiate([request.query_params.get("lang") or ""], self.settings.locales)
        if picked is not None and picked != outcome.locale:
            await profile.update_profile(outcome, locale=picked)
        return await self.console.signed_in_redirect(request, outcome, back)

    async def sign_out(self, request: Request) -> Response:
        back = f"{_root(request)}/admin{_carried_lang(request)}"
        return await self.console.signed_out_redirect(request, back)

    # -----------------------------------------------------------------------------------------
    # Answers

    def render(
        self,
        request: Request,
        template: str,
        *,
        admin: User | None,
        page: AdminPage | None = None,
        status: int = 200,
        context: dict[str, Any] | None = None,
    ) -> Response:
        locale = page_locale(request, self.settings.locales, admin.locale if admin else None)
        root = _root(request)
        words = i18n.words(locale, platform=self.settings.platform_name)
        carried = _carried_lang(request)
        nav = [
            {
                "url": f"{root}/admin/{item.path}{carried}",
                "label": words(item.nav_key),
                "current": item is page,
            }
            for item in PAGES
        ]
        response = TEMPLATES.TemplateResponse(
            request,
            template,
            {
                "locale": locale,
                "t": words,
                "locales": self.locale_names,
                "platform": self.settings.platform_name,
                "root": root,
                "static_url": f"{root}/static",
                "link": lambda path: f"{root}{path}{carried}",
                "admin": admin,
                "page": page,
                "nav": nav if admin else [],
                "title": words(page.nav_key) if page else words("admin.sign_in.title"),
                "script_words": words.for_script((*CLIENT_WORDS, *(page.words if page else ()))),
                "sign_out_url": f"{root}/admin/sign-out{carried}",
                "message_max": self.settings.personal_message_max_length,
                "codes_max": self.settings.max_invitations_per_request,
                **(context or {}),
            },
            status_code=status,
        )
        response.headers.update(SECURITY_HEADERS)
        response.headers["Content-Language"] = locale
        response.headers["Vary"] = "Accept-Language, Cookie"
        return response

    def _refused(self, request: Request, why: str | None) -> Response:
        if why == "not_admin":
            response = self.render(request, "not_admin.html", admin=None, status=403)
        else:
            back = f"{request.url.path}{'?' + request.url.query if request.url.query else ''}"
            response = self._sign_in_form(request, refusal=None, back=back)
        if request.cookies.get(CONSOLE_COOKIE) and why != "not_admin":
            self.console.forget_cookie(request, response)  # a session that ended
        return response

    def _sign_in_form(
        self, request: Request, *, refusal: SignInRefused | None, back: str
    ) -> Response:
        error_key = refusal.error_key(REFUSAL_KEYS) if refusal else None
        response = self.render(
            request,
            "sign_in.html",
            admin=None,
            status=refusal.status if refusal else 200,
            context={
                "error_key": error_key,
                "retry_minutes": refusal.retry_minutes if refusal else 0,
                "email": refusal.email.strip() if refusal else "",
                "back": back,
                "sign_in_url": f"{_root(request)}/admin/sign-in{_carried_lang(request)}",
                "reset_password_url": f"{_root(request)}/reset-password{_carried_lang(request)}",
            },
        )
        if refusal and refusal.headers:
            response.headers.update(refusal.headers)
        return response

    @staticmethod
    def _redirect(to: str) -> Response:
        response = RedirectResponse(to, status_code=303)
        response.headers.update(SECURITY_HEADERS)
        return response

    @staticmethod
    async def _signed_in(request: Request) -> User | str | None:
        """The admin, or why not: None (no session) or "not_admin" (a session, not an admin)."""
        token = request.cookies.get(CONSOLE_COOKIE)
        if not token:
            return None
        admin = await admin_for(token)
        if admin is not None:
            return admin
        user = await users.user_for_session_token(token)
        return "not_admin" if user is not None else None


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _carried_lang(request: Request) -> str:
    """A language picked with the switch goes along to the next page."""
    lang = request.query_params.get("lang")
    return f"?lang={quote(lang)}" if lang else ""


async def _back_to(request: Request) -> str:
    """Where the sign-in form leads: the page it was shown on, if that is one of ours."""
    form = await request.form(max_files=0, max_fields=8)
    back = form.get("back")
    return safe_return_path(back if isinstance(back, str) else "", _root(request))


def safe_return_path(path: str, root: str = "") -> str:
    """`path` when it is a relative path to an admin page of this service, else /admin: a
    sign-in form must never send anyone to another site (`//evil`, `/\\evil`, `https:`)."""
    home = f"{root}/admin"
    parts = urlsplit(path)
    if (
        parts.scheme
        or parts.netloc
        or "\\" in path
        or any(ord(char) < 0x20 for char in path)
        or not (parts.path == home or parts.path.startswith(home + "/"))
        or ".." in parts.path.split("/")
    ):
        return home
    return path
