"""Time as the service sees it: the database's clock, shifted only by tests.

Expiry and reminders are decided by the database's clock so that every API and worker
process agrees on 'now'. Tests move time forward with `clock.advance()`; nothing else fakes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import db


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta(0)

    async def now(self) -> datetime:
        return await db.database_now() + self.offset

    def local_now(self) -> datetime:
        """This process's clock, for timestamps that decide nothing (logs, progress)."""
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def reset(self) -> None:
        self.offset = timedelta(0)


clock = Clock()
