"""Time as the service sees it: the database's clock, shifted only by tests.

Expiry and reminders are decided by the database's clock so that every API and worker
process agrees on 'now'. Tests move time forward with `clock.advance()`; nothing else fakes it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from domain import db

# How long a measured difference between this process's clock and the database's is trusted.
# Sends and reminders ask for 'now' hundreds of times a second; one query per few seconds
# keeps every decision on the database's clock without a round trip each time.
_SKEW_TTL_SECONDS = 5.0


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta(0)
        self._skew: timedelta | None = None
        self._skew_measured_at = 0.0

    async def now(self) -> datetime:
        """The database's current time (plus the test offset)."""
        monotonic = time.monotonic()
        if self._skew is None or monotonic - self._skew_measured_at > _SKEW_TTL_SECONDS:
            before = datetime.now(UTC)
            database = await db.database_now()
            after = datetime.now(UTC)
            self._skew = database - (before + (after - before) / 2)
            self._skew_measured_at = monotonic
        return datetime.now(UTC) + self._skew + self.offset

    def local_now(self) -> datetime:
        """This process's clock, for timestamps that decide nothing (logs, progress)."""
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def reset(self) -> None:
        self.offset = timedelta(0)
        self._skew = None


clock = Clock()
