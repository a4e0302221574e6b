"""Whether the mail relay is down, so that every worker pauses sending instead of each job
finding out for itself (and each mail burning a try).

The pause lives in Redis (all workers share it) with a copy in the process. A relay is down
when it cannot be reached, says so (421), or refuses three mails in a row for now (4xx). The
first pause lasts `relay_pause_seconds`; each further failure doubles it up to
`relay_pause_max_seconds`, the longest a relay that came back waits for the next try. A
success ends the outage. Without Redis (a CLI command, a test of the mailer) the pause is
this process's own.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.settings import Settings

log = logging.getLogger(__name__)
# An address, with the angle brackets a relay may quote it in.
_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")

PAUSED_UNTIL = "invitations:relay:paused-until"  # epoch seconds, as text
OUTAGE_LEVEL = "invitations:relay:outage-level"  # pauses in a row
# What the admins are shown while sending is paused (kept from the first pause of an outage
# until a mail goes through): when it began, and the relay's latest answer without addresses.
OUTAGE_SINCE = "invitations:relay:outage-since"  # epoch seconds, as text
OUTAGE_REASON = "invitations:relay:outage-reason"
OUTAGE_KEPT_SECONDS = 86400
CONSECUTIVE_TEMPORARY = 3


@dataclass(frozen=True, slots=True)
class RelayOutage:
    """Sending paused because the relay refuses or cannot be reached."""

    since: datetime
    reason: str  # the relay's answer (or why it could not be reached), addresses left out


class RelayGate:
    def __init__(self, settings: Settings, redis: Any | None = None) -> None:
        self._base = settings.relay_pause_seconds
        self._max = max(settings.relay_pause_max_seconds, settings.relay_pause_seconds)
        self.redis = redis
        self._paused_until = 0.0
        self._level = 0
        self._in_outage = False  # this process has seen the outage (and must end it)
        self._temporary_in_a_row = 0
        self._outage: RelayOutage | None = None  # without Redis: this process's own

    async def remaining(self) -> float:
        """Seconds left in the pause (0: send)."""
        now = time.time()
        if self.redis is not None:
            value, since = await self.redis.mget(PAUSED_UNTIL, OUTAGE_SINCE)
            self._paused_until = float(value) if value else 0.0
            if value or since:
                # An outage another worker met: this one's first mail through ends it.
                self._in_outage = True
        return max(self._paused_until - now, 0.0)

    async def down(self, reason: str) -> float:
        """The relay is down: pause (longer each time in a row). Returns the pause. Other
        connections finding out during the same pause do not lengthen it."""
        self._in_outage = True
        self._temporary_in_a_row = 0
        await self._record(reason)
        if self.paused_here():
            return self._paused_until - time.time()
        if self.redis is not None:
            level = int(await self.redis.incr(OUTAGE_LEVEL))
            await self.redis.expire(OUTAGE_LEVEL, 86400)
        else:
            self._level += 1
            level = self._level
        pause = min(self._base * 2 ** (level - 1), self._max) if self._base else 0.0
        until = time.time() + pause
        if self.redis is not None and pause > 0:
            await self.redis.set(PAUSED_UNTIL, repr(until), px=max(int(pause * 1000), 1))
        self._paused_until = until
        log.warning(
            "mail relay down (%s): sending paused for %.1f s", _without_addresses(reason), pause
        )
        return pause

    def paused_here(self) -> bool:
        """Whether this process knows of a pause still running (no Redis round trip)."""
        return self._paused_until > time.time()

    async def temporary_refusal(self, reason: str) -> bool:
        """A mail refused for now. True when it makes the relay down (several in a row)."""
        self._temporary_in_a_row += 1
        if self._temporary_in_a_row >= CONSECUTIVE_TEMPORARY:
            await self.down(f"{CONSECUTIVE_TEMPORARY} mails in a row refused for now: {reason}")
            return True
        return False

    async def accepted(self) -> None:
        """A mail went through: the relay is up."""
        self._temporary_in_a_row = 0
        if self._in_outage:
            self._in_outage = False
            self._level = 0
            self._paused_until = 0.0
            self._outage = None
            if self.redis is not None:
                await self.redis.delete(PAUSED_UNTIL, OUTAGE_LEVEL, OUTAGE_SINCE, OUTAGE_REASON)
            log.info("mail relay up again: sending resumed")

    async def _record(self, reason: str) -> None:
        """Keep the outage for the admins: its start (the first failure) and the latest
        answer."""
        shown = _without_addresses(reason)
        now = time.time()
        if self.redis is not None:
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(OUTAGE_SINCE, repr(now), nx=True, ex=OUTAGE_KEPT_SECONDS)
            pipe.expire(OUTAGE_SINCE, OUTAGE_KEPT_SECONDS)
            pipe.set(OUTAGE_REASON, shown, ex=OUTAGE_KEPT_SECONDS)
            await pipe.execute()
        since = self._outage.since if self._outage else datetime.fromtimestamp(now, UTC)
        self._outage = RelayOutage(since=since, reason=shown)

    async def outage(self) -> RelayOutage | None:
        """The outage sending is paused for, or None while mail goes out."""
        if self.redis is None:
            return self._outage
        return await relay_outage(self.redis)


async def relay_outage(redis: Any) -> RelayOutage | None:
    """The outage every worker pauses for (as the workers recorded it in Redis), or None."""
    since, reason = await redis.mget(OUTAGE_SINCE, OUTAGE_REASON)
    if not since:
        return None
    text = reason.decode() if isinstance(reason, bytes) else str(reason or "")
    return RelayOutage(
        since=datetime.fromtimestamp(float(since), UTC), reason=_without_addresses(text)
    )


def _without_addresses(reason: str) -> str:
    """A relay's answer for the log: it may quote the recipient, which logs never hold."""
    return _ADDRESS.sub("<address>", reason)[:200]
