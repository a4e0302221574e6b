"""The SQLite client: Tortoise's, with transactions whose start survives cancellation.
domain.db names this module as the engine of a sqlite:// database."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.backends.sqlite import client as sqlite_client
from tortoise.connection import get_connections


class _SqliteTransactionContext(sqlite_client.SqliteTransactionContext):
    """Tortoise's SQLite transaction, whose start survives its task being cancelled.

    SQLite has one connection, taken by a lock for a whole transaction. Tortoise's context
    takes the lock, then awaits BEGIN: a task cancelled there (a job past its timeout, a
    task group ending) left the lock taken for good, and every later statement of the
    process (mails, imports, the console's requests) waiting on it. Here BEGIN runs to its
    end whatever happens; a cancelled start rolls back and gives the lock back.

    It reaches into Tortoise's SQLite client (its transaction lock, `_trxlock` and `_lock`,
    and `_in_transaction`), which a Tortoise upgrade may change: the lock file pins the
    version, and tests/test_worker_faults.py fails if the wedge comes back. Tortoise's issue
    1757 ("cannot start a transaction within a transaction" after a cancellation) is the
    same fault seen from outside."""

    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            beginning = asyncio.ensure_future(self.connection.begin())
            try:
                await asyncio.shield(beginning)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await beginning
                    await self.connection.rollback()
                raise
        except BaseException:
            self._trxlock.release()
            raise
        self.token = get_connections().set(self.connection_name, self.connection)
        connection: TransactionalDBClient = self.connection
        return connection


class SqliteClient(sqlite_client.SqliteClient):
    def _in_transaction(self) -> sqlite_client.TransactionContext:
        return _SqliteTransactionContext(sqlite_client.SqliteTransactionWrapper(self), self._lock)


def get_client_class(db_info: dict[str, Any]) -> type[BaseDBAsyncClient]:
    """Tortoise's engine hook: the SQLite client above (the config names this module)."""
    return SqliteClient
