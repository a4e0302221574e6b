"""The operators' commands, run as an operator runs them: a separate process on the same setup."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

import httpx
from arq.connections import ArqRedis

from domain.clock import clock
from domain.models import (
    DeliveryState,
    ImportStatus,
    Invitation,
    InvitationImport,
    InvitationStatus,
)
from tests.conftest import _free_port
from tests.fixtures import GraphQLClient, SmtpSink
from tests.import_helpers import HEADER, upload, workbook
from tests.invitations_helpers import GENERATE, create

# Beyond PostgreSQL's integer (2^31 - 1), and beyond SQLite's (2^63 - 1).
HUGE_IDS = ("2147483648", "99999999999999999999999")


async def invitations(*args: str, **env: str) -> tuple[int, str]:
    """Run `invitations ARGS` with the tests' settings (and `env` on top)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        *args,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **env},
        stdin=asyncio.subprocess.DEVNULL,
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


def lines_of(output: str) -> dict[str, str]:
    """`id: what happened` lines by id."""
    return {
        line.split(":", 1)[0]: line.split(":", 1)[1].strip()
        for line in output.splitlines()
        if ":" in line and line.split(":", 1)[0].isdigit()
    }


async def test_resend_says_what_happened_to_each_id_and_goes_on_past_the_ones_it_cannot(
    admin: GraphQLClient, redis: ArqRedis
) -> None:
    created = await create(admin, ["ann@example.org", "carl@example.org"])
    ann, carl = (int(invitation["id"]) for invitation in created["invitations"])
    letter = int(
        (await admin(GENERATE, {"count": 1}))["generateInvitationCodes"]["invitations"][0]["id"]
    )
    await Invitation.filter(id=carl).update(
        status=InvitationStatus.ACCEPTED, accepted_at=await clock.now()
    )
    await redis.flushdb()

    code, output = await invitations(
        "invitations", "resend", "999999", str(ann), str(carl), str(letter), *HUGE_IDS
    )
    assert code == 1, output
    assert "Traceback" not in output
    said = lines_of(output)
    assert said["999999"] == "there is no such invitation."
    assert said[str(ann)].startswith("will be sent again"), output
    assert "accepted already" in said[str(carl)]
    assert said[str(letter)].startswith("code only, so no mail"), output
    for huge in HUGE_IDS:
        assert said[huge] == "there is no such invitation.", output
    assert "2 invitations resent, 4 invitations not." in output
    # The ids after the unknown one were resent, and the mail's job is queued.
    assert (await Invitation.get(id=ann)).send_no == 2
    assert await redis.exists(f"arq:job:send:{ann}:2")
    assert (await Invitation.get(id=letter)).send_no == 2

    code, output = await invitations("invitations", "resend", str(ann))
    assert code == 0, output
    assert "1 invitation resent." in output


async def test_delete_says_what_happened_to_each_id_and_asks_in_good_english(
    admin: GraphQLClient, redis: ArqRedis
) -> None:
    created = await create(admin, ["ann@example.org", "bob@example.org", "carl@example.org"])
    ann, bob, carl = (int(invitation["id"]) for invitation in created["invitations"])
    await Invitation.filter(id=carl).update(
        status=InvitationStatus.ACCEPTED, accepted_at=await clock.now()
    )

    code, output = await invitations("invitations", "delete", str(ann))  # no answer: no
    assert code == 1 and "Delete 1 invitation? [y/N]" in output, output
    code, output = await invitations("invitations", "delete", str(ann), str(bob))
    assert code == 1 and "Delete 2 invitations? [y/N]" in output, output
    assert await Invitation.filter(id__in=[ann, bob]).count() == 2

    code, output = await invitations(
        "invitations", "delete", str(ann), "999999", str(carl), str(bob), *HUGE_IDS, "--yes"
    )
    assert code == 1, output
    assert "Traceback" not in output
    said = lines_of(output)
    assert said[str(ann)] == "deleted." and said[str(bob)] == "deleted."
    assert said["999999"].startswith("there is no such invitation"), output
    for huge in HUGE_IDS:
        assert said[huge].startswith("there is no such invitation"), output
    assert "accepted invitations stay as the record" in said[str(carl)]
    assert "2 invitations deleted, 4 invitations not." in output
    assert not await Invitation.filter(id__in=[ann, bob]).exists()
    assert await Invitation.filter(id=carl).exists()


