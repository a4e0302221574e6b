"""Titles per platform locale (groups, registration fields, select options): a title in the
default locale, which imports, exports and rules use, and others beside it in
`title_multiloc`. A locale without a title of its own shows the default one."""

from __future__ import annotations

from collections.abc import Mapping

from domain.errors import DomainError, ErrorCode, Problem, Reason
from domain.settings import get_settings
from domain.validation import clean_locale, clean_name


def resolve_locale(wanted: str | None) -> str:
    """The platform locale closest to `wanted` (a page's or a browser's language): the same
    in any case ('nl_be' is nl-BE), else the first of the same language ('nl' is nl-BE),
    else the default locale."""
    settings = get_settings()
    if not wanted or not wanted.strip():
        return settings.default_locale
    asked = wanted.strip().replace("_", "-").lower()
    for locale in settings.locales:
        if locale.lower() == asked:
            return locale
    language = asked.split("-", 1)[0]
    for locale in settings.locales:
        if locale.lower().split("-", 1)[0] == language:
            return locale
    return settings.default_locale


def title_in(title: str, multiloc: Mapping[str, str], locale: str | None) -> str:
    """The title in `locale` (resolved as resolve_locale does), or the default one."""
    return multiloc.get(resolve_locale(locale)) or title


def titles_of(title: str, multiloc: Mapping[str, str]) -> list[tuple[str, str]]:
    """(locale, title) for the default locale and every other with a title of its own, in the
    platform's order."""
    settings = get_settings()
    default = settings.default_locale
    return [(default, multiloc.get(default) or title)] + [
        (locale, multiloc[locale])
        for locale in settings.locales[1:]
        if multiloc.get(locale) and locale != default
    ]


def merge_titles(
    title: str | None,
    current_title: str,
    current: Mapping[str, str],
    given: Mapping[str, str] | None,
    *,
    field: str,
) -> tuple[str, dict[str, str]]:
    """The title in the default locale and the others, once `title` (the default locale's)
    and `given` (locale: title; a blank one removes that locale's own title) are applied to
    the current ones. Raises DomainError with every problem (an unknown locale, a name that is
    not one, a blank default title)."""
    default = get_settings().default_locale
    problems: list[Problem] = []
    new_title = current_title
    if title is not None:
        try:
            new_title = clean_name(title, field)
        except DomainError as error:
            problems.extend(error.problems)
    # An entry for the default locale is there only if INVITES_LOCALES changed its first
    # locale since: it is that locale's title until a new default title is given.
    titles = dict(current)
    if title is not None:
        titles.pop(default, None)
    for raw_locale, text in (given or {}).items():
        try:
            locale = clean_locale(raw_locale, f"{field}s")
            cleaned = clean_name(text, f"{field}s.{locale}")
        except DomainError as error:
            problems.extend(error.problems)
            continue
        if locale == default:
            if cleaned and title is not None and cleaned != new_title:
                problems.append(
                    Problem(
                        ErrorCode.INVALID_INPUT,
                        f"Two titles in {locale}: give the default language's title once.",
                        f"{field}s.{locale}",
                        value=cleaned,
                        reason=Reason.TITLE_TWICE,
                    )
                )
            elif cleaned:
                new_title = cleaned
                titles.pop(default, None)
            continue
        if cleaned:
            titles[locale] = cleaned
        else:
            titles.pop(locale, None)
    if not problems and not new_title:
        problems.append(
            Problem(
                ErrorCode.INVALID_INPUT,
                f"Give a title in the platform's default language ({default}).",
                field,
                value=default,
                reason=Reason.TITLE_MISSING,
            )
        )
    if problems:
        raise DomainError(*problems)
    return new_title, titles
