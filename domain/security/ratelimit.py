"""Rate limits in Redis: fixed windows, checked and counted atomically (Lua).

An attempt first reserves its place in every counter that applies (so a hundred concurrent
aliases cannot all slip under the limit); when it turns out not to count (a right code, a
right password) the reservation is released. Subjects (addresses, emails) are stored only as
keyed digests: Redis keys carry no personal data.

The limits fail closed: while Redis does not answer, an attempt they guard is refused with
TEMPORARILY_UNAVAILABLE (nothing done, try again shortly) rather than let through uncounted,
which would open the door to guessing passwords and codes during an outage.
"""

from __future__ import annotations

import hashlib
import logging
import math
import unicodedata
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain import metrics
from domain.batching import Batch
from domain.clock import clock
from domain.crypto import Keyring, keyring
from domain.errors import DomainError, ErrorCode, RateLimited, TemporarilyUnavailable
from domain.settings import get_settings
from domain.validation import normalize_email

log = logging.getLogger(__name__)


def _now() -> float:
    # Windows follow the service's clock, which tests move (domain.clock).
    return clock.local_now().timestamp()


MINUTE = 60
HOUR = 3600
DAY = 86400

# What a refused attempt is told to wait while Redis does not answer: long enough for a
# restart or a failover, short enough that a person waiting at the form tries again.
OUTAGE_RETRY_AFTER = 30
_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


def _unavailable(scope: str, error: BaseException) -> TemporarilyUnavailable:
    """The refusal of an attempt whose limits cannot be checked (logged without its subject)."""
    log.warning(
        "rate limits unavailable (%s): %s attempt refused, nothing done",
        type(error).__name__,
        scope,
    )
    return TemporarilyUnavailable(OUTAGE_RETRY_AFTER)


# KEYS: the counters; ARGV: n_checked, then per key (limit, ttl). The first n_checked keys
# are checked against their limits; every key is counted. Returns {1, 0}, or
# {0, retry_after, i} where i numbers (from 1) the key that was full.
_RESERVE = """
local checked = tonumber(ARGV[1])
for i = 1, checked do
  local limit = tonumber(ARGV[2 * i])
  local value = tonumber(redis.call('GET', KEYS[i]) or '0')
  if value >= limit then
    local ttl = redis.call('TTL', KEYS[i])
    if ttl < 1 then ttl = 1 end
    return {0, ttl, i}
  end
end
for i = 1, #KEYS do
  local value = redis.call('INCR', KEYS[i])
  if value == 1 then redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2 * i + 1])) end
end
return {1, 0}
"""
_RELEASE = """
for i = 1, #KEYS do
  local value = tonumber(redis.call('GET', KEYS[i]) or '0')
  if value > 0 then redis.call('DECR', KEYS[i]) end
end
return 1
"""
# KEYS[1] a counter; ARGV: amount, limit, ttl. Adds the amount unless that passes the limit.
# Returns {1, new value} or {0, current value}.
_ADD_WITHIN = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if value + amount > tonumber(ARGV[2]) then return {0, value} end
value = redis.call('INCRBY', KEYS[1], amount)
if value == amount then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3])) end
return {1, value}
"""
# Token attempts in one round trip, in order, each seeing the counts of those before it.
# KEYS: the global counters (minute, day), then per attempt its address's counters (minute,
# day) and attack counter; ARGV: per limit (limit, ttl) in the order address minute, address
# day, attack, global minute, global day; then per attempt '1' to count it or '0' to check it
# only. An attempt's address limits are checked, its attack limit too while a global counter
# is full (a guessing attack from many addresses). Returns per attempt: allowed (1 or 0) and
# retry_after.
_RESERVE_TOKEN = """
local function full(key, i)
  return tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[2 * i - 1])
