"""Which language a page speaks, the same way on every page: the switch's choice (`?lang=`,
which links in mails carry too), else the signed-in account's language, else the browser's best
match, else the platform's first locale."""

from __future__ import annotations

from starlette.requests import Request

from domain import i18n


def page_locale(request: Request, locales: list[str], account_locale: str | None = None) -> str:
    return i18n.choose_locale(
        locales,
        request.query_params.get("lang"),
        account_locale,
        accept_language=request.headers.get("accept-language", ""),
    )
