"""The PostgreSQL client: Tortoise's asyncpg one, whose transactions give their connection back
to the pool even when their start is cancelled. domain.db names this module as the engine of a
postgres:// database."""

from __future__ import annotations

import asyncio
from typing import Any

from tortoise.backends.asyncpg import client as asyncpg_client
from tortoise.backends.base.client import (
    BaseDBAsyncClient,
    TransactionalDBClient,
    TransactionContext,
    TransactionContextPooled,
)
from tortoise.connection import get_connections


class _PooledTransactionContext(TransactionContextPooled):
    """Tortoise's pooled transaction, whose connection goes back to the pool if BEGIN fails or
    its task is cancelled there.

    Tortoise's context takes a connection from the pool, then awaits BEGIN: a task cancelled
    there (a job past its timeout, a task group ending) never reaches `__aexit__`, so its
    connection stayed "idle in transaction" for good and the pool (five connections) had one
    fewer each time, until every statement of the process waited. Here BEGIN runs to its end
    whatever happens, and a start that does not complete releases the connection (asyncpg
    rolls back a transaction left open as it takes a connection back).

    Like domain/sqlite.py it works on Tortoise's client from the inside (the pool, the wrapper's
    connection), which a Tortoise upgrade may change: the lock file pins the version, and
    tests/test_worker_faults.py fails if the leak comes back."""

    async def __aenter__(self) -> TransactionalDBClient:
        await self.ensure_connection()
        pool = self.client._parent._pool
        self.client._connection = await pool.acquire()
        try:
            beginning = asyncio.ensure_future(self.client.begin())
            try:
                await asyncio.shield(beginning)
            except asyncio.CancelledError:
                await asyncio.gather(beginning, return_exceptions=True)
                raise
        except BaseException:
            await asyncio.shield(pool.release(self.client._connection))
            raise
        # The current task sees the transaction's connection from here on (until __aexit__).
        self.token = get_connections().set(self.connection_name, self.client)
        return self.client


class AsyncpgClient(asyncpg_client.AsyncpgDBClient):
    def _in_transaction(self) -> TransactionContext:
        return _PooledTransactionContext(
            asyncpg_client.TransactionWrapper(self), self._pool_init_lock
        )


def get_client_class(db_info: dict[str, Any]) -> type[BaseDBAsyncClient]:
    """Tortoise's engine hook: the PostgreSQL client above (the config names this module)."""
    return AsyncpgClient
