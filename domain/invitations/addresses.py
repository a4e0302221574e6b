"""Addresses as admins type or paste them: a list, or one string of many."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr

_SEPARATORS = re.compile(r"[,;\n\r\t]+")


@dataclass(frozen=True, slots=True)
class TypedEntry:
    """One typed entry: its address and, pasted as 'Jan Peeters <jan@example.org>', the name
    with it (the first word the first name, the rest the last name: 'Jan Van den Bossche')."""

    email: str
    first_name: str = ""
    last_name: str = ""


def split_entries(emails: str | Iterable[str]) -> list[TypedEntry]:
    """Entries of a typed list or of one comma-separated string, blanks dropped."""
    items = [emails] if isinstance(emails, str) else list(emails)
    result: list[TypedEntry] = []
    for item in items:
        for part in _SEPARATORS.split(item):
            part = part.strip()
            if not part:
                continue
            if "<" not in part or not part.endswith(">"):
                result.append(TypedEntry(part))
                continue
            name, address = parseaddr(part)
            if not address:
                result.append(TypedEntry(part))  # the checks say what is wrong with it
                continue
            # A mail client may repeat the address as the name: that is no name.
            first, _, last = ("" if "@" in name else name).strip().partition(" ")
            result.append(TypedEntry(address, first, last.strip()))
    return result