async def test_the_list_has_a_header_filters_by_delivery_and_knows_its_imports(
    admin: GraphQLClient, redis: ArqRedis
) -> None:
    created = await create(admin, ["ann@example.org", "bob@example.org"])
    bob = int(created["invitations"][1]["id"])
    await Invitation.filter(id=bob).update(delivery_state=DeliveryState.FAILED)

    code, output = await invitations("invitations", "list", "--delivery", "failed")
    assert code == 0, output
    header, *rows = output.splitlines()
    assert header.split() == ["id", "status", "delivery", "address", "created", "expires"]
    assert len(rows) == 2 and "bob@example.org" in rows[0] and rows[1] == "1 invitation."

    code, output = await invitations("invitations", "list", "--delivery", "lost")
    assert code == 2 and "--delivery: one of" in output

    for unknown in ("999999", *HUGE_IDS):
        code, output = await invitations("invitations", "list", "--import", unknown)
        assert code == 1 and output.strip() == "There is no such import.", output

    code, output = await invitations("invitations", "list", "--help")
    words = " ".join(output.replace("│", " ").split())  # the help's lines, boxed and wrapped
    assert (
        "The start of an email address, a first name, a last name or a full name (of the person"
        " who registered with a letter too), a letter's whole code, or its number." in words
    )


async def test_an_import_whose_rows_are_wrong_is_not_run_again_and_huge_ids_are_unknown(
    admin: GraphQLClient, http: httpx.AsyncClient, redis: ArqRedis, run_worker: Any
) -> None:
    content = workbook(HEADER, ["not-an-email", "Dirk", "Peeters", "nl-BE", None, None])
    response = await upload(http, admin.token, content)
    import_id = int(response.json()["data"]["importInvitations"]["invitationImport"]["id"])
    await run_worker()
    assert (await InvitationImport.get(id=import_id)).status is ImportStatus.FAILED

    code, output = await invitations("imports", "retry", str(import_id))
    assert code == 1, output
    assert "problems in its file (first: row 2:" in output
    assert "upload the file again" in output
    assert (await InvitationImport.get(id=import_id)).status is ImportStatus.FAILED

    code, output = await invitations("imports", "list")
    assert output.splitlines()[0].split() == [
        "id",
        "status",
        "rows",
        "invited",
        "problems",
        "created",
        "file",
    ]
    assert "1 import." in output

    for unknown in ("999999", *HUGE_IDS):
        code, output = await invitations("imports", "retry", unknown)
        assert code == 1 and output.strip() == "There is no such import.", output


async def test_without_redis_listing_works_and_changes_stop_in_one_line(
    admin: GraphQLClient, redis: ArqRedis
) -> None:
    created = await create(admin, ["ann@example.org"])
    ann = int(created["invitations"][0]["id"])
    port = _free_port()
    down = {"INVITES_REDIS_URL": f"redis://:redis-secret@127.0.0.1:{port}/3"}

    code, output = await invitations("invitations", "list", **down)
    assert code == 0 and "ann@example.org" in output, output
    code, output = await invitations("imports", "list", **down)
    assert code == 0, output

    for command in (
        ("invitations", "resend", str(ann)),
        ("invitations", "delete", str(ann), "--yes"),
        ("imports", "retry", "1"),
        ("worker", "--check"),
    ):
        code, output = await invitations(*command, **down)
        assert code == 1, (command, output)
        assert (
            output.strip() == f"Redis at 127.0.0.1:{port}/3 does not answer (connection refused)."
        ), (
            command,
            output,
        )
    invitation = await Invitation.get(id=ann)
    assert invitation.send_no == 1

    here = {"HOSTNAME": "worker-one"}
    code, output = await invitations("worker", "--check", **here)  # Redis answers; no worker
    assert code == 1
    assert output.strip() == (
        "The worker on worker-one has not reported in the last 61 s on Redis at "
        + os.environ["INVITES_REDIS_URL"].split("://")[-1]
        + "."
    )

    # Another host's worker, or arq's shared key, says nothing of this one.
    await redis.set("arq:queue:health-check", "j_complete=1 j_failed=0", ex=61)
    await redis.set("arq:queue:health-check:worker-two", "j_complete=1 j_failed=0", ex=61)
    code, output = await invitations("worker", "--check", **here)
    assert code == 1, output

    await redis.set("arq:queue:health-check:worker-one", "j_complete=1 j_failed=0", ex=61)
    code, output = await invitations("worker", "--check", **here)
    assert code == 0 and "j_complete=1" in output, output


