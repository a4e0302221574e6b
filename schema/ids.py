"""GraphQL ids are the database's integer ids, as strings."""

from __future__ import annotations

import strawberry


def parse_id(value: strawberry.ID | str) -> int:
    """Anything that is not a positive 32-bit integer matches nothing (-1), not a 500."""
    try:
        number = int(str(value))
    except ValueError:
        return -1
    return number if 0 < number < 2**31 else -1
