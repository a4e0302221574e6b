"""The words of the service in every platform locale, shared by its pages, mails and console.

One gettext catalog a language in `catalogs/<locale>.po` (`en.po`, `nl-BE.po`, `fr-BE.po`).
Message ids are keys (`invite.title`, `mail.greeting`); `en.po` holds the source text and the
others translate it, plural forms included (`msgid_plural`, as many `msgstr[n]` as the
language's `Plural-Forms` header says). Placeholders are written `{name}` and filled in here,
after translation, so translators can move them.

The `.po` files are read as they are, the first time a locale is asked for (Babel parses
them and turns each into gettext translations in memory): there is no compile step, so no
compiled file can go stale or be forgotten. Adding a language is adding its catalog file and
naming the locale in `INVITES_LOCALES`; `tests/test_i18n.py` checks every catalog has every
message with the same placeholders.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

CATALOG_DIR = Path(__file__).parent / "catalogs"
SOURCE_LOCALE = "en"  # the language the messages are written in first; the last fallback
# Enough numbers to meet every plural category of the languages CLDR knows (French's "many"
# starts at a million).
_PLURAL_SAMPLES = (*range(0, 1001), 1_000_000, 2_000_000)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def language_of(locale: str) -> str:
    """'nl-BE' -> 'nl'."""
    return locale.split("-")[0].lower()


def babel_locale(locale: str) -> Locale:
    return Locale.parse(locale, sep="-")


@cache
def catalog_files() -> dict[str, Path]:
    """Each catalog by the locale it is written for (its file name): {'nl-BE': .../nl-BE.po}."""
    return {path.stem: path for path in sorted(CATALOG_DIR.glob("*.po"))}


def catalog_locale(locale: str) -> str | None:
    """Which catalog speaks to a platform locale: its own, else one of the same language
    ('nl-NL' reads 'nl-BE.po', a bare 'nl.po' first if there is one), else None."""
    files = {name.lower(): name for name in catalog_files()}
    if locale.lower() in files:
        return files[locale.lower()]
    language = language_of(locale)
    if language in files:
        return files[language]
    for lower, name in files.items():
        if language_of(lower) == language:
            return name
    return None


class Catalog:
    """The words of one locale: `t("key", name=...)`, `t.plural("key", count, ...)`."""

    def __init__(self, locale: str, fallback: Catalog | None = None) -> None:
        self.locale = locale
        self.babel_locale = babel_locale(locale)
        with catalog_files()[locale].open("rb") as po:
            messages = read_po(po, locale=locale.replace("-", "_"))
        self.keys = frozenset(m.id for m in messages if m.id and isinstance(m.id, str))
        self.plural_keys = frozenset(m.id[0] for m in messages if isinstance(m.id, tuple))
        compiled = io.BytesIO()
        write_mo(compiled, messages)  # fuzzy entries are left out: they are not translations
        compiled.seek(0)
        self._translations = Translations(compiled)
        self._fallback = fallback
        self._plural_forms: dict[str, dict[str, str]] = {}  # worked out once per message
        if fallback is not None:
            self._translations.add_fallback(fallback._translations)

    def knows(self, key: str, *, plural: bool = False) -> bool:
        """Whether this catalog or its fallback has the message."""
        catalog: Catalog | None = self
        while catalog is not None:
            if key in (catalog.plural_keys if plural else catalog.keys):
                return True
            catalog = catalog._fallback
        return False

    def _check(self, key: str, *, plural: bool) -> None:
        if self.knows(key, plural=plural):
            return
        kind = "plural message" if plural else "message"
        raise KeyError(f"no {kind} {key!r} in the {self.locale} catalog or its fallback")

    def __call__(self, key: str, /, **values: object) -> str:
        self._check(key, plural=False)
        return fill(self._translations.gettext(key), values)

    def plural(self, key: str, count: int, /, **values: object) -> str:
        """The form for `count` ('Wait 1 minute', 'Wait 2 minutes'); `{count}` is filled in."""
        self._check(key, plural=True)
        return fill(self._translations.ngettext(key, key, count), {"count": count, **values})

    def plural_forms(self, key: str) -> dict[str, str]:
        """The forms of a plural message by CLDR category ('one', 'other', ...), for scripts
        that choose one with `Intl.PluralRules`; `{count}` is left for them to fill in."""
        self._check(key, plural=True)
        if key not in self._plural_forms:
            forms: dict[str, str] = {}
            for count in _PLURAL_SAMPLES:
                category = self.babel_locale.plural_form(count)
                forms.setdefault(category, self._translations.ngettext(key, key, count))
            self._plural_forms[key] = forms
        return dict(self._plural_forms[key])

    def for_script(self, keys: Iterable[str], **values: object) -> dict[str, str | dict[str, str]]:
        """Messages a page's script shows: plural ones as their forms by category. Only the
        given values are filled in; other placeholders stay for the script."""
        words: dict[str, str | dict[str, str]] = {}
        for key in keys:
            if key in self.plural_keys or (self._fallback and key in self._fallback.plural_keys):
                words[key] = {
                    category: fill(text, values, strict=False)
                    for category, text in self.plural_forms(key).items()
                }
            else:
                self._check(key, plural=False)
                words[key] = fill(self._translations.gettext(key), values, strict=False)
        return words


class Words:
    """A locale's catalog with the values any of its messages may use (the platform's name),
    as the templates of pages and mails call it: `t("key")`, `t.plural("key", count)`."""

    def __init__(self, catalog: Catalog, **common: object) -> None:
        self.catalog = catalog
        self.locale = catalog.locale
        self.common = common

    def __call__(self, key: str, /, **values: object) -> str:
        return self.catalog(key, **{**self.common, **values})

    def plural(self, key: str, count: int, /, **values: object) -> str:
        return self.catalog.plural(key, count, **{**self.common, **values})

    def knows(self, key: str) -> bool:
        return self.catalog.knows(key)

    def for_script(self, keys: Iterable[str]) -> dict[str, str | dict[str, str]]:
        return self.catalog.for_script(keys, **self.common)


def fill(text: str, values: Mapping[str, object], *, strict: bool = True) -> str:
    """Put the values into a message's `{name}` placeholders (the only braces messages hold:
    tests/test_i18n.py checks). Strict: a placeholder without a value is a mistake."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return str(values[name])
        if strict:
            raise KeyError(f"no value for {{{name}}} in {text!r}")
        return match.group(0)

    return PLACEHOLDER.sub(value, text)


