"""Migrations over data made before them: each runs in a database of its own, in a process of
its own (migrating re-initializes Tortoise, which the other tests share)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from tests.conftest import _TMP, DATABASE_KIND, DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent

# What both scripts share: an invitation stored with raw SQL, its digest given, as a release
# of the service at that migration would have stored it.
_PRELUDE = """
import asyncio, sys
from datetime import datetime, timedelta, timezone

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from domain import db
from domain.crypto import keyring
from domain.invitations import acceptance, tokens

ring = keyring("invitation-token")


async def store(email: str, digest: str, token: str) -> None:
    now = datetime.now(timezone.utc)
    await db.connection().execute_query(
        db.sql(
            "INSERT INTO invitations (email, first_name, last_name, locale,"
            " personal_message, is_admin, registration_field_values, send_email,"
            " token_digest, token_encrypted, status, created_at, expires_at,"
            " delivery_state, send_no, send_attempts, last_error, reminded_send_no)"
            " VALUES ($1, 'Lea', 'Peeters', 'en', '', false, '{}', false, $2, $3,"
            " 'pending', $4, $5, 'not_sent', 1, 0, '', 0)"
        ),
        [email, digest, ring.encrypt(token), now, now + timedelta(days=30)],
    )
"""

# Migrates to 0008, stores an invitation the way the service did then (its token's digest in
# 64 hex characters) and a group, migrates to the end, then looks the token up as the service
# does now, and reads the group (with no titles per locale yet: 0017).
_TOKENS_KEEP_WORKING = """
async def main(url: str) -> None:
    config = db.tortoise_config(url)
    await migrate(config=config, target="models.0008_grant_triggers")
    token = tokens.generate()
    await store("before@example.org", ring.digest(token), token)
    await db.connection().execute_script(
        "INSERT INTO groups (title, kind, rules, match_all, created_at)"
        " VALUES ('Old group', 'manual', '[]', true, CURRENT_TIMESTAMP)"
    )
    await migrate(config=config)
    await Tortoise.close_connections()
    await Tortoise.init(config=config)
    preview = await acceptance.preview(tokens.display(token))
    print("found:", preview.email)
    from domain.models import Group

    print("titles per locale:", (await Group.get(title="Old group")).title_multiloc)
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""

# Migrates to the end, stores an invitation, migrates back to 0008: its digest is 32 hex
# characters again, and (PostgreSQL) the grants' trigger checks in 0008's two passes (at the
# end, in one pass, trusting the writer's new invitations), and uploads are compressed again
# (stored as they are at the end).
_BACK_TO_0008 = """
async def storage() -> str:
    [column] = await db.connection().execute_query_dict(
        "SELECT attstorage::text AS attstorage FROM pg_attribute"
        " WHERE attrelid = 'invitation_imports'::regclass AND attname = 'content'"
    )
    return str(column["attstorage"])


async def main(url: str) -> None:
    config = db.tortoise_config(url)
    await migrate(config=config)
    if db.dialect() == "postgres":
        print("upload storage at the end:", await storage())
        [function] = await db.connection().execute_query_dict(
            "SELECT pg_get_functiondef('invitation_groups_check'::regproc) AS body"
        )
        print("trusts the writer at the end:", "grants_of_new_invitations" in function["body"])
    token = tokens.generate()
    await store("after@example.org", ring.short_digest(token), token)
    await migrate(config=config, target="models.0008_grant_triggers")
    [stored] = await db.connection().execute_query_dict("SELECT token_digest FROM invitations")
    print("digest kept:", stored["token_digest"] == ring.short_digest(token).replace("-", ""))
    if db.dialect() == "postgres":
        [function] = await db.connection().execute_query_dict(
            "SELECT pg_get_functiondef('invitation_groups_check'::regproc) AS body"
        )
        print("two passes:", "PERFORM 1 FROM invitations" in function["body"])
        print("upload storage at 0008:", await storage())
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


# Migrates to 0012 and stores, as the service did then, an account whose address was never
# confirmed (it used a letter's code, got its grants and a session) beside a confirmed one;
# migrates to the end: the first is a registration holding the letter, its session and grants
# are gone, and the confirmed account is untouched.
_UNCONFIRMED_BECOME_REGISTRATIONS = """
async def main(url: str) -> None:
    config = db.tortoise_config(url)
    await migrate(config=config, target="models.0012_grants_of_new_invitations")
    token = tokens.generate()
    await store("", ring.short_digest(token), token)
    conn = db.connection()
    now = datetime.now(timezone.utc)
    stamp = now if db.dialect() == "postgres" else now.isoformat()
    for email, confirmed in (("reader@example.org", None), ("known@example.org", stamp)):
        await conn.execute_query(
            db.sql(
                "INSERT INTO users (email, first_name, last_name, locale, password_hash,"
                " email_confirmed_at, registered_at, registration_field_values)"
                " VALUES ($1, 'Rea', 'Der', 'nl-BE', 'hash', $2, $3, '{\\"street\\": \\"12\\"}')"
            ),
            [email, confirmed, stamp],
        )
    [reader] = await conn.execute_query_dict(
        "SELECT id FROM users WHERE email = 'reader@example.org'"
    )
    await conn.execute_query(
        db.sql("UPDATE invitations SET status = 'accepted', accepted_user_id = $1"), [reader["id"]]
    )
    await conn.execute_query(
        db.sql("INSERT INTO sessions (user_id, token_digest, created_at, expires_at)"
               " VALUES ($1, 'digest', $2, $2)"), [reader["id"], stamp]
    )
    await conn.execute_query(
        db.sql("INSERT INTO roles (user_id, kind, created_at) VALUES ($1, 'admin', $2)"),
        [reader["id"], stamp],
    )
    await migrate(config=config)
    conn = db.connection()  # migrating opened new connections
    users = await conn.execute_query_dict("SELECT email FROM users ORDER BY email")
    print("users:", [row["email"] for row in users])
    [claim] = await conn.execute_query_dict(
        "SELECT email, locale, first_name, invitation_id, registration_field_values"
        " FROM registrations"
    )
    [letter] = await conn.execute_query_dict(
        "SELECT id, status, accepted_user_id FROM invitations"
    )
    print("registration:", claim["email"], claim["locale"], claim["first_name"],
          claim["invitation_id"] == letter["id"], "12" in str(claim["registration_field_values"]))
    print("letter:", letter["status"], letter["accepted_user_id"])
    print("sessions:", len(await conn.execute_query_dict("SELECT id FROM sessions")))
    print("roles:", len(await conn.execute_query_dict("SELECT id FROM roles")))
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


