"""The words of the letters and cards in the invitation's language, from the service's
catalogs (`domain/i18n/catalogs/*.po`, the `letter.*` messages). A locale without a catalog of
its own reads one of its language, else English (`domain.i18n.catalog`)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from domain import i18n


class Words:
    """One locale's sentences, looked up once: every letter of a batch repeats them."""

    def __init__(self, locale: str) -> None:
        t = i18n.catalog(locale)
        self.locale = locale
        self._t = t
        self.greeting_unnamed = t("letter.greeting_unnamed")
        self.code_label = t("letter.code_label")
        self.scan = t("letter.scan")
        self.personal = t("letter.personal")
        self.card_label = t("letter.card_label")

    def greeting(self, name: str) -> str:
        return self._t("letter.greeting", name=name) if name else self.greeting_unnamed

    def campaign(self, platform: str) -> str:
        return self._t("letter.campaign", platform=platform)

    def how(self, url: str) -> str:
        return self._t("letter.how", url=url)

    def until(self, day: date) -> str:
        return self._t("letter.until", date=self.date(day))

    def help(self, contact: str) -> str:
        return self._t("letter.help", contact=contact)

    def card_where(self, url: str) -> str:
        return self._t("letter.card_where", url=url)

    def card_until(self, day: date) -> str:
        return self._t("letter.card_until", date=self.date(day))

    def date(self, day: date) -> str:
        return i18n.format_date(day, self.locale)


@lru_cache(maxsize=32)
def words_for(locale: str) -> Words:
    return Words(locale)
