"""Database configuration, migrations and the database's own clock."""

from __future__ import annotations

import pkgutil
import re
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from domain.settings import Settings, get_settings

MODELS_MODULE = "domain.models"
MIGRATIONS_MODULE = "domain.migrations"


async def keep_session(connection: object) -> None:
    """What a PostgreSQL connection needs when it goes back to the pool: nothing more than the
    ROLLBACK asyncpg sends anyway if a transaction was left open.

    asyncpg's default runs `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    at every release: one more round trip for every statement outside a transaction. The
    service never changes a session's state: no SET (only `set_config(..., true)`, which ends
    with the transaction), no LISTEN, no cursor or advisory lock outliving a transaction.
    """


def tortoise_config(database_url: str) -> dict[str, Any]:
    connection: str | dict[str, Any] = database_url
    expanded = expand_db_url(database_url)
    if expanded["engine"] == "tortoise.backends.asyncpg":
        expanded["credentials"]["reset"] = keep_session  # passed on to asyncpg's pool
        expanded["engine"] = "domain.postgres"  # its transactions survive cancellation
        connection = expanded
    elif expanded["engine"] == "tortoise.backends.sqlite":
        expanded["engine"] = "domain.sqlite"  # its transactions survive cancellation
        connection = expanded
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "migrations": MIGRATIONS_MODULE,
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def config_from_settings(settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    if settings.resolved_database_url.startswith("sqlite://"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return tortoise_config(settings.resolved_database_url)


def __getattr__(name: str) -> Any:
    # `tortoise -c domain.db.TORTOISE_ORM makemigrations` reads this, lazily, from the settings.
    if name == "TORTOISE_ORM":
        return config_from_settings()
    raise AttributeError(name)


async def migrate(config: dict[str, Any]) -> None:
    """Apply every migration that has not run yet (creates the tables on a fresh database)."""
    await run_migrations(config=config)


def migration_names() -> list[str]:
    """The migrations this code ships, in order (`0001_initial`, ...)."""
    import domain.migrations

    return sorted(
        name
        for _, name, _ in pkgutil.iter_modules(domain.migrations.__path__)
        if name[:1].isdigit()
    )


async def pending_migrations() -> list[str]:
    """The shipped migrations the database has not applied (all of them on an empty one)."""
    try:
        _, rows = await connection().execute_query(
            "SELECT name FROM tortoise_migrations WHERE app = 'models'"
        )
    except Exception as error:
        if is_connection_error(error):
            raise
        return migration_names()  # no migrations table yet
    applied = {str(row[0]) for row in rows}
    return [name for name in migration_names() if name not in applied]


def connection() -> BaseDBAsyncClient:
    return connections.get("default")


def dialect() -> str:
    return str(connection().capabilities.dialect)


_NUMBERED = re.compile(r"\$(\d+)")


def sql(text: str) -> str:
    """A statement written with PostgreSQL's $1 placeholders, in this connection's style
    (SQLite's ?1). For the few hot statements that skip the ORM's query building."""
    return text if dialect() == "postgres" else _NUMBERED.sub(r"?\1", text)


def prefix_search(expressions: Sequence[str], text: str, param: Callable[[Any], str]) -> str:
    """SQL true when one of `expressions` begins with `text`, in any case: each a lower-case
    value (an address as stored, a name through `lower()`). `param` places the pattern and
    gives its placeholder; the text is cut at 100 characters.

    PostgreSQL's `lower()` folds every letter, so a lower-case LIKE pattern matches. SQLite's
    folds ASCII only ('Élise' stays 'Élise'), and its LIKE ignores case for ASCII only: there
    the pattern is a GLOB in which each letter beyond ASCII matches either case ('[Éé]lise*').
    """
    prefix = text.strip().lower()[:100]
    if dialect() == "postgres":
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = param(escaped + "%")
        return "(" + " OR ".join(f"{e} LIKE {pattern} ESCAPE '\\'" for e in expressions) + ")"
    pattern = param("".join(_glob_letter(letter) for letter in prefix) + "*")
    return "(" + " OR ".join(f"{e} GLOB {pattern}" for e in expressions) + ")"


def _glob_letter(letter: str) -> str:
    """One character of a GLOB pattern: either case of a letter beyond ASCII, the pattern's
    own signs taken literally."""
    if letter in "*?[]":
        return f"[{letter}]"
    cases = {form for form in (letter, letter.upper()) if len(form) == 1}
    if letter.isascii() or len(cases) == 1:
        return letter
    return "[" + "".join(sorted(cases)) + "]"


def placeholders(count: int) -> str:
    """`$1, $2, ...` for `count` values (sql() writes them in the connection's style)."""
    return ", ".join(f"${n}" for n in range(1, count + 1))


def as_datetime(value: datetime | str | None) -> datetime | None:
    """A timestamp read by raw SQL: asyncpg gives datetimes, SQLite gives the text Tortoise
    stored (always UTC with an offset)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


async def database_now() -> datetime:
    """The database server's current time (UTC), so every process agrees on 'now'."""
    db = connection()
    if dialect() == "postgres":
        # clock_timestamp(), not now(): inside a transaction now() is when the transaction began.
        rows = await db.execute_query_dict("SELECT clock_timestamp() AS now")
        value = rows[0]["now"]
        assert isinstance(value, datetime)
        return value.astimezone(UTC)
    rows = await db.execute_query_dict("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now') AS now")
    return datetime.fromisoformat(rows[0]["now"]).replace(tzinfo=UTC)


async def init(settings: Settings | None = None, *, apply_migrations: bool = False) -> None:
    """Start Tortoise for a worker or a CLI command (the API uses RegisterTortoise)."""
    config = config_from_settings(settings)
    if apply_migrations:
        await migrate(config)
        await Tortoise.close_connections()
    # Global fallback: arq runs its shutdown hook in another task, which must still find the
    # connections to close (otherwise aiosqlite's thread keeps the worker alive).
    await Tortoise.init(config=config, _enable_global_fallback=True)


async def close() -> None:
    await Tortoise.close_connections()


def is_connection_error(error: BaseException) -> bool:
    """Whether an error is the database connection failing (a restart, a failover, a backend
    terminated, a locked SQLite file) rather than the statement: worth trying again."""
    import asyncpg

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            asyncpg.PostgresConnectionError
            | asyncpg.exceptions.OperatorInterventionError  # shutdown, backend terminated
            | asyncpg.exceptions.InsufficientResourcesError  # too many connections
            | ConnectionError
            | TimeoutError,
        ):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "closed" in str(current):
            return True
        if isinstance(current, sqlite3.OperationalError) and "locked" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False