end
local answers = {}
for a = 0, (#KEYS - 2) / 3 - 1 do
  local keys = {KEYS[3 + 3 * a], KEYS[4 + 3 * a], KEYS[5 + 3 * a], KEYS[1], KEYS[2]}
  local checked = {1, 2}
  if full(keys[4], 4) or full(keys[5], 5) then checked[3] = 3 end
  local retry_after = 0
  for _, i in ipairs(checked) do
    if full(keys[i], i) then
      retry_after = redis.call('TTL', keys[i])
      if retry_after < 1 then retry_after = 1 end
      break
    end
  end
  if retry_after == 0 and ARGV[11 + a] ~= '0' then
    for i = 1, 5 do
      local value = redis.call('INCR', keys[i])
      if value == 1 then redis.call('EXPIRE', keys[i], tonumber(ARGV[2 * i])) end
    end
  end
  answers[#answers + 1] = retry_after == 0 and 1 or 0
  answers[#answers + 1] = retry_after
end
return answers
"""

_SHA1 = {
    script: hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
    for script in (_RESERVE, _RELEASE, _ADD_WITHIN, _RESERVE_TOKEN)
}


def account_key(email: str) -> str:
    """An address as the accounts are looked up by (NFKC, IDNA, lower case), so that one account
    has one counter however its address is typed (full-width letters, upper case, spaces)."""
    normalized = normalize_email(email)
    if normalized is not None:
        return normalized
    return unicodedata.normalize("NFKC", email).strip().casefold()


@dataclass(slots=True)
class Attempt:
    """One attempt in progress: `keep()` counts it even if it succeeds."""

    kept: bool = False

    def keep(self) -> None:
        self.kept = True


@dataclass(frozen=True, slots=True)
class Limit:
    scope: str  # 'token:address', 'sign-in:account', ...
    subject: str  # an address, an email, 'all'
    limit: int
    window: int  # seconds

    def key(self, now: float) -> str:
        digest = _subject_digest(keyring("rate-limit"), f"{self.scope}:{self.subject}")
        return f"rl:{self.scope}:{digest}:{self.window}:{int(now // self.window)}"

    def ttl(self, now: float) -> int:
        return max(1, math.ceil((int(now // self.window) + 1) * self.window - now))


@lru_cache(maxsize=4096)
def _subject_digest(keys: Keyring, subject: str) -> str:
    """What a counter's key holds instead of the address or email it counts (remembered: one
    request computes several from the same address)."""
    return keys.digest(subject)[:32]


def _token_attempts(attempts: Sequence[tuple[str, bool]]) -> tuple[list[str], list[int]]:
    """_RESERVE_TOKEN's keys and arguments for attempts (address, whether to count it)."""
    s = get_settings()
    now = _now()

    def own(address: str) -> list[Limit]:
        return [
            Limit("token:address", address, s.limit_token_failures_per_minute, MINUTE),
            Limit("token:address", address, s.limit_token_failures_per_day, DAY),
            Limit("token:attack", address, s.limit_token_attack_per_address, 15 * MINUTE),
        ]

    # Global counters are counted but never refuse anyone by themselves: while one is
    # full, every address gets the stricter attack limit, so a right code from a fresh
    # address still works.
    shared = [
        Limit("token:all", "all", s.limit_token_global_failures_per_minute, MINUTE),
        Limit("token:all", "all", s.limit_token_global_failures_per_day, DAY),
    ]
    keys = [limit.key(now) for limit in shared]
    for address, _ in attempts:
        keys.extend(limit.key(now) for limit in own(address))
    args: list[int] = []
    for limit in (*own(""), *shared):  # limits and windows: the same for every address
        args.extend((limit.limit, limit.ttl(now)))
    args.extend(1 if count else 0 for _, count in attempts)
    return keys, args


async def _run_script(redis: Any, script: str, keys: Sequence[str], args: Sequence[int]) -> Any:
    """A script by its SHA-1 (Redis keeps it once sent): the request carries a digest rather
    than the script's text; sent whole only when Redis does not know it yet."""
    try:
        return await redis.evalsha(_SHA1[script], len(keys), *keys, *args)
    except NoScriptError:
        return await redis.eval(script, len(keys), *keys, *args)


async def _check_tokens(checks: list[tuple[Any, str, bool]]) -> list[RateLimited | None]:
    """token_looked_up for each (redis, address, failed): one script per Redis client."""
    results: list[RateLimited | None] = [None] * len(checks)
    by_client: dict[int, list[int]] = {}
    for index, (redis, _, _) in enumerate(checks):
        by_client.setdefault(id(redis), []).append(index)
    for indices in by_client.values():
        keys, args = _token_attempts([(checks[i][1], checks[i][2]) for i in indices])
        answers = await _run_script(checks[indices[0]][0], _RESERVE_TOKEN, keys, args)
        for position, index in enumerate(indices):
            if not int(answers[2 * position]):
                results[index] = RateLimited(int(answers[2 * position + 1]))
    return results


_token_checks: Batch[tuple[Any, str, bool], None] = Batch(_check_tokens)


class Limiter:
    """Rate limits for one Redis (the arq pool or any redis.asyncio client)."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    async def _run(self, script: str, keys: Sequence[str], args: Sequence[int]) -> Any:
        return await _run_script(self.redis, script, keys, args)

    async def reserve(
        self, limits: Sequence[Limit], *, also_count: Sequence[Limit] = ()
    ) -> list[str]:
        """Count one attempt against `limits` (refusing when any is full) and `also_count`."""
        now = _now()
        everything = [*limits, *also_count]
        keys = [limit.key(now) for limit in everything]
        args: list[int] = [len(limits)]
        for limit in everything:
            args.extend((limit.limit, limit.ttl(now)))
        try:
            allowed, retry_after, *full = await self._run(_RESERVE, keys, args)
        except _REDIS_DOWN as error:
            raise _unavailable(limits[0].scope, error) from None
        if not int(allowed):
            metrics.rate_limit_refusals.labels(limits[int(full[0]) - 1].scope).inc()
            raise RateLimited(int(retry_after))
        return keys

    async def release(self, keys: Sequence[str]) -> None:
        """Give reserved places back. While Redis does not answer they stay counted (failing
        closed), and the attempt's own answer stands: it may have changed something."""
        if not keys:
            return
        try:
            await self._run(_RELEASE, keys, [])
        except _REDIS_DOWN as error:
            log.warning(
                "rate limits unavailable (%s): an attempt stays counted", type(error).__name__
            )

    @asynccontextmanager
    async def attempt(
        self,
        limits: Sequence[Limit],
        *,
        also_count: Sequence[Limit] = (),
        counts: tuple[ErrorCode, ...] = (),
        count_success: bool = False,
    ) -> AsyncIterator[Attempt]:
        """Run one attempt; it stays counted if it fails with one of `counts` (and the error
        counts as a failure), if it succeeds with `count_success`, or if the caller kept it.
        Anything else gives its place back."""
        keys = await self.reserve(limits, also_count=also_count)
        async with self._counted(keys, counts=counts, count_success=count_success) as attempt:
            yield attempt

    @asynccontextmanager
    async def _counted(
        self, keys: list[str], *, counts: tuple[ErrorCode, ...], count_success: bool
    ) -> AsyncIterator[Attempt]:
        """An attempt whose places in `keys` are reserved: kept or given back (see attempt)."""
        attempt = Attempt()
        try:
            yield attempt
        except DomainError as error:
            if not attempt.kept and (error.code not in counts or not error.counts_as_failure):
                await self.release(keys)
            raise
        except BaseException:
            await self.release(keys)
            raise
        else:
            if not (count_success or attempt.kept):
                await self.release(keys)

    # The limits of each use -------------------------------------------------------------

    async def reserve_token(self, address: str) -> list[str]:
        """Count one token attempt from an address (refusing when its limits are full)."""
        keys, args = _token_attempts([(address, True)])
        try:
            allowed, retry_after = await self._run(_RESERVE_TOKEN, keys, args)
        except _REDIS_DOWN as error:
            raise _unavailable("token:address", error) from None
        if not int(allowed):
            raise RateLimited(int(retry_after))
        return keys

    async def token_looked_up(self, address: str, *, failed: bool) -> None:
        """After a token was looked up without changing anything (invitationByToken): refuse
        when the address's limits are full, and count the attempt if it failed, in one step.

        Looking up first and answering only then costs one round trip where reserving
        before and giving back after costs two, and keeps what reserving guarantees: every
        answer waits for this check, one at a time in Redis, so a burst of parallel guesses
        learns no more answers than the limits allow (the rest get RATE_LIMITED, whatever
        their lookup found). Uses that change something (acceptInvitation) reserve first.
        Checks made at about the same time go to Redis in one script (domain.batching)."""
        try:
            await _token_checks((self.redis, address, failed))
        except _REDIS_DOWN as error:
            # Whatever the lookup found: a valid and an unknown token get the same answer.
            raise _unavailable("token:address", error) from None

    def token_attempt(self, address: str) -> Any:
        limiter = self

        @asynccontextmanager
        async def attempt() -> AsyncIterator[Attempt]:
            keys = await limiter.reserve_token(address)
            async with limiter._counted(
                keys, counts=(ErrorCode.INVALID_TOKEN,), count_success=False
            ) as counted:
                yield counted

        return attempt()

    def sign_in_attempt(self, address: str, email: str) -> Any:
        s = get_settings()
        return self.attempt(
            [
                Limit(
                    "sign-in:address", address, s.limit_sign_in_failures_per_address, 10 * MINUTE
                ),
                Limit(
                    "sign-in:account",
                    account_key(email),
                    s.limit_sign_in_failures_per_account,
                    15 * MINUTE,
                ),
            ],
            counts=(ErrorCode.INVALID_CREDENTIALS,),
        )

    def confirm_attempt(self, address: str, email: str) -> Any:
        s = get_settings()
        return self.attempt(
            [
                Limit(
                    "confirm:address", address, s.limit_confirm_failures_per_address, 10 * MINUTE
                ),
                Limit(
                    "confirm:account",
                    account_key(email),
                    s.limit_confirm_failures_per_account,
                    HOUR,
                ),
            ],
            counts=(ErrorCode.INVALID_CODE, ErrorCode.INVALID_CREDENTIALS),
        )

    def sign_up_attempt(self, address: str, email: str) -> Any:
        """Accepted sign-ups and code requests count (each one sends a mail, with a code, to
        `email`); refused input does not."""
        s = get_settings()
        return self.attempt(
            [
                Limit("sign-up:address", address, s.limit_sign_up_per_address, HOUR),
                Limit("sign-up:email", account_key(email), s.limit_sign_up_per_email, HOUR),
                _codes_per_day(email),
            ],
            count_success=True,
        )

    def email_change_request(self, address: str, account_email: str, new_email: str) -> Any:
        """Accepted address changes count (each mails a code to the new address), as sign-ups
        do and in the same counters: per client address and per address mailed, so neither
        route, nor both together, mails a stranger more than the sign-up limits allow; and per
        account, so one account cannot mail many addresses. Refused input does not count."""
        s = get_settings()
        return self.attempt(
            [
                Limit("sign-up:address", address, s.limit_sign_up_per_address, HOUR),
                Limit("sign-up:email", account_key(new_email), s.limit_sign_up_per_email, HOUR),
                Limit(
                    "email-change:account",
                    account_key(account_email),
                    s.limit_sign_up_per_email,
                    HOUR,
                ),
            ],
            count_success=True,
        )

    def code_mail_attempt(self, email: str, *, count_success: bool = True) -> Any:
        """Something that may mail `email` a code proving the mailbox (an email change, a
        letter's code typed with an address): it counts against the address's codes a day
        when it succeeds (`count_success`) or when the caller keeps it (`Attempt.keep`)."""
        return self.attempt([_codes_per_day(email)], count_success=count_success)

    def password_reset_request(self, address: str, email: str) -> Any:
        """Every request counts (each may send a mail), per client address and per account."""
        s = get_settings()
        return self.attempt(
            [
                Limit("reset:address", address, s.limit_password_reset_per_address, HOUR),
                Limit("reset:email", account_key(email), s.limit_password_reset_per_email, HOUR),
            ],
            count_success=True,
        )

    def password_reset_attempt(self, address: str) -> Any:
        """Links that do not work count against the client address (guessing them is hopeless
        at 256 bits; this keeps anyone from trying)."""
        s = get_settings()
        return self.attempt(
            [
                Limit(
                    "reset-use:address",
                    address,
                    s.limit_password_reset_failures_per_address,
                    10 * MINUTE,
                )
            ],
            counts=(ErrorCode.INVALID_RESET_TOKEN,),
        )

    async def invitations_created(
        self, admin_id: int, count: int, *, field: str = "emails"
    ) -> None:
        """Spam guard: how many invitations one admin may create per day. Checked and counted
        in one step, so two requests at once cannot both slip under the limit."""
        limit = _invitations_per_day(admin_id)
        now = _now()
        try:
            allowed, used = await self._run(
                _ADD_WITHIN, [limit.key(now)], [count, limit.limit, limit.ttl(now)]
            )
        except _REDIS_DOWN as error:
            # An admin's spam guard, not a security boundary: while Redis is down the
            # invitations are still stored (and sent once it is back), uncounted.
            log.warning("daily invitation count unavailable (%s)", type(error).__name__)
            return
        if not int(allowed):
            metrics.rate_limit_refusals.labels(limit.scope).inc()
            raise _over_daily_invitations(limit, int(used), field)

    async def invitations_allowed(self, admin_id: int, count: int) -> None:
        """The same refusal as invitations_created, without counting them: for a preview."""
        limit = _invitations_per_day(admin_id)
        try:
            used = int(await self.redis.get(limit.key(_now())) or 0)
        except _REDIS_DOWN as error:
            log.warning("daily invitation count unavailable (%s)", type(error).__name__)
            return
        if used + count > limit.limit:
            raise _over_daily_invitations(limit, used)

    async def resend(self, invitation_id: int) -> None:
        s = get_settings()
        await self.reserve(
            [
                Limit(
                    "resend:invitation",
                    str(invitation_id),
                    s.limit_resends_per_invitation_per_day,
                    DAY,
                )
            ]
        )


def _codes_per_day(email: str) -> Limit:
    """Codes proving a mailbox, mailed to one address a day. Each code takes a few wrong
    guesses before it is burnt, so this bounds the guesses at an address's codes a day
    (docs/security.md, "How long a mailed code must be")."""
    return Limit(
        "codes:email", account_key(email), get_settings().limit_codes_per_email_per_day, DAY
    )


def _invitations_per_day(admin_id: int) -> Limit:
    return Limit(
        "invitations:admin",
        str(admin_id),
        get_settings().limit_invitations_per_admin_per_day,
        DAY,
    )


def _over_daily_invitations(limit: Limit, used: int, field: str = "emails") -> DomainError:
    return DomainError.single(
        ErrorCode.RATE_LIMITED,
        f"You can create {limit.limit:,} invitations a day;"
        f" {max(limit.limit - used, 0):,} are left today.",
        field,
    )
