"""Rendering a mail's subject, text and HTML from its templates, in the reader's locale."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from domain import i18n
from domain.settings import get_settings


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Autoescape HTML (never the text part). Values are always passed as variables: nothing
    # a user typed is ever part of a template's source, so nothing of theirs is evaluated.
    return Environment(
        loader=PackageLoader("domain.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the code: no stat() per mail
    )


def render(kind: str, locale: str, subject_key: str, **context: Any) -> Rendered:
    """The mail `kind` (its templates `kind.txt` and `kind.html`) in the locale's words."""
    t = i18n.words(locale, platform=get_settings().platform_name)
    name = context.pop("name", "")
    subject = t(subject_key, **context.pop("subject_values", {}))
    values = {
        "t": t,
        "lang": t.locale,
        "subject": subject,
        "greeting": t("mail.greeting", name=name) if name else t("mail.greeting_anonymous"),
        **context,
    }
    env = _environment()
    text = env.get_template(f"{kind}.txt").render(values)
    html = env.get_template(f"{kind}.html").render(values)
    return Rendered(subject=subject, text=text, html=html)