# Migrates to 0024 and stores personal messages as the service did then (sanitized HTML);
# migrates to the end: each is the text it showed, and one already plain is left as it was.
_MESSAGES_BECOME_TEXT = """
async def main(url: str) -> None:
    config = db.tortoise_config(url)
    await migrate(config=config, target="models.0024_import_hidden_rows")
    stored = {
        "lost@example.org": "Vul  in bij het aanmelden.\\nOnthoud: 5 &lt; 6 en 7 &gt; 3, en a",
        "html@example.org": '<p>Hi <b>there</b> &amp; welcome</p><p>See <a href="https://x.org/a"'
        ' rel="noopener noreferrer nofollow">the site</a></p><ul><li>one</li><li>two</li></ul>',
        "plain@example.org": "Welcome!\\n\\nSee you",
    }
    for email, message in stored.items():
        token = tokens.generate()
        await store(email, ring.short_digest(token), token)
        await db.connection().execute_query(
            db.sql("UPDATE invitations SET personal_message = $1 WHERE email = $2"),
            [message, email],
        )
    await migrate(config=config)
    conn = db.connection()  # migrating opened new connections
    for row in await conn.execute_query_dict(
        "SELECT email, personal_message FROM invitations ORDER BY email"
    ):
        print(row["email"], repr(row["personal_message"]))
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


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


async def _run(script: str) -> str:
    """The script's output, run on a scratch database of its own."""
    result = subprocess.run(
        [sys.executable, "-c", _PRELUDE + script, await _scratch_database()],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


async def test_tokens_made_before_short_digests_keep_working() -> None:
    output = await _run(_TOKENS_KEEP_WORKING)
    assert "found: before@example.org" in output
    assert "titles per locale: {}" in output


async def test_migrating_back_to_0008_restores_long_digests_the_check_and_the_storage() -> None:
    output = await _run(_BACK_TO_0008)
    assert "digest kept: True" in output
    if DATABASE_KIND == "postgres":
        assert "two passes: True" in output
        # An upload is a zip: stored as it is (EXTERNAL), not compressed again (EXTENDED).
        assert "upload storage at the end: e" in output
        assert "upload storage at 0008: x" in output
        assert "trusts the writer at the end: True" in output


async def test_accounts_never_confirmed_become_registrations_without_sessions_or_grants() -> None:
    output = await _run(_UNCONFIRMED_BECOME_REGISTRATIONS)
    assert "users: ['known@example.org']" in output
    assert "registration: reader@example.org nl-BE Rea True True" in output
    assert "letter: accepted None" in output
    assert "sessions: 0" in output and "roles: 0" in output


async def test_personal_messages_stored_as_html_become_the_text_they_showed() -> None:
    output = await _run(_MESSAGES_BECOME_TEXT)
    assert (
        "html@example.org 'Hi there & welcome\\nSee the site (https://x.org/a)\\n- one\\n- two'"
        in output
    )
    assert "lost@example.org 'Vul  in bij het aanmelden.\\nOnthoud: 5 < 6 en 7 > 3, en a'" in output
    assert "plain@example.org 'Welcome!\\n\\nSee you'" in output