async def test_without_the_database_commands_stop_in_one_line(database: None) -> None:
    port = _free_port()
    code, output = await invitations(
        "invitations",
        "list",
        INVITES_DATABASE_URL=f"postgres://postgres:db-secret@127.0.0.1:{port}/invitations",
    )
    assert code == 1, output
    assert output.strip() == (
        f"The database at 127.0.0.1:{port}/invitations does not answer (connection refused)."
    )


async def test_malformed_redis_and_database_urls_are_bad_settings(database: None) -> None:
    code, output = await invitations("check", INVITES_REDIS_URL="notaurl")
    assert code == 2, output
    assert "INVITES_REDIS_URL: Value error, must be a redis://, rediss:// or unix:// URL" in output
    assert "Traceback" not in output

    code, output = await invitations("check", INVITES_DATABASE_URL="mysql://user:pw@db/invitations")
    assert code == 2, output
    assert "INVITES_DATABASE_URL: Value error, must be empty (SQLite" in output
    assert "pw@" not in output


async def test_a_stuck_worker_fails_its_own_check_while_another_replica_is_alive(
    database: None, redis: ArqRedis
) -> None:
    beat = {"INVITES_WORKER_HEARTBEAT_SECONDS": "1", "INVITES_LOG_LEVEL": "WARNING"}
    workers = {
        name: await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli",
            "worker",
            env={**os.environ, **beat, "HOSTNAME": name},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for name in ("replica-a", "replica-b")
    }

    async def healthy(name: str) -> bool:
        code, output = await invitations("worker", "--check", HOSTNAME=name, **beat)
        assert code == 0 or "has not reported in the last 2 s" in output, output
        return code == 0

    async def until(name: str, wanted: bool) -> None:
        deadline = asyncio.get_running_loop().time() + 60
        while asyncio.get_running_loop().time() < deadline:
            if await healthy(name) == wanted:
                return
            await asyncio.sleep(0.25)
        raise AssertionError(f"{name} never became {'healthy' if wanted else 'unhealthy'}")

    try:
        await until("replica-a", True)
        await until("replica-b", True)
        workers["replica-a"].send_signal(signal.SIGSTOP)  # hung: alive, but does nothing
        await until("replica-a", False)
        assert await healthy("replica-b")
    finally:
        for process in workers.values():
            process.send_signal(signal.SIGCONT)
            process.terminate()
        for process in workers.values():
            await asyncio.wait_for(process.wait(), timeout=30)


async def test_commands_that_start_on_the_database_say_in_one_line_that_it_does_not_answer(
    database: None,
) -> None:
    port = _free_port()
    down = {"INVITES_DATABASE_URL": f"postgres://postgres:hunter2@127.0.0.1:{port}/x"}
    for command in (
        ("migrate",),
        ("serve", "--port", str(_free_port())),
        ("worker",),
        ("create-admin", "ada@example.org", "--password", "-"),
        ("rotate-keys",),
    ):
        code, output = await invitations(*command, **down)
        assert code == 1, (command, output)
        assert output.strip() == (
            f"The database at 127.0.0.1:{port}/x does not answer (connection refused)."
        ), (command, output)


async def test_help_screens_show_no_value_after_a_flag() -> None:
    for command in (("--help",), ("worker", "--help"), ("invitations", "delete", "--help")):
        code, output = await invitations(*command)
        assert code == 0, output
        assert "<bool>" not in output, output
        help_line = next(line for line in output.splitlines() if "--help" in line)
        assert help_line.split() == ["--help", "Show", "this", "message", "and", "exit."]


async def test_create_admin_without_a_terminal_says_how_to_give_the_password(
    database: None,
) -> None:
    code, output = await invitations("create-admin", "ada@example.org")  # stdin: not a terminal
    assert code == 2, output
    assert "--password -" in output and "stdin" in output, output
    assert "echoed" not in output and "Aborted" not in output, output
