"""The personal message of an invitation: plain text with line breaks, shown as typed.

Stored as the admin typed it, its line breaks made `\\n` and its other control characters
dropped, and refused over the length limit. Nothing in it is read as HTML: `<b>` is shown as
those three characters. The mail's text part shows it as it is, its HTML part escaped with its
line breaks kept (`<br>`). It is always a value passed to a template, never template source.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from domain.errors import DomainError, ErrorCode, Problem

_LINE_BREAK = re.compile(r"\r\n?|[\u2028\u2029\x85]")
# C0 and C1 controls and DEL, but for the tab and the line feed: invisible in a mail, and
# some (a form feed, a vertical tab) break the lines of its text part.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain_message(raw: str | None) -> str:
    """The message as it is stored: line breaks as `\\n`, other control characters dropped,
    blank lines around it trimmed."""
    text = _LINE_BREAK.sub("\n", raw or "")
    return _CONTROL.sub("", text).strip()


def message_problem(raw: str, max_length: int) -> Problem | None:
    length = len(plain_message(raw))
    if length > max_length:
        return Problem(
            ErrorCode.MESSAGE_TOO_LONG,
            f"The personal message is {length} characters long; the limit is {max_length}.",
            "personalMessage",
        )
    return None


def clean_personal_message(raw: str | None, max_length: int) -> str:
    """The message as stored; refuses one over the length limit."""
    problem = message_problem(raw or "", max_length)
    if problem:
        raise DomainError(problem)
    return plain_message(raw)


def as_html(stored: str) -> Markup:
    """The message in the mail's HTML part: escaped (shown as typed), line breaks kept."""
    lines = stored.split("\n") if stored else []
    return Markup("<br>\n").join(escape(line) for line in lines)


def as_text(stored: str) -> str:
    """The message in the mail's text part (and on a letter): as stored."""
    return stored
