"""Checks shared by every entry point: email addresses, names, locales."""

from __future__ import annotations

import re
import unicodedata

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from domain.errors import DomainError, ErrorCode, Problem, Reason
from domain.settings import get_settings

MAX_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 320


# Plain ASCII addresses (nearly all of them) are checked by this strict pattern, which accepts
# only what email-validator accepts unchanged; anything else goes to email-validator. This
# keeps a 100,000-row import from spending seconds on address checks.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63})"
)
_SPECIAL_USE = {name.rsplit(".", 1)[-1] for name in SPECIAL_USE_DOMAIN_NAMES}
# What PostgreSQL's text (UTF-8) cannot hold: NUL, and a lone surrogate (JSON's "\ud800").
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    """Whether the database can store this text (GraphQL input is checked for it up front:
    schema.extensions.RefuseUnstorableInput; other ways in check it themselves)."""
    return _UNSTORABLE.search(text) is None


# Scripts that may share a domain label (as in Unicode's "highly restrictive" profile, UTS #39):
# Japanese and Chinese and Korean writing mix their own scripts, and each may take Latin.
_MIXES_ALLOWED = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_SCRIPT_ALIASES = {"CJK": "HAN", "IDEOGRAPHIC": "HAN", "KATAKANA-HIRAGANA": "KATAKANA"}


def _script(char: str) -> str | None:
    """The script of a letter, from its Unicode name (`LATIN SMALL LETTER E`, `CYRILLIC SMALL
    LETTER IE`); None for what belongs to every script (digits, hyphens, marks)."""
    if not unicodedata.category(char).startswith("L"):
        return None
    word = unicodedata.name(char, "").split(" ", 1)[0]
    if not word or word == "MODIFIER":
        return None
    return _SCRIPT_ALIASES.get(word, word)


def mixed_script_label(domain: str) -> str | None:
    """The first label of `domain` whose letters mix alphabets that are never written together
    (Latin with Cyrillic or Greek: `\u0435xample` looks like `example`), or None. A label in
    one script (`bücher`, `москва`) or in a mix that is one writing system (Japanese) passes."""
    for label in domain.split("."):
        scripts = {script for script in map(_script, label) if script is not None}
        if len(scripts) > 1 and not any(scripts <= allowed for allowed in _MIXES_ALLOWED):
            return label
    return None


def _unicode_domain(email: str) -> str | None:
    """The domain of an address as people read it (IDNA `xn--` labels decoded)."""
    try:
        return validate_email(email.strip(), check_deliverability=False).domain
    except EmailNotValidError:
        return None


def normalize_email(raw: str) -> str | None:
    """The address in the form we store and compare (lower case), or None if it is not one."""
    candidate = raw.strip()
    if not candidate or len(candidate) > MAX_EMAIL_LENGTH:
        return None
    lowered = candidate.lower()
    match = _PLAIN_EMAIL.fullmatch(lowered)
    if (
        match is not None
        and len(lowered) <= 254
        and lowered.index("@") <= 64
        and match.group(1) not in _SPECIAL_USE
        and (
            "--" not in lowered
            or not any(label[2:4] == "--" for label in lowered.rsplit("@", 1)[1].split("."))
        )
    ):
        return lowered
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    if mixed_script_label(result.domain.lower()) is not None:
        return None  # a look-alike of another address (email_problem says so)
    return result.normalized.lower()


# Spaces that look like a space but are none: a copy from a web page or a word processor.
_NON_BREAKING_SPACES = ("\u00a0", "\u202f", "\u2007")
# A sentence's or a list's mark after an address.
_STRAY_ENDINGS = (".", ";", ",")


