"""Several API processes and several workers on one database and one Redis, as production runs
them (README, "Production"): every invitation is sent once, an import runs once, and the
sweeps the workers all run (at start-up and on their cron) do each piece of work once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from domain.clock import clock
from domain.models import DeliveryState, ImportStatus, Invitation, InvitationImport
from domain.users.service import create_admin, open_session
from tests.fixtures import SmtpSink, wait_for
from tests.import_helpers import HEADER, upload, workbook
from tests.invitations_helpers import CREATE, new_invitation, store_invitations
from tests.mail_relay import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("database")


@contextmanager
def processes(
    *commands: list[str], env: dict[str, str] | None = None
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`invitations ...` commands in processes of their own (the test's settings, and `env`),
    stopped as an orchestrator stops them (SIGTERM) at the end."""
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "cli", *command],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in commands
    ]
    try:
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(base_url=url) as client:
        while time.monotonic() < deadline:
            assert process.poll() is None, f"the API exited with code {process.returncode}"
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not answer /health within 120 s")


async def _leftovers() -> tuple[int, int]:
    """An invitation whose send was lost (queued in the database, no job in Redis, past due)
    and one whose reminder is due: only the workers' sweeps find them."""
    lost, reminded = await store_invitations(
        [
            new_invitation("lost@example.org", send_email=True),
            new_invitation("remind@example.org", send_email=True),
        ]
    )
    now = await clock.now()
    await Invitation.filter(id=lost).update(send_due_at=now - timedelta(minutes=5))
    await Invitation.filter(id=reminded).update(
        delivery_state=DeliveryState.SENT,
        sent_at=now - timedelta(days=4),
        send_due_at=None,
        send_no=1,
        reminded_send_no=0,
    )
    return lost, reminded


async def test_two_apis_and_two_workers_send_each_invitation_once_and_import_once(
    redis: ArqRedis, smtp_sink: SmtpSink
) -> None:
    admin = await create_admin(email="admin@participate.example.org", password="scale out 2026")
    token = (await open_session(admin)).token
    await _leftovers()
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    by_api = [[f"api{n}.person{i}@example.org" for i in range(8)] for n in range(2)]
    imported = [f"imported{i}@example.org" for i in range(6)]
    serve = [["serve", "--host", "127.0.0.1", "--port", str(port)] for port in ports]
    with processes(*serve, ["worker"], ["worker"]) as started:
        for url, process in zip(urls, started, strict=False):
            await until_up(url, process)
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx.AsyncClient(base_url=urls[0], headers=headers, timeout=30) as first,
            httpx.AsyncClient(base_url=urls[1], headers=headers, timeout=30) as second,
        ):

            async def invite(client: httpx.AsyncClient, emails: list[str]) -> Any:
                response = await client.post(
                    "/graphql",
                    json={"query": CREATE, "variables": {"input": {"emails": emails}}},
                )
                assert response.status_code == 200, response.text
                return response.json()["data"]["createInvitations"]

            # Both APIs at once, half of each list at a time.
            created = await asyncio.gather(
                *(
                    invite(client, emails[half::2])
                    for client, emails in ((first, by_api[0]), (second, by_api[1]))
                    for half in (0, 1)
                )
            )
            assert [result["invitedCount"] for result in created] == [4, 4, 4, 4]
            response = await upload(second, None, workbook(HEADER, *([e] for e in imported)))
            assert response.status_code == 200, response.text
            assert not response.json()["data"]["importInvitations"]["errors"]

        everyone = [*by_api[0], *by_api[1], *imported, "lost@example.org", "remind@example.org"]
        await wait_for(lambda: len(smtp_sink.mails) >= len(everyone), timeout=60)
        # Every worker swept at start-up; wait for the next sweep of the cron (every 20 s)
        # and a little more, in case anything were to come twice.
        await asyncio.sleep(20 - time.time() % 20 + 3)
        assert all(process.poll() is None for process in started), "a process died"

    counted = Counter(recipient for mail in smtp_sink.mails for recipient in mail.recipients)
    assert counted == Counter(everyone)
    reminded = await Invitation.get(email="remind@example.org")
    assert reminded.reminded_send_no == 1 and reminded.reminded_at is not None
    [record] = await InvitationImport.all()
    assert record.status is ImportStatus.DONE and record.runs == 1
    assert record.invited_count == len(imported)
    assert await Invitation.filter(delivery_state=DeliveryState.SENT).count() == len(everyone)


async def test_metrics_of_several_api_processes_behind_one_port_are_answered_together(
    tmp_path: Path,
) -> None:
    """docs/operations.md: with PROMETHEUS_MULTIPROC_DIR, /metrics of any process answers for
    every one of them (the counts are summed)."""
    environment = {
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "INVITES_METRICS_TOKEN": "scrape-token",
    }
    ports = [free_port(), free_port()]
    serving = [["serve", "--port", str(port)] for port in ports]
    with processes(*serving, env=environment) as started:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process in zip(urls, started, strict=True):
            await until_up(url, process)
        for url, times in zip(urls, (2, 3), strict=True):
            async with httpx.AsyncClient(base_url=url) as client:
                for _ in range(times):
                    answer = await client.post("/graphql", json={"query": "{ me { id } }"})
                    assert answer.json() == {"data": {"me": None}}
        for url in urls:
            async with httpx.AsyncClient(base_url=url) as client:
                scraped = await client.get(
                    "/metrics", headers={"Authorization": "Bearer scrape-token"}
                )
            assert scraped.status_code == 200
            line = next(
                line
                for line in scraped.text.splitlines()
                if line.startswith("invitations_graphql_requests_total{")
                and 'operation="me"' in line
                and 'outcome="ok"' in line
            )
            assert float(line.rsplit(" ", 1)[1]) == 5.0, line
