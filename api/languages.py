"""Which language a page speaks, the same way on every page: the switch's choice (`?lang=`,
which links in mails carry too), else the signed-in account's language, else the browser's best
match, else the platform's first locale."""

from __future__ import annotations

from starlette.requests import Request

from domain import i18n


def download_locale(request: Request, locales: list[str], account_locale: str | None) -> str:
    """The language of a file made for an admin (the import template, a problems file): the
    console's link names its page's (`?lang=`), else the account's, else the browser's best
    match; English, the words' source language, when none of these is a platform locale."""
    return i18n.choose_locale(
        locales,
        request.query_params.get("lang"),
        account_locale,
        accept_language=request.headers.get("accept-language", ""),
        fallback=i18n.SOURCE_LOCALE,
    )


def page_locale(request: Request, locales: list[str], account_locale: str | None = None) -> str:
    return i18n.choose_locale(
        locales,
        request.query_params.get("lang"),
        account_locale,
        accept_language=request.headers.get("accept-language", ""),
    )
