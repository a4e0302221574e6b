"""Addresses as admins type or paste them: a list, or one string of many."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# The separators, kept by the split: a comma may belong to a name (see _pieces).
_SEPARATORS = re.compile(r"([,;\n\r\t]+)")
# What may come before the comma of a name written last name first, and after it.
_LAST_NAME = re.compile(r"[^@<>]+")
_FIRST_NAME_AND_ADDRESS = re.compile(r"[^@<>,]+<[^<>]*>")


@dataclass(frozen=True, slots=True)
class TypedEntry:
    """One typed entry: its address and, pasted as 'Jan Peeters <jan@example.org>', the name
    with it (the first word the first name, the rest the last name: 'Jan Van den Bossche';
    written last name first, 'Peeters, Jan <jan@example.org>' as mail clients copy some)."""

    email: str
    first_name: str = ""
    last_name: str = ""


def _pieces(item: str) -> list[str]:
    """The entries of one string, split at the separators but for the comma of a name
    written last name first. api/static/admin/invite.js counts them the same way: the
    problems' positions point into this list."""
    parts = _SEPARATORS.split(item)
    pieces: list[str] = []
    index = 0
    while index < len(parts):
        piece = parts[index].strip()
        if (
            index + 2 < len(parts)
            and parts[index + 1] == ","
            and _LAST_NAME.fullmatch(piece)
            and _FIRST_NAME_AND_ADDRESS.fullmatch(parts[index + 2].strip())
        ):
            piece = f"{piece}, {parts[index + 2].strip()}"
            index += 2
        if piece:
            pieces.append(piece)
        index += 2
    return pieces


def _without_mailto(address: str) -> str:
    """'mailto:jan@example.org', as a link copied from a page or a mail gives it."""
    return address[7:].strip() if address[:7].lower() == "mailto:" else address


def parse_entry(piece: str) -> TypedEntry:
    """One entry as typed or as a spreadsheet's email cell holds it: an address, 'mailto:' and
    an address, or a name and an address in angle brackets ('Jan Peeters <jan@example.org>')."""
    piece = piece.strip()
    if "<" not in piece or not piece.endswith(">"):
        return TypedEntry(_without_mailto(piece))
    name, _, address = piece[:-1].rpartition("<")
    if not address.strip():
        return TypedEntry(piece)  # 'Lea <>' is no address (an empty one is a code's)
    name = name.strip().strip('"').strip()
    if "@" in name:  # a mail client may repeat the address as the name: that is no name
        name = ""
    if "," in name:
        last, _, first = name.partition(",")
    else:
        first, _, last = name.partition(" ")
    return TypedEntry(_without_mailto(address.strip()), first.strip(), last.strip())


def split_entries(emails: str | Iterable[str]) -> list[TypedEntry]:
    """Entries of a typed list or of one comma-separated string, blanks dropped."""
    items = [emails] if isinstance(emails, str) else list(emails)
    return [parse_entry(piece) for item in items for piece in _pieces(item)]
