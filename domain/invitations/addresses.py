"""Addresses as admins type or paste them: a list, or one string of many."""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import parseaddr

_SEPARATORS = re.compile(r"[,;\n\r\t]+")


def split_emails(emails: str | Iterable[str]) -> list[str]:
    """Entries of a typed list or of one comma-separated string; blanks dropped, and
    'Jan Peeters <jan@example.org>' read as its address."""
    items = [emails] if isinstance(emails, str) else list(emails)
    result: list[str] = []
    for item in items:
        for part in _SEPARATORS.split(item):
            part = part.strip()
            if not part:
                continue
            if "<" in part and part.endswith(">"):
                part = parseaddr(part)[1] or part
            result.append(part)
    return result
