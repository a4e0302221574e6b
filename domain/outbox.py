"""Jobs the domain wants run, enqueued only after its transaction has committed.

A service calls `enqueue(...)` while it works; the boundary (a GraphQL mutation, a job, a CLI
command) wraps the call in `collect()` and, once the service has returned (its transaction
committed), `flush()`es the jobs to Redis. If the service raises, the jobs are dropped.
Nothing is lost if the process dies between commit and flush: the database keeps a "due"
mark and the sweep re-enqueues it. Job ids are deterministic, so enqueueing twice is harmless.

Job arguments are ids and counters only: never tokens, addresses or other personal data
(arq logs its job arguments).
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis
from arq.constants import default_queue_name, expires_extra_ms, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms, to_unix_ms

# Checks and writes exactly what ArqRedis.enqueue_job does, atomically, so a batch of jobs
# goes to Redis in one pipeline instead of one round trip (and WATCH) each.
_ENQUEUE_SCRIPT = """
if redis.call('exists', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('psetex', KEYS[1], ARGV[2], ARGV[1])
redis.call('zadd', KEYS[3], ARGV[3], ARGV[4])
return 1
"""
_FLUSH_CHUNK = 5000


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
        for job in chunk:
            score = to_unix_ms(job.defer_until) if job.defer_until else now_ms
            expires_ms = max(score - now_ms, 0) + expires_extra_ms
            payload = serialize_job(job.function, job.args, {}, None, now_ms, serializer=serializer)
            await script(
                keys=[job_key_prefix + job.job_id, result_key_prefix + job.job_id, queue],
                args=[payload, expires_ms, score, job.job_id],
                client=pipe,
            )
        results: list[Any] = await pipe.execute()
        return sum(1 for result in results if result == 1)

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
    """collect() + flush() on success: the usual boundary for one request or job."""
    async with collect() as outbox:
        yield outbox
    if outbox.jobs:
        await flush(redis, outbox.jobs)
