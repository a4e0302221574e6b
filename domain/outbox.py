"""Jobs the domain wants run, enqueued only after its transaction has committed.

A service calls `enqueue(...)` while it works; the boundary (a GraphQL mutation, a job, a CLI
command) wraps the call in `collect()` and, once the service has returned (its transaction
committed), `flush()`es the jobs to Redis. If the service raises, the jobs are dropped.
Nothing is lost if the process dies between commit and flush: the database keeps a "due"
mark and the sweep re-enqueues it. Job ids are deterministic, so enqueueing twice is harmless.
For the same reason a unit of work whose jobs are all of that kind (RECOVERED_FROM_DATABASE)
succeeds while Redis is down: its changes are committed and the sweep enqueues the jobs later.

Job arguments are ids and counters only: never tokens, addresses or other personal data
(arq logs its job arguments).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis
from arq.constants import (
    default_queue_name,
    expires_extra_ms,
    job_key_prefix,
    result_key_prefix,
    retry_key_prefix,
)
from arq.jobs import DeserializationError, deserialize_job_raw, serialize_job
from arq.utils import timestamp_ms, to_unix_ms
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Checks and writes exactly what ArqRedis.enqueue_job does, atomically, for many jobs per
# call, so a batch goes to Redis in a few calls instead of one round trip (and WATCH) a job.
# KEYS[1] is the queue; ARGV holds the key prefixes, then one "expires score id payload" item
# per job (one argument a job: redis-py packs arguments in Python, a cost at 100,000 jobs).
_ENQUEUE_SCRIPT = """
local created = 0
for i = 3, #ARGV do
  local item = ARGV[i]
  local a = string.find(item, ' ', 1, true)
  local b = string.find(item, ' ', a + 1, true)
  local c = string.find(item, ' ', b + 1, true)
  local id = string.sub(item, b + 1, c - 1)
  local job_key = ARGV[1] .. id
  if redis.call('exists', job_key, ARGV[2] .. id) == 0 then
    redis.call('psetex', job_key, string.sub(item, 1, a - 1), string.sub(item, c + 1))
    redis.call('zadd', KEYS[1], string.sub(item, a + 1, b - 1), id)
    created = created + 1
  end
end
return created
"""
_JOBS_PER_CALL = 500
_FLUSH_CHUNK = 5000
# Jobs whose work the database remembers (a queued send, a due reminder, a queued import):
# the workers' crons enqueue them again when they were lost.
RECOVERED_FROM_DATABASE = frozenset(
    {
        "send_invitations",
        "send_invitation",
        "send_reminder",
        "import_invitations",
        "deliver_webhooks",
    }
)
_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    function: str
    args: tuple[int | str, ...]
    job_id: str
    defer_until: datetime | None = None


@dataclass(slots=True)
class Outbox:
    jobs: list[Job] = field(default_factory=list)

    def add(self, job: Job) -> None:
        self.jobs.append(job)


_current: contextvars.ContextVar[Outbox | None] = contextvars.ContextVar("outbox", default=None)


def enqueue(
    function: str,
    *args: int | str,
    job_id: str,
    defer_until: datetime | None = None,
) -> None:
    """Ask for a job to run once the current unit of work has committed."""
    outbox = _current.get()
    if outbox is None:
        raise RuntimeError(f"enqueue({function!r}) outside outbox.collect(): it would be lost")
    outbox.add(Job(function, args, job_id, defer_until))


def enqueue_once(function: str, *args: int | str, job_id: str) -> None:
    """enqueue() unless this unit of work asked for `function` already. Outside a unit of
    work, nothing: for jobs a cron enqueues anyway from what the database says is due."""
    outbox = _current.get()
    if outbox is None or any(job.function == function for job in outbox.jobs):
        return
    outbox.add(Job(function, args, job_id))


@asynccontextmanager
async def collect() -> AsyncIterator[Outbox]:
    """Collect the jobs a unit of work asks for. The caller flushes them after success."""
    outbox = Outbox()
    token = _current.set(outbox)
    try:
        yield outbox
    finally:
        _current.reset(token)


async def flush(redis: ArqRedis, jobs: Iterable[Job]) -> int:
    """Enqueue jobs (skipping ids already queued or kept as results). Returns how many were new."""
    script = redis.register_script(_ENQUEUE_SCRIPT)
    serializer = redis.job_serializer
    queue = redis.default_queue_name or default_queue_name
    created = 0
    batch: list[Job] = []

    async def send(chunk: list[Job]) -> int:
        now_ms = timestamp_ms()
        pipe = redis.pipeline(transaction=False)
        for start in range(0, len(chunk), _JOBS_PER_CALL):
            items: list[Any] = [job_key_prefix, result_key_prefix]
            for job in chunk[start : start + _JOBS_PER_CALL]:
                if " " in job.job_id:
                    raise ValueError(f"job id {job.job_id!r} has a space")
                score = to_unix_ms(job.defer_until) if job.defer_until else now_ms
                expires_ms = max(score - now_ms, 0) + expires_extra_ms
                payload = serialize_job(
                    job.function, job.args, {}, None, now_ms, serializer=serializer
                )
                items.append(b"%d %d %s %s" % (expires_ms, score, job.job_id.encode(), payload))
            await script(keys=[queue], args=items, client=pipe)
        results: list[Any] = await pipe.execute()
        return sum(int(result) for result in results)

    for job in jobs:
        batch.append(job)
        if len(batch) >= _FLUSH_CHUNK:
            created += await send(batch)
            batch = []
    if batch:
        created += await send(batch)
    return created


@asynccontextmanager
async def unit_of_work(redis: ArqRedis) -> AsyncIterator[Outbox]:
    """collect() + flush() on success: the usual boundary for one request or job. If Redis
    cannot be reached and every job is one the database remembers, the work stands (it is
    committed) and the jobs are left to the crons; otherwise the error is raised."""
    async with collect() as outbox:
        yield outbox
    if outbox.jobs:
        try:
            await flush(redis, outbox.jobs)
        except _REDIS_DOWN as error:
            if any(job.function not in RECOVERED_FROM_DATABASE for job in outbox.jobs):
                raise
            log.warning(
                "%d jobs not enqueued, Redis is unreachable (%s): the sweep will enqueue them",
                len(outbox.jobs),
                type(error).__name__,
            )


async def first_enqueued_of_retried(redis: Any, job_ids: list[Any]) -> float:
    """The earliest enqueue time (epoch ms) of these queued jobs that have run at least once
    (arq counts each run in its retry key), inf when none has: how long a job put off by
    arq's Retry has waited, for the queue's metrics."""
    ids = [job_id.decode() if isinstance(job_id, bytes) else str(job_id) for job_id in job_ids]
    pipe = redis.pipeline(transaction=False)
    for job_id in ids:
        pipe.get(retry_key_prefix + job_id)
        pipe.get(job_key_prefix + job_id)
    values = await pipe.execute()
    deserializer = getattr(redis, "job_deserializer", None)
    earliest = float("inf")
    for runs, data in zip(values[::2], values[1::2], strict=True):
        if not runs or not data:
            continue
        try:
            enqueued_ms = deserialize_job_raw(data, deserializer=deserializer)[4]
        except DeserializationError:
            continue
        earliest = min(earliest, float(enqueued_ms))
    return earliest