def email_problem(
    raw: str, *, field: str = "email", position: int | None = None, row: int | None = None
) -> Problem:
    """An address that is none; where it is clear why (a domain mixing alphabets, a stray
    mark at its end, a non-breaking space in it) the problem says so, with its `reason`."""
    domain = _unicode_domain(raw) if not raw.isascii() or "xn--" in raw.lower() else None
    label = mixed_script_label(domain.lower()) if domain else None
    if label is not None:
        return Problem(
            code=ErrorCode.INVALID_EMAIL,
            message=f"{raw.strip()!r} is not accepted: its domain mixes alphabets ({label!r}"
            " mixes letters of different scripts), as look-alikes of other addresses do.",
            field=field,
            position=position,
            row=row,
            value=raw,
            reason=Reason.MIXED_SCRIPTS,
        )
    text = raw.strip()
    reason: Reason | None = None
    details: tuple[tuple[str, str], ...] = ()
    why = ""
    if any(space in text for space in _NON_BREAKING_SPACES):
        reason = Reason.NON_BREAKING_SPACE
        why = (
            " It holds a non-breaking space (it shows as a space, as copied from a web page or"
            " a document): delete it."
        )
    elif text.endswith(_STRAY_ENDINGS) and normalize_email(text[:-1]) is not None:
        reason = Reason.ENDS_WITH
        details = (("character", text[-1]),)
        why = f" It ends with {text[-1]!r} after the address: delete that character."
    return Problem(
        code=ErrorCode.INVALID_EMAIL,
        message=f"{text!r} is not a valid email address.{why}",
        field=field,
        position=position,
        row=row,
        value=raw,
        reason=reason,
        details=details,
    )


def undeliverable_email_problem(
    email: str, *, field: str = "email", position: int | None = None, row: int | None = None
) -> Problem | None:
    """A valid address the mail relay cannot take: one whose part before the @ is beyond
    ASCII needs a relay that offers SMTPUTF8 (INVITES_SMTP_UTF8). Its domain is never the
    problem: it is sent in IDNA. Checked where invitations take addresses."""
    if email.isascii() or email.rpartition("@")[0].isascii() or get_settings().smtp_utf8:
        return None
    return Problem(
        code=ErrorCode.EMAIL_NOT_DELIVERABLE,
        message=f"{email} cannot be mailed from this platform: the part before the @ has"
        " characters beyond ASCII, which its mail relay does not take. Ask for another"
        " address.",
        field=field,
        position=position,
        row=row,
        value=email,
    )


def require_email(raw: str, *, field: str = "email") -> str:
    email = normalize_email(raw)
    if email is None:
        raise DomainError(email_problem(raw, field=field))
    return email


def require_mailable_email(raw: str, *, field: str = "email") -> str:
    """An address someone gives to be mailed at (a sign-up, a new address, a letter's code):
    valid, and one the mail relay can take, or its code would never arrive."""
    email = require_email(raw, field=field)
    undeliverable = undeliverable_email_problem(email, field=field)
    if undeliverable is not None:
        raise DomainError(undeliverable)
    return email


def name_problem(value: str, field: str) -> Problem | None:
    """Names end up in mail headers and on pages: no line breaks or control characters."""
    if len(value) > MAX_NAME_LENGTH:
        return Problem(
            ErrorCode.INVALID_NAME, f"Use at most {MAX_NAME_LENGTH} characters.", field, value=value
        )
    # isprintable() is False for every Cc, Cf, Zl and Zp character (and a few harmless ones):
    # when it holds, the per-character check below cannot fail.
    if not value.isprintable() and any(
        unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in value
    ):
        return Problem(
            ErrorCode.INVALID_NAME,
            "Names cannot contain line breaks or control characters.",
            field,
            value=value,
        )
    return None


def clean_name(value: str | None, field: str) -> str:
    value = unicodedata.normalize("NFC", (value or "").strip())
    problem = name_problem(value, field)
    if problem:
        raise DomainError(problem)
    return value


def locale_problem(value: str, field: str = "locale") -> Problem | None:
    locales = get_settings().locales
    if value not in locales:
        return Problem(
            ErrorCode.UNKNOWN_LOCALE,
            f"{value!r} is not one of the platform's languages: {', '.join(locales)}.",
            field,
            value=value,
        )
    return None


def clean_locale(value: str | None, field: str = "locale") -> str:
    """A platform locale; blank means the platform's default. Matched case-insensitively."""
    settings = get_settings()
    if not value or not value.strip():
        return settings.default_locale
    by_lower = {locale.lower(): locale for locale in settings.locales}
    wanted = value.strip().replace("_", "-").lower()
    if wanted in by_lower:
        return by_lower[wanted]
    problem = locale_problem(value, field)
    assert problem is not None
    raise DomainError(problem)
