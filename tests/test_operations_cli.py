"""The operators' commands, run as an operator runs them: a separate process on the same setup."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import httpx
from arq.connections import ArqRedis

from domain.models import ImportStatus, Invitation, InvitationImport
from tests.conftest import _free_port
from tests.fixtures import GraphQLClient, SmtpSink
from tests.import_helpers import HEADER, upload, workbook
from tests.invitations_helpers import create


async def invitations(*args: str, **env: str) -> tuple[int, str]:
    """Run `invitations ARGS` with the tests' settings (and `env` on top)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        *args,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_check_says_ok_for_each_part_and_names_what_is_wrong(
    database: None, redis: ArqRedis, smtp_sink: SmtpSink
) -> None:
    code, output = await invitations("check")
    assert code == 0, output
    for part in ("settings", "database", "migrations", "redis", "smtp"):
        assert any(line.startswith(part) and " OK " in line for line in output.splitlines()), (
            part,
            output,
        )
    assert "dkim" in output and "skip" in output

    closed = str(_free_port())
    code, output = await invitations(
        "check", INVITES_SMTP_PORT=closed, INVITES_REDIS_URL=f"redis://127.0.0.1:{closed}/0"
    )
    assert code == 1, output
    lines = {line.split()[0]: line for line in output.splitlines() if line.strip()}
    assert "FAIL" in lines["smtp"] and closed in lines["smtp"]
    assert "FAIL" in lines["redis"]
    assert " OK " in lines["database"]

    code, output = await invitations("check", INVITES_SMTP_PORT="not a port")
    assert code == 2 and "INVITES_SMTP_PORT" in output


async def test_invitations_are_listed_resent_and_deleted_from_the_command_line(
    admin: GraphQLClient, redis: ArqRedis
) -> None:
    created = await create(admin, ["ann@example.org", "bob@example.org"])
    ann, bob = (int(invitation["id"]) for invitation in created["invitations"])

    code, output = await invitations("invitations", "list")
    assert code == 0, output
    assert "ann@example.org" in output and "bob@example.org" in output
    assert "2 invitations." in output

    await redis.flushdb()
    code, output = await invitations("invitations", "resend", str(ann))
    assert code == 0, output
    resent = await Invitation.get(id=ann)
    assert resent.send_no == 2
    assert await redis.exists(f"arq:job:send:{ann}:2")

    code, output = await invitations("invitations", "delete", str(bob), "--yes")
    assert code == 0, output
    assert not await Invitation.filter(id=bob).exists()

    code, output = await invitations("invitations", "delete", str(bob), "--yes")
    assert code == 1 and "no such invitation" in output.lower()


async def test_a_failed_import_is_listed_and_run_again(
    admin: GraphQLClient, http: httpx.AsyncClient, redis: ArqRedis, run_worker: Any
) -> None:
    content = workbook(HEADER, ["dirk@example.org", "Dirk", "Peeters", "nl-BE", None, None])
    response = await upload(http, admin.token, content)
    import_id = int(response.json()["data"]["importInvitations"]["invitationImport"]["id"])
    # As if its worker died once too often: failed, its upload kept.
    await redis.flushdb()
    await InvitationImport.filter(id=import_id).update(status=ImportStatus.FAILED)

    code, output = await invitations("imports", "list", "--status", "failed")
    assert code == 0, output
    assert f"{import_id}  failed" in output and "invitations.xlsx" in output

    code, output = await invitations("imports", "retry", str(import_id))
    assert code == 0, output
    assert (await InvitationImport.get(id=import_id)).status is ImportStatus.QUEUED
    await run_worker()
    done = await InvitationImport.get(id=import_id)
    assert done.status is ImportStatus.DONE and done.invited_count == 1

    code, output = await invitations("imports", "retry", str(import_id))
    assert code == 1 and "done" in output
