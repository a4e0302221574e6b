"""Migrations over data made before them: each runs in a database of its own, in a process of
its own (migrating re-initializes Tortoise, which the other tests share)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg

from tests.conftest import _TMP, DATABASE_KIND, DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent

# Migrates to 0008, stores an invitation the way the service did then (its token's digest in
# 64 hex characters), migrates to the end, then looks the token up as the service does now.
_TOKENS_KEEP_WORKING = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import datetime, timedelta, timezone

    from tortoise import Tortoise
    from tortoise.migrations.api.migrate import migrate

    from domain import db
    from domain.crypto import keyring
    from domain.invitations import acceptance, tokens

    async def main(url: str) -> None:
        config = db.tortoise_config(url)
        await migrate(config=config, target="models.0008_grant_triggers")
        ring = keyring("invitation-token")
        token = tokens.generate()
        now = datetime.now(timezone.utc)
        await db.connection().execute_query(
            db.sql(
                "INSERT INTO invitations (email, first_name, last_name, locale,"
                " personal_message, is_admin, registration_field_values, send_email,"
                " token_digest, token_encrypted, status, created_at, expires_at,"
                " delivery_state, send_no, send_attempts, last_error, reminded_send_no)"
                " VALUES ('before@example.org', 'Lea', 'Peeters', 'en', '', false, '{}',"
                " false, $1, $2, 'pending', $3, $4, 'not_sent', 1, 0, '', 0)"
            ),
            [ring.digest(token), ring.encrypt(token), now, now + timedelta(days=30)],
        )
        await migrate(config=config)
        await Tortoise.close_connections()
        await Tortoise.init(config=config)
        preview = await acceptance.preview(tokens.display(token))
        print("found:", preview.email)
        await Tortoise.close_connections()

    asyncio.run(main(sys.argv[1]))
    """
)


async def _scratch_database() -> str:
    if DATABASE_KIND == "sqlite":
        path = _TMP / "migrations.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite://{path}"
    url = DATABASE_URL.rsplit("/", 1)[0] + "/" + DATABASE_URL.rsplit("/", 1)[1] + "_migrations"
    dsn = url.replace("postgres://", "postgresql://", 1)
    name = dsn.rsplit("/", 1)[1]
    server = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/postgres")
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()
    return url


async def test_tokens_made_before_short_digests_keep_working() -> None:
    url = await _scratch_database()
    result = subprocess.run(
        [sys.executable, "-c", _TOKENS_KEEP_WORKING, url],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "found: before@example.org" in result.stdout
