"""Postal addresses of invitations: the lines a letter prints in its envelope's window."""

from __future__ import annotations

import unicodedata

# DIN 5008's address zone holds six lines; at 10 pt about 45 characters fit its 80 mm (a
# longer line is printed smaller, down to 60%).
MAX_LINES = 6
MAX_LINE_LENGTH = 60


def clean_postal_address(raw: str) -> str:
    """Lines as stored: each trimmed, runs of spaces made one, blank lines dropped."""
    lines = (" ".join(line.split()) for line in raw.replace("\r\n", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def postal_address_problem(address: str) -> str | None:
    """What is wrong with a cleaned address, in words an admin can act on; None if nothing."""
    lines = address.split("\n") if address else []
    if len(lines) > MAX_LINES:
        return (
            f"An address has at most {MAX_LINES} lines (this one has {len(lines)}): the name,"
            " the street and number, the postcode and town, and the country if abroad."
        )
    for line in lines:
        if len(line) > MAX_LINE_LENGTH:
            return (
                f"Address lines have at most {MAX_LINE_LENGTH} characters: {line[:30]!r}... has"
                f" {len(line)}. Start a new line in the cell (Alt+Enter in Excel)."
            )
        if any(unicodedata.category(c)[0] == "C" for c in line):
            return "The address holds a control character: type it again as plain text."
    return None