@lru_cache(maxsize=64)
def catalog(locale: str) -> Catalog:
    """The words for a platform locale (see `catalog_locale`); English when none speaks its
    language. Every catalog falls back to the source one for a message it lacks."""
    source = _catalog(SOURCE_LOCALE)
    name = catalog_locale(locale)
    return source if name is None else _catalog(name)


def words(locale: str, **common: object) -> Words:
    """The words for a platform locale, with values every message may use filled in."""
    return Words(catalog(locale), **common)


@cache
def _catalog(name: str) -> Catalog:
    if name == SOURCE_LOCALE:
        return Catalog(name)
    return Catalog(name, fallback=_catalog(SOURCE_LOCALE))


def reload() -> None:
    """Read the catalogs again when next asked (after CATALOG_DIR or a file changed)."""
    for cached in (catalog_files, catalog, _catalog):
        cached.cache_clear()


# ---------------------------------------------------------------------------------------------
# Choosing a locale


def accepted_languages(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first (q=0: not this)."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(preferred: Iterable[str], locales: list[str]) -> str | None:
    """The platform locale that best fits the preferred tags, in order: the same tag, then
    the same language ('nl-NL' and 'nl' get 'nl-BE'). None when nothing fits.

    Babel's negotiation, told the language of each platform locale (its aliases), and given
    each tag's bare language right after the tag: browsers often send 'nl-NL' alone.
    """
    aliases: dict[str, str] = {}
    for locale in locales:
        aliases.setdefault(language_of(locale), locale)
    tags: list[str] = []
    for tag in preferred:
        for candidate in (tag, language_of(tag)):
            if candidate and candidate.lower() not in (t.lower() for t in tags):
                tags.append(candidate)
    found = negotiate_locale(tags, locales, sep="-", aliases=aliases)
    if found is None:
        return None
    by_lower = {locale.lower(): locale for locale in locales}
    return by_lower.get(found.lower())


def choose_locale(
    locales: list[str],
    *preferences: str | None,
    accept_language: str = "",
    fallback: str | None = None,
) -> str:
    """The first preference that names (or shares a language with) a platform locale, else
    the browser's best match, else `fallback`, else the platform's first locale."""
    for preference in preferences:
        if preference:
            found = negotiate([preference], locales)
            if found is not None:
                return found
    return negotiate(accepted_languages(accept_language), locales) or fallback or locales[0]


def locale_names(locales: list[str]) -> dict[str, str]:
    """How each platform locale calls itself in a language switch: 'Nederlands', or
    'Nederlands (België)' when two locales share the language."""
    languages = [language_of(locale) for locale in locales]
    names: dict[str, str] = {}
    for locale, language in zip(locales, languages, strict=True):
        try:
            own = babel_locale(locale)
        except (ValueError, LookupError):
            names[locale] = locale
            continue
        name = own.get_display_name() if languages.count(language) > 1 else own.language_name
        names[locale] = (name or locale)[:1].upper() + (name or locale)[1:]
    return names


@lru_cache(maxsize=4096)
def format_date(value: date, locale: str) -> str:
    """A date as the locale's words write it in a sentence: 'May 31, 2026', '31 mei 2026'."""
    return babel_format_date(value, format="long", locale=catalog(locale).babel_locale)
