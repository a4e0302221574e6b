"""Calls made at about the same time, answered together: one round trip for many requests.

Under load, the busiest public question (/invite's token check) arrives from dozens of
visitors at once, each needing one database row and one Redis check. Asked one by one, each
answer pays a round trip's fixed cost (a pool checkout, a write, a wake-up). A `Batch` holds
the calls made in the same turn of the event loop and runs them as one: one query for every
token, one Redis script for every check. Alone, a call waits only for the loop's next turn.

Visitors rarely arrive in the same turn, though: under load most batches would hold one call.
So a batch waits for a place when `in_flight` batches are already running, and the calls
arriving meanwhile go together when one is answered: the busier the service, the fuller the
batches, and a call waits at most for the batch before its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

Many = Callable[[list[K]], Awaitable[Sequence[V | BaseException]]]


class Batch(Generic[K, V]):
    """`await batch(key)` answers with `many(keys)`'s item for that key, an exception in its
    place being raised to that caller only (and an exception of `many` to every caller)."""

    def __init__(self, many: Many[K, V], *, max_size: int = 100, in_flight: int = 2) -> None:
        self._many = many
        self._max_size = max_size
        self._in_flight = in_flight
        self._pending: list[tuple[K, asyncio.Future[V]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._scheduled = False

    async def __call__(self, key: K) -> V:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests start one each): nothing carries over
            self._loop, self._pending, self._running = loop, [], set()
            self._scheduled = False
        future: asyncio.Future[V] = loop.create_future()
        self._pending.append((key, future))
        if len(self._pending) >= self._max_size:
            self._dispatch()
        elif not self._scheduled and len(self._running) < self._in_flight:
            self._scheduled = True
            loop.call_soon(self._dispatch)
        return await future

    def _dispatch(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        if not pending or self._loop is None:
            return
        task = self._loop.create_task(self._run(pending))
        self._running.add(task)  # a reference until done (the loop keeps only a weak one)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        """A batch is answered: the calls that waited for its place go together."""
        self._running.discard(task)
        if self._pending and not self._scheduled and task.get_loop() is self._loop:
            self._scheduled = True
            self._loop.call_soon(self._dispatch)

    async def _run(self, pending: list[tuple[K, asyncio.Future[V]]]) -> None:
        try:
            results = await self._many([key for key, _ in pending])
        except BaseException as error:  # every caller hears it, as each would have alone
            for _, future in pending:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for (_, future), result in zip(pending, results, strict=True):
            if future.done():  # its caller left (a closed connection)
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
