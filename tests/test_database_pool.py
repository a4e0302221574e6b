"""The PostgreSQL connection pool: a connection goes back without a reset round trip, and
nothing a statement or a transaction did stays with it for the next one."""

from __future__ import annotations

import asyncpg
import pytest
from tortoise.transactions import in_transaction

from domain import db
from tests.conftest import DATABASE_KIND, DATABASE_URL

pytestmark = pytest.mark.skipif(
    DATABASE_KIND != "postgres",
    reason="asyncpg's pool and PostgreSQL sessions; SQLite has one connection and no sessions",
)

RESET_STATEMENTS = ("RESET ALL", "pg_advisory_unlock_all", "UNLISTEN", "CLOSE ALL")


async def _last_statements() -> list[str]:
    """The last statement each of the pool's connections ran (from another session)."""
    observer = await asyncpg.connect(DATABASE_URL.replace("postgres://", "postgresql://", 1))
    try:
        rows = await observer.fetch(
            "SELECT query FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )
    finally:
        await observer.close()
    return [row["query"] for row in rows]


async def test_a_statement_gives_its_connection_back_without_a_reset_statement(
    database: None,
) -> None:
    await db.connection().execute_query("SELECT 'pool probe' AS probe")
    statements = await _last_statements()
    assert any("pool probe" in statement for statement in statements), statements
    for statement in statements:
        assert not any(reset in statement for reset in RESET_STATEMENTS), statement


async def test_a_transactions_local_setting_is_gone_for_the_next_statement(
    database: None,
) -> None:
    async with in_transaction() as connection:
        await connection.execute_query("SELECT set_config('invitations.probe', 'on', true)")
        _, rows = await connection.execute_query(
            "SELECT current_setting('invitations.probe', true) AS value"
        )
        assert rows[0]["value"] == "on"
    for _ in range(5):  # whichever connection of the pool answers
        _, rows = await db.connection().execute_query(
            "SELECT current_setting('invitations.probe', true) AS value"
        )
        assert rows[0]["value"] in (None, "")


async def test_a_failed_transaction_leaves_a_usable_connection(database: None) -> None:
    with pytest.raises(ZeroDivisionError):
        async with in_transaction() as connection:
            await connection.execute_query("SELECT 1")
            raise ZeroDivisionError
    _, rows = await db.connection().execute_query("SELECT 2 AS two")
    assert rows[0]["two"] == 2
