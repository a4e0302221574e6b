"""The personal message of an invitation: plain text with line breaks, or a little HTML.

Stored sanitized to a small allowlist (nh3), shown as HTML in the mail's HTML part and as
text in its text part. It is always a value passed to a template, never template source.
"""

from __future__ import annotations

import html
import re

import nh3

from domain.errors import DomainError, ErrorCode, Problem

ALLOWED_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"https", "http", "mailto"}
_BLOCK_TAG = re.compile(r"<(p|ul|ol|li)\b", re.IGNORECASE)
_BLOCK_END = re.compile(r"</(p|li)>|<br\s*/?>", re.IGNORECASE)


def _clean(value: str) -> str:
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def message_problem(raw: str, max_length: int) -> Problem | None:
    if len(raw) > max_length:
        return Problem(
            ErrorCode.MESSAGE_TOO_LONG,
            f"The personal message is {len(raw)} characters long; the limit is {max_length}.",
            "personalMessage",
        )
    return None


def clean_personal_message(raw: str | None, max_length: int) -> str:
    """Sanitized message as stored; refuses one over the length limit."""
    raw = (raw or "").replace("\r\n", "\n").strip()
    problem = message_problem(raw, max_length)
    if problem:
        raise DomainError(problem)
    if not raw:
        return ""
    return _clean(raw)


def as_html(stored: str) -> str:
    """HTML for the mail (already sanitized; line breaks of plain text kept)."""
    if not stored:
        return ""
    cleaned = _clean(stored)
    if _BLOCK_TAG.search(cleaned):
        return cleaned  # written as HTML paragraphs: its line breaks are formatting
    return cleaned.replace("\n", "<br>\n")


def as_text(stored: str) -> str:
    """Plain text for the mail's text part: tags dropped, entities decoded."""
    if not stored:
        return ""
    with_breaks = _BLOCK_END.sub("\n", stored)
    return html.unescape(nh3.clean(with_breaks, tags=set())).strip()
